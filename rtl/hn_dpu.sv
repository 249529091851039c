// hn_dpu: one dot-product unit (DPU) of the bit-serial array.
//
// Each valid cycle it ANDs a DK-bit weight bit-plane word with a DK-bit
// activation bit-plane word, counts the ones (stage 1, registered) and adds
// the count into an unsigned accumulator (stage 2).  Activation planes arrive
// MSB plane first, so the plane significance is applied Horner-style: the
// first word of each lower plane doubles the running sum (shift_i).  The
// weight plane's significance and sign are applied later, once per tile, by
// hn_drain, so the DPU needs neither a barrel shifter nor a negator.
//
// Packed steps (issue 7): a word may carry the tail of one activation step
// (lanes set in lo_i) and the head of the next.  Its shift then doubles the
// old step's lanes too: sum := 2*(sum + pc_lo) + pc_hi = 2*sum + pc + pc_lo,
// so the DPU counts the lo_i lanes a second time (one more popcount).
//
// Timing: w_i/a_i/lo_i at cycle t, valid_i/clear_i/shift_i at cycle t+1
// (the array delays the control by the popcount stage), acc_o valid at t+2.
module hn_dpu #(
  parameter int unsigned DK    = 16,  // binary lanes per DPU
  parameter int unsigned ACC_W = 20   // unsigned partial-sum width
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             valid_i,  // pc of a word pair is ready this cycle
  input  logic             clear_i,  // first word of a tile: sum := pc
  input  logic             shift_i,  // first word of a lower plane: sum := 2*sum + pc
  input  logic [DK-1:0]    w_i,
  input  logic [DK-1:0]    a_i,
  input  logic [DK-1:0]    lo_i,     // lanes of the previous step (with shift)
  output logic [ACC_W-1:0] acc_o
);
  localparam int unsigned PC_W = $clog2(DK + 1);
  // Lanes are counted in groups of three (one LUT6 per output bit of a
  // group), then the group counts are summed.
  localparam int unsigned NG = (DK + 2) / 3;

  logic [DK-1:0]     and_w, and_lo;
  logic [1:0]        grp_cnt [NG];
  logic [PC_W-1:0]   pc_d, pc_q, plo_d, plo_q;
  logic [ACC_W-1:0]  acc_d, acc_q, base;

  assign and_w  = w_i & a_i;
  assign and_lo = and_w & lo_i;

  always_comb begin
    for (int g = 0; g < NG; g++) begin
      grp_cnt[g] = 2'(and_w[3 * g]);
      if (3 * g + 1 < DK) grp_cnt[g] = grp_cnt[g] + 2'(and_w[3 * g + 1]);
      if (3 * g + 2 < DK) grp_cnt[g] = grp_cnt[g] + 2'(and_w[3 * g + 2]);
    end
    pc_d = '0;
    for (int g = 0; g < NG; g++) pc_d = pc_d + PC_W'(grp_cnt[g]);
    plo_d = '0;
    for (int l = 0; l < DK; l++) plo_d = plo_d + PC_W'(and_lo[l]);
  end

  always_comb begin
    if (clear_i)      base = '0;
    else if (shift_i) base = {acc_q[ACC_W-2:0], 1'b0} + ACC_W'(plo_q);
    else              base = acc_q;
    acc_d = base + ACC_W'(pc_q);
  end

  // Datapath registers need no reset: clear_i starts every tile.
  always_ff @(posedge clk_i) begin
    pc_q  <= pc_d;
    plo_q <= plo_d;
    if (valid_i) acc_q <= acc_d;
  end

  assign acc_o = acc_q;

`ifndef SYNTHESIS
  // Illegal parameters are rejected at elaboration.
  if (DK < 1) begin : g_bad_dk
    $fatal(1, "hn_dpu: DK must be >= 1");
  end
  if (ACC_W <= PC_W) begin : g_bad_acc_w
    $fatal(1, "hn_dpu: ACC_W must exceed the popcount width");
  end
  // Protocol: clear and shift are exclusive, and only come with valid.
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!(clear_i && shift_i)) else $error("hn_dpu: clear_i and shift_i together");
      assert (valid_i || !(clear_i || shift_i)) else $error("hn_dpu: clear/shift without valid");
    end
  end
`endif
endmodule
