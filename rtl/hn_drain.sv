// hn_drain: retires finished tiles.  On capture_i it copies the DM x DN
// array accumulators and the tile's row descriptors into shadow registers
// (so the array continues with the next tile) and then retires one row per
// cycle.  A filter's rows are its weight planes, MSB plane first, and are
// consecutive in the drain order (row tiles of one pixel tile follow each
// other), so the weight-plane significance is applied Horner-style in one
// running int32 register per column, without a shifter:
//
//   v = first ? -acc : 2*v + acc        (first: the MSB plane, -2^(b_w-1))
//   if (last) result[{pt, filt}][n] = v (last: plane 0)
//
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
  input  logic [DM*DN*ACC_W-1:0]   acc_i,     // (DM, DN)
  input  logic [DM*META_W-1:0]     meta_i,    // (DM)
  input  logic [PT_W-1:0]          pt_i,
  output logic                     busy_o,
  // result memory write port: address {pt, filter}, DN int32 values
  output logic                     mem_we_o,
  output logic [FILT_W+PT_W-1:0]   mem_addr_o,
  output logic [DN*32-1:0]         mem_wdata_o
);
  localparam int unsigned ROW_W = $clog2(DM) + 1;

  logic [DM*DN*ACC_W-1:0] acc_q;
  logic [DM*META_W-1:0]   meta_q;
  logic [PT_W-1:0]        pt_q;
  logic                   busy_q;
  logic [ROW_W-1:0]       row_q;
  logic [DN*32-1:0]       run_q, run_d;

  logic [META_W-1:0]      meta_row;
  logic                   row_valid, row_first, row_last;
  logic [FILT_W-1:0]      row_filt;

  always_comb begin
    meta_row = '0;
    for (int m = 0; m < DM; m++)
      if (row_q == ROW_W'(m)) meta_row = meta_q[m*META_W +: META_W];
  end
  assign row_filt  = meta_row[FILT_W-1:0];
  assign row_last  = meta_row[FILT_W];
  assign row_first = meta_row[FILT_W + 1];
  assign row_valid = meta_row[FILT_W + 2];

  always_comb begin
    logic [ACC_W-1:0] a;
    logic [30:0]      prev;
    logic [31:0]      opa, opb;
    for (int n = 0; n < DN; n++) begin
      a = '0;
      for (int m = 0; m < DM; m++)
        if (row_q == ROW_W'(m)) a = acc_q[(m*DN+n)*ACC_W +: ACC_W];
      prev = run_q[n*32 +: 31];  // bit 31 shifts out: int32 arithmetic
      // first ? -a : 2*prev + a, as one adder: -a = ~a + 1
      opa = row_first ? 32'd0 : {prev, 1'b0};
      opb = 32'(a) ^ {32{row_first}};
      run_d[n*32 +: 32] = opa + opb + 32'(row_first);
    end
  end

  assign mem_wdata_o = run_d;
  assign mem_addr_o  = {pt_q, row_filt};
  assign mem_we_o    = busy_q && row_valid && row_last;
  assign busy_o      = busy_q;

  always_ff @(posedge clk_i) begin
    if (capture_i) begin
      acc_q  <= acc_i;
      meta_q <= meta_i;
      pt_q   <= pt_i;
    end
    if (busy_q && row_valid) run_q <= run_d;
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
      if (row_q == ROW_W'(DM - 1)) busy_q <= 1'b0;
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
  // retires its last row this very cycle).
  always_ff @(posedge clk_i) begin
    if (rst_ni && capture_i)
      assert (!busy_q || row_q == ROW_W'(DM - 1)) else $error("hn_drain: capture while busy");
    if (rst_ni && busy_q && row_valid)
      assert (!(row_first && row_last)) else $error("hn_drain: a filter needs >= 2 weight planes");
  end
`endif
endmodule
