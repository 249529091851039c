// hn_core: the bit-serial mixed-precision conv engine.  Bit-plane buffers
// (weights, activations, row descriptors) are filled by the host or a DMA
// through the write ports, then start_i runs one job: hn_ctrl walks the
// tiles, hn_array accumulates AND-popcounts, hn_drain retires every tile
// into the result memory, where res_addr_i reads the int32 results.
//
//   ctrl (addr) -> ram (1 cycle) -> dpu popcount (1) -> dpu acc (1) -> drain
//
// cycles_o counts the cycles of the last job from the start_i edge to the
// done_o pulse (inclusive), i.e. what the cycle model predicts.
// Defaults: the default build of include/hetnas/hwparams.h (hn_params_pkg).
module hn_core import hn_params_pkg::*; #(
  parameter int unsigned DM     = HN_HW_DM,
  parameter int unsigned DN     = HN_HW_DN,
  parameter int unsigned DK     = HN_HW_DK,
  parameter int unsigned ACC_W  = HN_HW_ACC_W,
  parameter int unsigned BA_MAX = HN_HW_BA_MAX,
  parameter int unsigned FILT_W = HN_HW_FILT_W,
  parameter int unsigned PT_W   = HN_HW_PT_W,
  parameter int unsigned KW_W   = HN_HW_KW_W,
  parameter int unsigned W_AW   = HN_HW_W_AW,
  parameter int unsigned A_AW   = HN_HW_A_AW,
  // bits of a lane index inside a word (packed-step split)
  parameter int unsigned SPL_W  = (DK > 1) ? $clog2(DK) : 1,
  // weight buffer banks (1, 2, 4, 8, 16): wmem_data_i carries W_BANKS
  // consecutive words from the aligned address wmem_addr_i, bank b written
  // when wmem_we_i[b] (a wide DMA beat fills several in one cycle)
  parameter int unsigned W_BANKS = 1
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  // job configuration (stable from start_i until done_o)
  input  logic [W_AW-1:0]          cfg_mt_i,
  input  logic [PT_W:0]            cfg_pt_i,
  input  logic [3:0]               cfg_ba_i,
  input  logic [KW_W-1:0]          cfg_kw_i,
  input  logic [BA_MAX*KW_W-1:0]   cfg_nc_i,
  input  logic                     cfg_packed_i,  // packed-step schedule (hn_ctrl)
  input  logic [BA_MAX*SPL_W-1:0]  cfg_split_i,
  input  logic                     cfg_pm1_i,     // +-1 filters (hn_drain)
  // pixel tiles whose activations are in u_amem (hn_ctrl): all ones when
  // the buffer is filled before start_i; a DMA filling it during the run
  // counts the finished tiles (tile lp = words lp*a_words .. +a_words-1)
  input  logic [PT_W:0]            act_tiles_i,
  input  logic                     start_i,
  output logic                     busy_o,
  output logic                     done_o,
  output logic [31:0]              cycles_o,
  // buffer write ports
  input  logic [W_BANKS-1:0]       wmem_we_i,
  input  logic [W_AW-1:0]          wmem_addr_i,
  input  logic [W_BANKS*DM*DK-1:0] wmem_data_i,
  input  logic                     amem_we_i,
  input  logic [A_AW-1:0]          amem_addr_i,
  input  logic [DN*DK-1:0]         amem_data_i,
  input  logic                     mmem_we_i,
  input  logic [W_AW-1:0]          mmem_addr_i,
  input  logic [DM*(FILT_W+3)-1:0] mmem_data_i,
  // result read port (one cycle latency): address {pt, filter}
  input  logic [FILT_W+PT_W-1:0]   res_addr_i,
  output logic [DN*32-1:0]         res_data_o,
  // a result word is written this cycle; words are written in {pt, filter}
  // order (filters in row order, tiles pt-major), so a DMA can stream word
  // i out once i+1 writes have happened (hn_krnl_top's store overlap)
  output logic                     res_we_o
);
  localparam int unsigned META_W = FILT_W + 3;

  // ---- job state -------------------------------------------------------------
  logic        running_q, first_q, idle;
  logic [31:0] cycles_q;

  // ---- controller ------------------------------------------------------------
  logic              ctrl_busy;
  logic              tok0_valid, tok0_clear, tok0_shift, tok0_last;
  logic [PT_W-1:0]   tok0_pt;
  logic [SPL_W-1:0]  tok0_split, split1;
  logic [W_AW-1:0]   waddr, maddr;
  logic [A_AW-1:0]   aaddr;

  hn_ctrl #(
    .DM     (DM),
    .BA_MAX (BA_MAX),
    .KW_W   (KW_W),
    .W_AW   (W_AW),
    .A_AW   (A_AW),
    .PT_W   (PT_W),
    .SPL_W  (SPL_W)
  ) u_ctrl (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .start_i     (start_i && !running_q),
    .cfg_mt_i    (cfg_mt_i),
    .cfg_pt_i    (cfg_pt_i),
    .cfg_ba_i    (cfg_ba_i),
    .cfg_kw_i    (cfg_kw_i),
    .cfg_nc_i    (cfg_nc_i),
    .cfg_packed_i(cfg_packed_i),
    .cfg_split_i (cfg_split_i),
    .cfg_pm1_i   (cfg_pm1_i),
    .act_tiles_i (act_tiles_i),
    .busy_o      (ctrl_busy),
    .tok_valid_o (tok0_valid),
    .tok_clear_o (tok0_clear),
    .tok_shift_o (tok0_shift),
    .tok_last_o  (tok0_last),
    .tok_split_o (tok0_split),
    .tok_pt_o    (tok0_pt),
    .waddr_o     (waddr),
    .aaddr_o     (aaddr),
    .maddr_o     (maddr)
  );

  // ---- bit-plane buffers -----------------------------------------------------
  logic [DM*DK-1:0]     w_word;
  logic [DN*DK-1:0]     a_word;
  logic [DM*META_W-1:0] meta1;

  if (W_BANKS == 1) begin : g_wmem
    hn_ram #(.WIDTH(DM*DK), .AW(W_AW)) u_wmem (
      .clk_i   (clk_i),
      .rst_ni  (rst_ni),
      .we_i    (wmem_we_i[0]),
      .waddr_i (wmem_addr_i),
      .wdata_i (wmem_data_i),
      .raddr_i (waddr),
      .rdata_o (w_word)
    );
  end else begin : g_wmem_banked
    // word a lives in bank a % W_BANKS at row a / W_BANKS; the read's bank
    // select is delayed with the RAM's read latency
    localparam int unsigned WB_L = $clog2(W_BANKS);
    logic [DM*DK-1:0] bank_rd [W_BANKS];
    logic [WB_L-1:0]  rsel_q;
    for (genvar b = 0; b < W_BANKS; b++) begin : g_bank
      hn_ram #(.WIDTH(DM*DK), .AW(W_AW-WB_L)) u_wmem (
        .clk_i   (clk_i),
        .rst_ni  (rst_ni),
        .we_i    (wmem_we_i[b]),
        .waddr_i (wmem_addr_i[W_AW-1:WB_L]),
        .wdata_i (wmem_data_i[b*DM*DK +: DM*DK]),
        .raddr_i (waddr[W_AW-1:WB_L]),
        .rdata_o (bank_rd[b])
      );
    end
    always_ff @(posedge clk_i) rsel_q <= waddr[WB_L-1:0];
    assign w_word = bank_rd[rsel_q];
`ifndef SYNTHESIS
    // Protocol: a banked write starts at a multiple of W_BANKS.
    always_ff @(posedge clk_i) begin
      if (rst_ni && wmem_we_i != '0)
        assert (wmem_addr_i[WB_L-1:0] == '0) else $error("hn_core: unaligned banked weight write");
    end
`endif
  end
  hn_ram #(.WIDTH(DN*DK), .AW(A_AW)) u_amem (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .we_i    (amem_we_i),
    .waddr_i (amem_addr_i),
    .wdata_i (amem_data_i),
    .raddr_i (aaddr),
    .rdata_o (a_word)
  );
  hn_ram #(.WIDTH(DM*META_W), .AW(W_AW)) u_mmem (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .we_i    (mmem_we_i),
    .waddr_i (mmem_addr_i),
    .wdata_i (mmem_data_i),
    .raddr_i (maddr),
    .rdata_o (meta1)
  );

  // ---- token pipeline (aligned with the data) --------------------------------
  logic                 valid1, clear1, shift1, last1, valid2, last2, valid3, last3;
  logic [PT_W-1:0]      pt1, pt2, pt3;
  logic [DM*META_W-1:0] meta2, meta3;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      {valid1, clear1, shift1, last1} <= '0;
      {valid2, last2, valid3, last3}  <= '0;
    end else begin
      valid1 <= tok0_valid;
      clear1 <= tok0_clear;
      shift1 <= tok0_shift;
      last1  <= tok0_last;
      valid2 <= valid1;
      last2  <= last1 && valid1;
      valid3 <= valid2;
      last3  <= last2 && valid2;
    end
  end
  always_ff @(posedge clk_i) begin
    pt1 <= tok0_pt;
    split1 <= tok0_split;
    pt2 <= pt1;
    pt3 <= pt2;
    if (last1) meta2 <= meta1;
    if (last2) meta3 <= meta2;
  end

  // ---- array -----------------------------------------------------------------
  logic [DM*DN*ACC_W-1:0] acc;

  hn_array #(
    .DM    (DM),
    .DN    (DN),
    .DK    (DK),
    .ACC_W (ACC_W),
    .SPL_W (SPL_W)
  ) u_array (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .valid_i (valid1),
    .clear_i (clear1),
    .shift_i (shift1),
    .w_i     (w_word),
    .a_i     (a_word),
    .split_i (split1),
    .acc_o   (acc)
  );

  // ---- drain + result memory ---------------------------------------------------
  logic                   drain_busy, capture;
  logic [FILT_W+PT_W-1:0] mem_addr;
  logic [DN*32-1:0]       mem_wdata;
  logic                   mem_we;

  assign capture = valid3 && last3;

  hn_drain #(
    .DM     (DM),
    .DN     (DN),
    .ACC_W  (ACC_W),
    .FILT_W (FILT_W),
    .PT_W   (PT_W),
    .META_W (META_W)
  ) u_drain (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .capture_i   (capture),
    .pm1_i       (cfg_pm1_i),
    .acc_i       (acc),
    .meta_i      (meta3),
    .pt_i        (pt3),
    .busy_o      (drain_busy),
    .mem_we_o    (mem_we),
    .mem_addr_o  (mem_addr),
    .mem_wdata_o (mem_wdata)
  );

  hn_ram #(.WIDTH(DN*32), .AW(FILT_W+PT_W)) u_resmem (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .we_i    (mem_we),
    .waddr_i (mem_addr),
    .wdata_i (mem_wdata),
    .raddr_i (res_addr_i),
    .rdata_o (res_data_o)
  );

  // ---- job state -------------------------------------------------------------
  assign idle = !ctrl_busy && !tok0_valid && !valid1 && !valid2 && !valid3 && !drain_busy;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
      first_q   <= 1'b0;
      done_o    <= 1'b0;
      cycles_q  <= '0;
    end else begin
      done_o  <= 1'b0;
      first_q <= start_i && !running_q;
      if (start_i && !running_q) begin
        running_q <= 1'b1;
        cycles_q  <= 32'd1;
      end else if (running_q) begin
        cycles_q <= cycles_q + 1'b1;
        // first_q: the controller turns busy one cycle after start_i.
        if (idle && !first_q) begin
          running_q <= 1'b0;
          done_o    <= 1'b1;
        end
      end
    end
  end

  assign busy_o   = running_q;
  assign res_we_o = mem_we;
  assign cycles_o = cycles_q;

`ifndef SYNTHESIS
  if (FILT_W < 1 || PT_W < 1 || FILT_W + PT_W > 24) begin : g_bad_param
    $fatal(1, "hn_core: need FILT_W, PT_W >= 1 and FILT_W + PT_W <= 24");
  end
  if (W_BANKS < 1 || W_BANKS > 16 || (W_BANKS & (W_BANKS - 1)) != 0) begin : g_bad_banks
    $fatal(1, "hn_core: W_BANKS must be 1, 2, 4, 8 or 16");
  end
  // Protocol: weights and descriptors are not written while a job runs;
  // activations only for tiles the controller has not reached
  // (act_tiles_i counts the ones it may read).
  always_ff @(posedge clk_i) begin
    if (rst_ni && running_q)
      assert (wmem_we_i == '0 && !mmem_we_i) else $error("hn_core: weight/descriptor write during a job");
  end
`endif
endmodule
