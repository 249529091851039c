// hn_drain: retires finished tiles.  On capture_i it copies the DM x DN
// array accumulators and the tile's row descriptors into shadow registers
// (so the array continues with the next tile) and then retires two rows per
// cycle (ND = ceil(DM/2) cycles per tile), or one row per cycle in a job
// with binary +-1 filters (pm1_i: ND = DM).  A filter's rows are its weight
// planes, MSB plane first, and are consecutive in the drain order (row
// tiles of one pixel tile follow each other), so the weight-plane
// significance is applied Horner-style in one running int32 register per
// column, without a shifter; per row:
//
//   v = first ? -acc : 2*v + acc        (first: the MSB plane, -2^(b_w-1))
//   if (last) result[{pt, filt}][n] = v (last: plane 0)
//
// Rows 2r and 2r+1 are chained in one cycle.  Every multi-bit filter has
// >= 2 rows, so at most one of the pair is a last row: one result write
// per cycle.
//
// +-1 filters (pm1_i): as 2-bit two's complement (+1 = 01, -1 = 11) the
// plane-0 row of every such filter is all ones and computes ones = sum(a),
// the same for all of them.  So row 0 of the first row tile is one shared
// all-ones row {valid 0, first 1}: its sums are kept per column in ones_q
// (for the pixel tile's later row tiles too), and a +-1 filter is its sign
// row alone {valid, first, last}: v = ones - 2*acc.  Those rows write a
// result each, hence one row per cycle.
// A row descriptor (META_W = FILT_W + 3 bits) is {valid, first, last,
// filt[FILT_W-1:0]}.  Results go to a plain write port (block RAM).
module hn_drain #(
  parameter int unsigned DM     = 4,
  parameter int unsigned DN     = 16,
  parameter int unsigned ACC_W  = 20,
  parameter int unsigned FILT_W = 7,
  parameter int unsigned PT_W   = 6,
  parameter int unsigned META_W = FILT_W + 3
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  input  logic                     capture_i,
  input  logic                     pm1_i,     // stable while a job runs
  input  logic [DM*DN*ACC_W-1:0]   acc_i,     // (DM, DN)
  input  logic [DM*META_W-1:0]     meta_i,    // (DM)
  input  logic [PT_W-1:0]          pt_i,
  output logic                     busy_o,
  // result memory write port: address {pt, filter}, DN int32 values
  output logic                     mem_we_o,
  output logic [FILT_W+PT_W-1:0]   mem_addr_o,
  output logic [DN*32-1:0]         mem_wdata_o
);
  localparam int unsigned ND2   = (DM + 1) / 2;  // drain cycles per tile
  localparam int unsigned ROW_W = $clog2(DM) + 1;

  logic [DM*DN*ACC_W-1:0] acc_q;
  logic [DM*META_W-1:0]   meta_q;
  logic [PT_W-1:0]        pt_q;
  logic                   busy_q;
  logic [ROW_W-1:0]       row_q;      // row pair (row, pm1) being retired
  logic [ROW_W-1:0]       row_end;    // its last value
  logic [DN*32-1:0]       run_q, mid_d, run_d;
  logic [DN*32-1:0]       ones_q, ones_d;  // sums of the all-ones row
  logic                   a_ones;          // row a is the all-ones row

  // descriptors of the pair (row 2r = a, row 2r+1 = b; b may not exist)
  logic [META_W-1:0]      meta_a, meta_b;
  logic                   a_valid, a_first, a_last, b_valid, b_first, b_last;
  logic [FILT_W-1:0]      a_filt, b_filt;

  // row a: 2*row_q (pairs) or row_q (pm1); row b: 2*row_q+1 (pairs only)
  function automatic logic is_a(logic [ROW_W-1:0] r, logic pm1, int m);
    return pm1 ? (r == ROW_W'(m)) : (r == ROW_W'(m / 2) && m % 2 == 0);
  endfunction
  function automatic logic is_b(logic [ROW_W-1:0] r, logic pm1, int m);
    return !pm1 && r == ROW_W'(m / 2) && m % 2 == 1;
  endfunction

  assign row_end = pm1_i ? ROW_W'(DM - 1) : ROW_W'(ND2 - 1);

  always_comb begin
    meta_a = '0;
    meta_b = '0;
    for (int m = 0; m < DM; m++) begin
      if (is_a(row_q, pm1_i, m)) meta_a = meta_q[m*META_W +: META_W];
      if (is_b(row_q, pm1_i, m)) meta_b = meta_q[m*META_W +: META_W];
    end
  end
  assign a_filt  = meta_a[FILT_W-1:0];
  assign a_last  = meta_a[FILT_W];
  assign a_first = meta_a[FILT_W + 1];
  assign a_valid = meta_a[FILT_W + 2];
  assign b_filt  = meta_b[FILT_W-1:0];
  assign b_last  = meta_b[FILT_W];
  assign b_first = meta_b[FILT_W + 1];
  assign b_valid = meta_b[FILT_W + 2];
  assign a_ones  = pm1_i && !a_valid && a_first;

  // One Horner step: first ? -a : 2*prev + a, as one adder (-a = ~a + 1);
  // bit 31 of prev shifts out: int32 arithmetic.
  function automatic logic [31:0] horner(logic [30:0] prev, logic [ACC_W-1:0] a,
                                         logic first);
    logic [31:0] opa, opb;
    opa = first ? 32'd0 : {prev, 1'b0};
    opb = 32'(a) ^ {32{first}};
    return opa + opb + 32'(first);
  endfunction

  // ones - 2*acc (int32)
  function automatic logic [31:0] pm1_row(logic [31:0] ones, logic [ACC_W-1:0] a);
    return ones - {31'(a), 1'b0};
  endfunction

  always_comb begin
    logic [ACC_W-1:0] aa, ab;
    logic [31:0]      va;
    for (int n = 0; n < DN; n++) begin
      aa = '0;
      ab = '0;
      for (int m = 0; m < DM; m++) begin
        if (is_a(row_q, pm1_i, m)) aa = acc_q[(m*DN+n)*ACC_W +: ACC_W];
        if (is_b(row_q, pm1_i, m)) ab = acc_q[(m*DN+n)*ACC_W +: ACC_W];
      end
      ones_d[n*32 +: 32] = a_ones ? 32'(aa) : ones_q[n*32 +: 32];
      if (pm1_i && a_valid && a_first && a_last)
        va = pm1_row(ones_q[n*32 +: 32], aa);
      else
        va = a_valid ? horner(run_q[n*32 +: 31], aa, a_first) : run_q[n*32 +: 32];
      mid_d[n*32 +: 32] = va;
      run_d[n*32 +: 32] = b_valid ? horner(va[30:0], ab, b_first) : va;
    end
  end

  assign mem_wdata_o = (a_valid && a_last) ? mid_d : run_d;
  assign mem_addr_o  = {pt_q, (a_valid && a_last) ? a_filt : b_filt};
  assign mem_we_o    = busy_q && ((a_valid && a_last) || (b_valid && b_last));
  assign busy_o      = busy_q;

  always_ff @(posedge clk_i) begin
    if (capture_i) begin
      acc_q  <= acc_i;
      meta_q <= meta_i;
      pt_q   <= pt_i;
    end
    if (busy_q && a_valid) run_q <= run_d;
    if (busy_q && a_ones) ones_q <= ones_d;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      row_q  <= '0;
    end else if (capture_i) begin
      busy_q <= 1'b1;
      row_q  <= '0;
    end else if (busy_q) begin
      row_q <= row_q + 1'b1;
      if (row_q == row_end) busy_q <= 1'b0;
    end
  end

`ifndef SYNTHESIS
  if (ACC_W > 31 || ACC_W < 2) begin : g_bad_acc_w
    $fatal(1, "hn_drain: ACC_W must be 2..31");
  end
  if (META_W != FILT_W + 3) begin : g_bad_meta_w
    $fatal(1, "hn_drain: META_W must be FILT_W + 3");
  end
  // Protocol: a tile is captured only when the previous one is retired (or
  // retires its last row pair this very cycle).
  always_ff @(posedge clk_i) begin
    if (rst_ni && capture_i)
      assert (!busy_q || row_q == row_end) else $error("hn_drain: capture while busy");
    if (rst_ni && busy_q && a_valid && !pm1_i)
      assert (!(a_first && a_last)) else $error("hn_drain: a filter needs >= 2 weight planes");
    if (rst_ni && busy_q && b_valid)
      assert (!(b_first && b_last) && !(a_valid && a_last && b_last))
        else $error("hn_drain: a filter needs >= 2 weight planes");
    if (rst_ni && busy_q && b_valid)
      assert (a_valid) else $error("hn_drain: rows are valid as a prefix");
    if (rst_ni && busy_q && !pm1_i && !a_valid)
      assert (!a_first) else $error("hn_drain: an all-ones row outside a pm1 job");
  end
`endif
endmodule
