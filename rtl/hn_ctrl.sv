// hn_ctrl: the walker of the bit-serial array.  For one job it visits
//
//   for pt in 0..cfg_pt-1            pixel tiles (DN output pixels each)
//     for mt in 0..cfg_mt-1          row tiles (DM weight planes each)
//       for s in 0..cfg_ba-1         activation planes, MSB first (j = ba-1-s)
//         for c in 0..nc[s]-1        DK-bit words of plane j's reduction
//
// and issues one word address pair per cycle.  Input channels are sorted
// by activation bits (descending) in the memory image, so plane j only
// spans the channels that have bit j: nc[s] = ceil(k*k*n_j / DK).  No cycle
// is spent on bits a channel group does not have, and no row on bits a
// filter does not have (rows are (filter, weight plane) pairs).
//
// A tile's last word may only issue ND cycles after the previous tile's
// last word: hn_drain retires two rows per cycle, ND = ceil(DM/2) cycles
// per tile, or one row per cycle in a job with +-1 filters (cfg_pm1_i,
// ND = DM).  So a tile costs max(T, ND) cycles with T = sum_s nc[s].
//
// Memory image addressing (see docs/hardware.md):
//   weights:     waddr = mt*kw + c
//   activations: aaddr = (pt*ba + s)*kw + c
//   descriptors: maddr = mt
//
// Packed-step mode (cfg_packed_i, issue 7): the steps' lanes follow each
// other in one stream of cfg_kw = T words per tile, weights laid out per
// tile word.  Step s is the segment of nc[s] words starting with the word
// where it begins; if it begins mid-word, its first word also carries the
// tail of step s-1 in the lanes below cfg_split[s] (tok_split_o).
//   weights:     waddr = mt*T + sum_{s'<s} nc[s'] + c
//   activations: aaddr = pt*T + sum_{s'<s} nc[s'] + c
module hn_ctrl #(
  parameter int unsigned DM     = 4,
  parameter int unsigned BA_MAX = 8,   // activation planes supported
  parameter int unsigned KW_W   = 10,  // bits of a plane's word count
  parameter int unsigned W_AW   = 13,  // weight buffer address bits
  parameter int unsigned A_AW   = 14,  // activation buffer address bits
  parameter int unsigned PT_W   = 6,   // pixel tile index bits
  parameter int unsigned SPL_W  = 4    // bits of a split lane index
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  input  logic                     start_i,   // pulse; configuration is stable while busy_o
  input  logic [W_AW-1:0]          cfg_mt_i,  // row tiles (>= 1)
  input  logic [PT_W:0]            cfg_pt_i,  // pixel tiles (1..2**PT_W)
  input  logic [3:0]               cfg_ba_i,  // activation planes (1..BA_MAX)
  input  logic [KW_W-1:0]          cfg_kw_i,  // words per plane in the image
  input  logic [BA_MAX*KW_W-1:0]   cfg_nc_i,  // nc[s] at [s*KW_W +: KW_W], 1..kw
  input  logic                     cfg_packed_i,  // packed-step mode
  input  logic [BA_MAX*SPL_W-1:0]  cfg_split_i,   // split[s] at [s*SPL_W +: SPL_W]
  input  logic                     cfg_pm1_i,     // +-1 filters: one-row drain
  // pixel tiles whose activation words are in the buffer: the first word
  // of pixel tile pt waits until act_tiles_i > pt (a DMA filling the
  // buffer during the run; all ones when it is filled before the start)
  input  logic [PT_W:0]            act_tiles_i,
  output logic                     busy_o,    // issuing
  output logic                     tok_valid_o,
  output logic                     tok_clear_o,  // first word of a tile
  output logic                     tok_shift_o,  // first word of plane s > 0
  output logic                     tok_last_o,   // last word of a tile
  output logic [SPL_W-1:0]         tok_split_o,  // lanes of the previous step
  output logic [PT_W-1:0]          tok_pt_o,
  output logic [W_AW-1:0]          waddr_o,
  output logic [A_AW-1:0]          aaddr_o,
  output logic [W_AW-1:0]          maddr_o
);
  localparam int unsigned S_W   = $clog2(BA_MAX) + 1;
  localparam int unsigned ND2   = (DM + 1) / 2;  // drain cycles per tile (pairs)
  localparam int unsigned GAP_W = $clog2(DM) + 1;

  logic              busy_q;
  logic [PT_W-1:0]   pt_q;
  logic [W_AW-1:0]   mt_q;
  logic [S_W-1:0]    s_q;
  logic [KW_W-1:0]   c_q;
  logic [W_AW-1:0]   w_base_q;     // mt*kw
  logic [A_AW-1:0]   a_step_q;     // (pt*ba + s)*kw
  logic [A_AW-1:0]   a_tile_q;     // pt*ba*kw
  logic [W_AW-1:0]   w_step_q;     // packed: sum_{s'<s} nc[s']
  logic [GAP_W-1:0]  gap_q;        // cycles until a tile may end again

  logic [KW_W-1:0]   nc_cur, adv;
  logic [SPL_W-1:0]  split_cur;
  logic              end_step, end_tile, end_row, end_job, stall, hold;

  always_comb begin
    nc_cur    = '0;
    split_cur = '0;
    for (int s = 0; s < BA_MAX; s++)
      if (s_q == S_W'(s)) begin
        nc_cur    = cfg_nc_i[s*KW_W +: KW_W];
        split_cur = cfg_split_i[s*SPL_W +: SPL_W];
      end
  end
  // address advance at the end of a step: a plane of kw words, or (packed)
  // the step's own words
  assign adv = cfg_packed_i ? nc_cur : cfg_kw_i;

  assign end_step = (c_q == nc_cur - 1'b1);
  assign end_tile = end_step && (s_q == S_W'(cfg_ba_i) - 1'b1);
  assign end_row  = end_tile && (mt_q == cfg_mt_i - 1'b1);
  assign end_job  = end_row && ({1'b0, pt_q} == cfg_pt_i - 1'b1);
  // wait for the pixel tile's activations (at its first word only, so a
  // tile's words stay back to back), or for the drain (at a tile's end)
  assign hold     = (mt_q == '0) && (s_q == '0) && (c_q == '0) &&
                    ({1'b0, pt_q} >= act_tiles_i);
  assign stall    = (end_tile && (gap_q != '0)) || hold;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q      <= 1'b0;
      pt_q        <= '0;
      mt_q        <= '0;
      s_q         <= '0;
      c_q         <= '0;
      w_base_q    <= '0;
      w_step_q    <= '0;
      a_step_q    <= '0;
      a_tile_q    <= '0;
      gap_q       <= '0;
      tok_split_o <= '0;
      tok_valid_o <= 1'b0;
      tok_clear_o <= 1'b0;
      tok_shift_o <= 1'b0;
      tok_last_o  <= 1'b0;
      tok_pt_o    <= '0;
      waddr_o     <= '0;
      aaddr_o     <= '0;
      maddr_o     <= '0;
    end else begin
      if (gap_q != '0) gap_q <= gap_q - 1'b1;
      tok_valid_o <= 1'b0;
      tok_clear_o <= 1'b0;
      tok_shift_o <= 1'b0;
      tok_last_o  <= 1'b0;
      tok_split_o <= '0;
      if (start_i && !busy_q) begin
        busy_q   <= 1'b1;
        pt_q     <= '0;
        mt_q     <= '0;
        s_q      <= '0;
        c_q      <= '0;
        w_base_q <= '0;
        w_step_q <= '0;
        a_step_q <= '0;
        a_tile_q <= '0;
      end else if (busy_q && !stall) begin
        // Issue the word (pt, mt, s, c).
        tok_valid_o <= 1'b1;
        tok_clear_o <= (s_q == '0) && (c_q == '0);
        tok_shift_o <= (s_q != '0) && (c_q == '0);
        tok_last_o  <= end_tile;
        tok_split_o <= ((s_q != '0) && (c_q == '0)) ? split_cur : '0;
        tok_pt_o    <= pt_q;
        waddr_o     <= w_base_q + w_step_q + W_AW'(c_q);
        aaddr_o     <= a_step_q + A_AW'(c_q);
        maddr_o     <= mt_q;
        // Advance.
        if (!end_step) begin
          c_q <= c_q + 1'b1;
        end else if (!end_tile) begin
          c_q      <= '0;
          s_q      <= s_q + 1'b1;
          a_step_q <= a_step_q + A_AW'(adv);
          if (cfg_packed_i) w_step_q <= w_step_q + W_AW'(nc_cur);
        end else begin
          c_q      <= '0;
          s_q      <= '0;
          w_step_q <= '0;
          gap_q    <= cfg_pm1_i ? GAP_W'(DM - 1) : GAP_W'(ND2 - 1);
          if (!end_row) begin
            mt_q     <= mt_q + 1'b1;
            w_base_q <= w_base_q + W_AW'(cfg_kw_i);
            a_step_q <= a_tile_q;
          end else begin
            mt_q     <= '0;
            w_base_q <= '0;
            pt_q     <= pt_q + 1'b1;
            a_tile_q <= a_step_q + A_AW'(adv);
            a_step_q <= a_step_q + A_AW'(adv);
            if (end_job) busy_q <= 1'b0;
          end
        end
      end
    end
  end

  assign busy_o = busy_q;

`ifndef SYNTHESIS
  if (DM < 1 || BA_MAX < 1 || BA_MAX > 15 || KW_W < 1) begin : g_bad_param
    $fatal(1, "hn_ctrl: need DM >= 1, 1 <= BA_MAX <= 15, KW_W >= 1");
  end
  // The configuration must be legal when a job starts.
  always_ff @(posedge clk_i) begin
    if (rst_ni && start_i && !busy_q) begin
      assert (cfg_ba_i >= 1 && 32'(cfg_ba_i) <= BA_MAX) else $error("hn_ctrl: cfg_ba_i out of range");
      assert (cfg_mt_i != '0) else $error("hn_ctrl: cfg_mt_i is zero");
      assert (cfg_pt_i != '0 && 32'(cfg_pt_i) <= (1 << PT_W)) else $error("hn_ctrl: cfg_pt_i out of range");
      for (int s = 0; s < BA_MAX; s++)
        if (s < 32'(cfg_ba_i))
          assert (cfg_nc_i[s*KW_W +: KW_W] != '0 && cfg_nc_i[s*KW_W +: KW_W] <= cfg_kw_i)
            else $error("hn_ctrl: cfg_nc_i[%0d] out of range", s);
    end
    // A tile never ends less than ND cycles after the previous one.
    if (rst_ni && busy_q && end_tile && !stall) assert (gap_q == '0);
    // The tiles' activations arrive in order and are never taken back.
    if (rst_ni && busy_q && $past(busy_q) && $past(rst_ni))
      assert (act_tiles_i >= $past(act_tiles_i)) else $error("hn_ctrl: act_tiles_i decreased");
  end
`endif
endmodule
