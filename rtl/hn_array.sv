// hn_array: DM x DN dot-product units.  Row m holds one weight bit-plane
// (of one filter) per tile, column n one output pixel; every cycle all DPUs
// consume one DK-bit word: row m's weight word is broadcast along the row,
// column n's activation word down the column.
//
// w_i, a_i, split_i and the control flags arrive in the same cycle; the
// flags are delayed here by the DPU popcount stage (shared by all DPUs).
// split_i (packed steps): lanes below it belong to the previous activation
// step (hn_dpu lo_i); 0 for every other word.
// acc_o: (DM, DN) accumulators, row-major, ACC_W bits each, valid two
// cycles after the words.
module hn_array #(
  parameter int unsigned DM    = 4,
  parameter int unsigned DN    = 16,
  parameter int unsigned DK    = 16,
  parameter int unsigned ACC_W = 20,
  parameter int unsigned SPL_W = 4    // bits of split_i: $clog2(DK), >= 1
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      valid_i,
  input  logic                      clear_i,
  input  logic                      shift_i,
  input  logic [DM*DK-1:0]          w_i,    // (DM, DK): row m at [m*DK +: DK]
  input  logic [DN*DK-1:0]          a_i,    // (DN, DK): column n at [n*DK +: DK]
  input  logic [SPL_W-1:0]          split_i,
  output logic [DM*DN*ACC_W-1:0]    acc_o   // (DM, DN)
);
  logic valid_q, clear_q, shift_q;
  logic [DK-1:0] lo;

  always_comb begin
    for (int l = 0; l < DK; l++) lo[l] = (32'(l) < 32'(split_i));
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      clear_q <= 1'b0;
      shift_q <= 1'b0;
    end else begin
      valid_q <= valid_i;
      clear_q <= clear_i & valid_i;
      shift_q <= shift_i & valid_i;
    end
  end

  for (genvar m = 0; m < DM; m++) begin : g_row
    for (genvar n = 0; n < DN; n++) begin : g_col
      hn_dpu #(
        .DK    (DK),
        .ACC_W (ACC_W)
      ) u_dpu (
        .clk_i   (clk_i),
        .rst_ni  (rst_ni),
        .valid_i (valid_q),
        .clear_i (clear_q),
        .shift_i (shift_q),
        .w_i     (w_i[m*DK +: DK]),
        .a_i     (a_i[n*DK +: DK]),
        .lo_i    (lo),
        .acc_o   (acc_o[(m*DN+n)*ACC_W +: ACC_W])
      );
    end
  end

`ifndef SYNTHESIS
  if (DM < 1 || DN < 1) begin : g_bad_dims
    $fatal(1, "hn_array: DM and DN must be >= 1");
  end
  if (SPL_W < 1 || (1 << SPL_W) < DK) begin : g_bad_spl_w
    $fatal(1, "hn_array: SPL_W must be >= 1 and address DK lanes");
  end
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!(clear_i && shift_i)) else $error("hn_array: clear_i and shift_i together");
    end
  end
`endif
endmodule
