// hn_drain: retires a finished tile.  On capture_i it copies the DM x DN
// array accumulators and the tile's row descriptors into shadow registers
// (so the array continues with the next tile), then writes one row per
// cycle into hn_accmem:
//
//   v = zero_extend(acc) << wshift;  if (neg) v = -v;
//   mem[{pt, filt}][n] = first ? v : mem[{pt, filt}][n] + v
//
// A row descriptor (META_W bits) is {valid, first, neg, wshift[2:0],
// filt[FILT_W-1:0]}: the row holds weight plane `wshift` of filter `filt`,
// `neg` marks the two's-complement MSB plane (significance -2^(b_w-1)), and
// `first` the filter's first plane, which overwrites instead of adding.
module hn_drain #(
  parameter int unsigned DM     = 4,
  parameter int unsigned DN     = 16,
  parameter int unsigned ACC_W  = 20,
  parameter int unsigned FILT_W = 7,
  parameter int unsigned PT_W   = 6,
  parameter int unsigned META_W = FILT_W + 6
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  input  logic                     capture_i,
  input  logic [DM*DN*ACC_W-1:0]   acc_i,     // (DM, DN)
  input  logic [DM*META_W-1:0]     meta_i,    // (DM)
  input  logic [PT_W-1:0]          pt_i,
  output logic                     busy_o,
  // accumulator memory RMW port
  output logic [FILT_W+PT_W-1:0]   mem_addr_o,
  input  logic [DN*32-1:0]         mem_rdata_i,
  output logic                     mem_we_o,
  output logic [DN*32-1:0]         mem_wdata_o
);
  localparam int unsigned ROW_W = $clog2(DM) + 1;

  logic [DM*DN*ACC_W-1:0] acc_q;
  logic [DM*META_W-1:0]   meta_q;
  logic [PT_W-1:0]        pt_q;
  logic                   busy_q;
  logic [ROW_W-1:0]       row_q;

  logic [META_W-1:0]      meta_row;
  logic                   row_valid, row_first, row_neg;
  logic [2:0]             row_wshift;
  logic [FILT_W-1:0]      row_filt;

  always_comb begin
    meta_row = '0;
    for (int m = 0; m < DM; m++)
      if (row_q == ROW_W'(m)) meta_row = meta_q[m*META_W +: META_W];
  end
  assign row_filt   = meta_row[FILT_W-1:0];
  assign row_wshift = meta_row[FILT_W +: 3];
  assign row_neg    = meta_row[FILT_W + 3];
  assign row_first  = meta_row[FILT_W + 4];
  assign row_valid  = meta_row[FILT_W + 5];

  always_comb begin
    logic [ACC_W-1:0] a;
    logic [31:0]      v;
    for (int n = 0; n < DN; n++) begin
      a = '0;
      for (int m = 0; m < DM; m++)
        if (row_q == ROW_W'(m)) a = acc_q[(m*DN+n)*ACC_W +: ACC_W];
      v = 32'(a) << row_wshift;
      if (row_neg) v = -v;
      mem_wdata_o[n*32 +: 32] = row_first ? v : mem_rdata_i[n*32 +: 32] + v;
    end
  end

  assign mem_addr_o = {pt_q, row_filt};
  assign mem_we_o   = busy_q && row_valid;
  assign busy_o     = busy_q;

  always_ff @(posedge clk_i) begin
    if (capture_i) begin
      acc_q  <= acc_i;
      meta_q <= meta_i;
      pt_q   <= pt_i;
    end
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
  if (ACC_W + 7 > 31) begin : g_bad_acc_w
    $fatal(1, "hn_drain: ACC_W + 7 must fit a signed 32-bit accumulator");
  end
  if (META_W != FILT_W + 6) begin : g_bad_meta_w
    $fatal(1, "hn_drain: META_W must be FILT_W + 6");
  end
  // Protocol: a tile is captured only when the previous one is retired (or
  // retires its last row this very cycle).
  always_ff @(posedge clk_i) begin
    if (rst_ni && capture_i)
      assert (!busy_q || row_q == ROW_W'(DM - 1)) else $error("hn_drain: capture while busy");
  end
`endif
endmodule
