// hn_krnl_top: Vitis RTL-kernel wrapper of hn_core (ap_ctrl_hs).
//
// The host writes the memory image (docs/hardware.md, "Memory image") to
// device memory, programs the registers below through s_axi_control and
// sets ap_start.  The kernel then
//   1. reads the weight, descriptor and activation sections through
//      m_axi_gmem (DW-bit beats, incrementing bursts of up to
//      min(256, 4096/(DW/8)) beats, up to RD_OUTSTANDING bursts in flight,
//      the three sections back to back) into the buffers,
//   2. starts hn_core once the weights and descriptors are in; the
//      activations keep streaming in during the run, and the controller
//      waits at the start of a pixel tile until its words are in
//      (act_tiles), so the activation load overlaps the run,
//   3. writes the results (cfg_pt x c_out words of DN int32, in (pt, filter)
//      order) to r_ptr: word i leaves as soon as the core has written it
//      (the core writes them in that order), so the store overlaps the run,
//   4. raises ap_done when the core is done and every write is answered.
// Pointers must be HN_HW_AXI_ALIGN (4 KiB) aligned (XRT buffers are), so a
// burst, which never spans more than 4 KiB of its section, never crosses a
// 4 KiB boundary.  A section's last beat may read past its end (up to the
// next beat boundary); those words are ignored.
//
// Register map: the HN_REG_* byte offsets of include/hetnas/hwparams.h
// (imported from hn_params_pkg), where each register is described.
// Every buffer word occupies ceil(bits/32) consecutive little-endian 32-bit
// words of its section (bit 0 of the buffer word = bit 0 of the first word),
// whatever DW is: a DW-bit beat carries DW/32 such words, the first in bits
// [31:0].  The weight buffer has W_BANKS banks, so a beat's weight words
// are written in its cycle; the descriptor and activation buffers take one
// word per cycle, so a beat carrying g of their words is unpacked in g
// cycles; a buffer word wider than a beat is assembled from several beats.
module hn_krnl_top import hn_params_pkg::*; #(
  parameter int unsigned C_S_AXI_CONTROL_ADDR_WIDTH = 8,
  parameter int unsigned C_S_AXI_CONTROL_DATA_WIDTH = 32,
  parameter int unsigned C_M_AXI_GMEM_ADDR_WIDTH    = 64,
  parameter int unsigned C_M_AXI_GMEM_DATA_WIDTH    = HN_HW_AXI_W,
  parameter int unsigned RD_OUTSTANDING             = HN_HW_AXI_RD_OUT
) (
  input  logic                                    ap_clk,
  input  logic                                    ap_rst_n,
  output logic                                    interrupt,
  // AXI4 master (read + write)
  output logic                                    m_axi_gmem_awvalid,
  input  logic                                    m_axi_gmem_awready,
  output logic [C_M_AXI_GMEM_ADDR_WIDTH-1:0]      m_axi_gmem_awaddr,
  output logic [7:0]                              m_axi_gmem_awlen,
  output logic [2:0]                              m_axi_gmem_awsize,
  output logic [1:0]                              m_axi_gmem_awburst,
  output logic                                    m_axi_gmem_wvalid,
  input  logic                                    m_axi_gmem_wready,
  output logic [C_M_AXI_GMEM_DATA_WIDTH-1:0]      m_axi_gmem_wdata,
  output logic [C_M_AXI_GMEM_DATA_WIDTH/8-1:0]    m_axi_gmem_wstrb,
  output logic                                    m_axi_gmem_wlast,
  input  logic                                    m_axi_gmem_bvalid,
  output logic                                    m_axi_gmem_bready,
  input  logic [1:0]                              m_axi_gmem_bresp,
  output logic                                    m_axi_gmem_arvalid,
  input  logic                                    m_axi_gmem_arready,
  output logic [C_M_AXI_GMEM_ADDR_WIDTH-1:0]      m_axi_gmem_araddr,
  output logic [7:0]                              m_axi_gmem_arlen,
  output logic [2:0]                              m_axi_gmem_arsize,
  output logic [1:0]                              m_axi_gmem_arburst,
  input  logic                                    m_axi_gmem_rvalid,
  output logic                                    m_axi_gmem_rready,
  input  logic [C_M_AXI_GMEM_DATA_WIDTH-1:0]      m_axi_gmem_rdata,
  input  logic                                    m_axi_gmem_rlast,
  input  logic [1:0]                              m_axi_gmem_rresp,
  // AXI4-Lite slave (control)
  input  logic                                    s_axi_control_awvalid,
  output logic                                    s_axi_control_awready,
  input  logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0]   s_axi_control_awaddr,
  input  logic                                    s_axi_control_wvalid,
  output logic                                    s_axi_control_wready,
  input  logic [C_S_AXI_CONTROL_DATA_WIDTH-1:0]   s_axi_control_wdata,
  input  logic [C_S_AXI_CONTROL_DATA_WIDTH/8-1:0] s_axi_control_wstrb,
  input  logic                                    s_axi_control_arvalid,
  output logic                                    s_axi_control_arready,
  input  logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0]   s_axi_control_araddr,
  output logic                                    s_axi_control_rvalid,
  input  logic                                    s_axi_control_rready,
  output logic [C_S_AXI_CONTROL_DATA_WIDTH-1:0]   s_axi_control_rdata,
  output logic [1:0]                              s_axi_control_rresp,
  output logic                                    s_axi_control_bvalid,
  input  logic                                    s_axi_control_bready,
  output logic [1:0]                              s_axi_control_bresp
);
  // Array geometry of this kernel build (include/hetnas/hwparams.h).
  localparam int unsigned DM = HN_HW_DM, DN = HN_HW_DN, DK = HN_HW_DK;
  localparam int unsigned ACC_W = HN_HW_ACC_W, BA_MAX = HN_HW_BA_MAX;
  localparam int unsigned FILT_W = HN_HW_FILT_W, PT_W = HN_HW_PT_W, KW_W = HN_HW_KW_W;
  localparam int unsigned W_AW = HN_HW_W_AW, A_AW = HN_HW_A_AW;
  localparam int unsigned META_W = FILT_W + 3;
  localparam int unsigned SPL_W  = (DK > 1) ? $clog2(DK) : 1;
  localparam int unsigned W_WPW = (DM * DK + 31) / 32;      // 32-bit words per buffer word
  localparam int unsigned M_WPW = (DM * META_W + 31) / 32;
  localparam int unsigned A_WPW = (DN * DK + 31) / 32;
  localparam int unsigned AW    = C_M_AXI_GMEM_ADDR_WIDTH;
  localparam int unsigned DW    = C_M_AXI_GMEM_DATA_WIDTH;
  localparam int unsigned BW    = DW / 32;                  // 32-bit words per beat
  localparam int unsigned LBW   = $clog2(BW);
  localparam int unsigned BYTES = DW / 8;
  localparam int unsigned LBYTES = $clog2(BYTES);
  // beats per burst: the AXI4 limit (256), at most 4 KiB
  localparam int unsigned MAXB  = (4096 / BYTES > 256) ? 256 : 4096 / BYTES;
  localparam int unsigned RB    = DN * 32 / DW;             // beats per result word
  localparam int unsigned RB_W  = (RB > 1) ? $clog2(RB) : 1;
  localparam int unsigned OUT_W = $clog2(RD_OUTSTANDING + 1) + 1;
  localparam int unsigned MAXWPW = (W_WPW > A_WPW) ? ((W_WPW > M_WPW) ? W_WPW : M_WPW)
                                                   : ((A_WPW > M_WPW) ? A_WPW : M_WPW);
  // weight buffer banks: a beat's weight words are written in one cycle
  localparam int unsigned W_BANKS = (W_WPW < BW) ? BW / W_WPW : 1;
  // assembly register: the widest buffer word, at least one beat
  localparam int unsigned ASM_W = (MAXWPW * 32 > DW) ? MAXWPW * 32 : DW;

  // ---- control registers -------------------------------------------------------
  logic        ap_start_q, ap_done_q, gie_q, ier_q, isr_q;
  logic [63:0] w_ptr_q, m_ptr_q, a_ptr_q, r_ptr_q;
  logic [31:0] n_w_q, n_m_q, n_a_q, c_out_q, mt_q, pt_q, ba_q, kw_q;
  logic [31:0] nc_q [BA_MAX];
  logic        packed_q;
  logic        pm1_q;         // HN_REG_PACKED bit 1: +-1 filters
  logic [31:0] split_q;
  logic [31:0] cycles_q;
  logic [31:0] kcycles_q;         // kernel cycles: start accepted .. S_DONE
  logic        resp_err_q;
  logic        aw_done_q, w_done_q;
  logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0] waddr_q;
  logic [31:0] wdata_q;
  logic        accept_start, finish, idle_state;

  // write channel: accept address and data (in any order), then respond
  assign s_axi_control_awready = !aw_done_q && !s_axi_control_bvalid;
  assign s_axi_control_wready  = !w_done_q && !s_axi_control_bvalid;
  assign s_axi_control_bresp   = 2'b00;
  assign s_axi_control_rresp   = 2'b00;

  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n) begin
      aw_done_q <= 1'b0;
      w_done_q  <= 1'b0;
      waddr_q   <= '0;
      wdata_q   <= '0;
      s_axi_control_bvalid <= 1'b0;
      ap_start_q <= 1'b0;
      gie_q <= 1'b0;
      ier_q <= 1'b0;
      isr_q <= 1'b0;
      {w_ptr_q, m_ptr_q, a_ptr_q, r_ptr_q} <= '0;
      {n_w_q, n_m_q, n_a_q, c_out_q, mt_q, pt_q, ba_q, kw_q} <= '0;
      for (int s = 0; s < BA_MAX; s++) nc_q[s] <= '0;
      packed_q <= 1'b0;
      pm1_q    <= 1'b0;
      split_q  <= '0;
    end else begin
      if (s_axi_control_awvalid && s_axi_control_awready) begin
        aw_done_q <= 1'b1;
        waddr_q   <= s_axi_control_awaddr;
      end
      if (s_axi_control_wvalid && s_axi_control_wready) begin
        w_done_q <= 1'b1;
        wdata_q  <= s_axi_control_wdata;
      end
      if (s_axi_control_bvalid && s_axi_control_bready) s_axi_control_bvalid <= 1'b0;
      if (accept_start) ap_start_q <= 1'b0;
      if (finish && ier_q) isr_q <= 1'b1;
      if (aw_done_q && w_done_q) begin
        aw_done_q <= 1'b0;
        w_done_q  <= 1'b0;
        s_axi_control_bvalid <= 1'b1;
        case (waddr_q)
          HN_REG_CTRL: if (wdata_q[0]) ap_start_q <= 1'b1;
          HN_REG_GIE: gie_q <= wdata_q[0];
          HN_REG_IER: ier_q <= wdata_q[0];
          HN_REG_ISR: isr_q <= isr_q ^ wdata_q[0];
          HN_REG_W_PTR: w_ptr_q[31:0]  <= wdata_q;
          HN_REG_W_PTR + 8'd4: w_ptr_q[63:32] <= wdata_q;
          HN_REG_M_PTR: m_ptr_q[31:0]  <= wdata_q;
          HN_REG_M_PTR + 8'd4: m_ptr_q[63:32] <= wdata_q;
          HN_REG_A_PTR: a_ptr_q[31:0]  <= wdata_q;
          HN_REG_A_PTR + 8'd4: a_ptr_q[63:32] <= wdata_q;
          HN_REG_R_PTR: r_ptr_q[31:0]  <= wdata_q;
          HN_REG_R_PTR + 8'd4: r_ptr_q[63:32] <= wdata_q;
          HN_REG_N_W: n_w_q   <= wdata_q;
          HN_REG_N_M: n_m_q   <= wdata_q;
          HN_REG_N_A: n_a_q   <= wdata_q;
          HN_REG_C_OUT: c_out_q <= wdata_q;
          HN_REG_MT: mt_q    <= wdata_q;
          HN_REG_PT: pt_q    <= wdata_q;
          HN_REG_BA: ba_q    <= wdata_q;
          HN_REG_KW: kw_q    <= wdata_q;
          HN_REG_PACKED: begin
            packed_q <= wdata_q[0];
            pm1_q    <= wdata_q[1];
          end
          HN_REG_SPLIT: split_q <= wdata_q;
          default: begin
            for (int s = 0; s < BA_MAX; s++)
              if (waddr_q == 8'(32'(HN_REG_NC) + 4 * s)) nc_q[s] <= wdata_q;
          end
        endcase
      end
    end
  end

  // read channel
  logic rd_done_clear;
  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n) begin
      s_axi_control_rvalid <= 1'b0;
      s_axi_control_rdata  <= '0;
    end else begin
      if (s_axi_control_rvalid && s_axi_control_rready) s_axi_control_rvalid <= 1'b0;
      if (s_axi_control_arvalid && s_axi_control_arready) begin
        s_axi_control_rvalid <= 1'b1;
        case (s_axi_control_araddr)
          HN_REG_CTRL: s_axi_control_rdata <= {28'd0, !ap_start_q && idle_state, idle_state && !ap_start_q,
                                         ap_done_q, ap_start_q};
          HN_REG_GIE: s_axi_control_rdata <= {31'd0, gie_q};
          HN_REG_IER: s_axi_control_rdata <= {31'd0, ier_q};
          HN_REG_ISR: s_axi_control_rdata <= {31'd0, isr_q};
          HN_REG_W_PTR: s_axi_control_rdata <= w_ptr_q[31:0];
          HN_REG_W_PTR + 8'd4: s_axi_control_rdata <= w_ptr_q[63:32];
          HN_REG_M_PTR: s_axi_control_rdata <= m_ptr_q[31:0];
          HN_REG_M_PTR + 8'd4: s_axi_control_rdata <= m_ptr_q[63:32];
          HN_REG_A_PTR: s_axi_control_rdata <= a_ptr_q[31:0];
          HN_REG_A_PTR + 8'd4: s_axi_control_rdata <= a_ptr_q[63:32];
          HN_REG_R_PTR: s_axi_control_rdata <= r_ptr_q[31:0];
          HN_REG_R_PTR + 8'd4: s_axi_control_rdata <= r_ptr_q[63:32];
          HN_REG_N_W: s_axi_control_rdata <= n_w_q;
          HN_REG_N_M: s_axi_control_rdata <= n_m_q;
          HN_REG_N_A: s_axi_control_rdata <= n_a_q;
          HN_REG_C_OUT: s_axi_control_rdata <= c_out_q;
          HN_REG_MT: s_axi_control_rdata <= mt_q;
          HN_REG_PT: s_axi_control_rdata <= pt_q;
          HN_REG_BA: s_axi_control_rdata <= ba_q;
          HN_REG_KW: s_axi_control_rdata <= kw_q;
          HN_REG_CYCLES: s_axi_control_rdata <= cycles_q;
          HN_REG_STATUS: s_axi_control_rdata <= {31'd0, resp_err_q};
          HN_REG_KCYCLES: s_axi_control_rdata <= kcycles_q;
          HN_REG_PACKED: s_axi_control_rdata <= {30'd0, pm1_q, packed_q};
          HN_REG_SPLIT: s_axi_control_rdata <= split_q;
          default: begin
            s_axi_control_rdata <= '0;
            for (int s = 0; s < BA_MAX; s++)
              if (s_axi_control_araddr == 8'(32'(HN_REG_NC) + 4 * s)) s_axi_control_rdata <= nc_q[s];
          end
        endcase
      end
    end
  end
  assign s_axi_control_arready = !s_axi_control_rvalid;
  assign rd_done_clear = s_axi_control_arvalid && s_axi_control_arready &&
                         (s_axi_control_araddr == HN_REG_CTRL);
  assign interrupt = gie_q && isr_q;

  // ---- DMA + run sequencer ---------------------------------------------------------
  typedef enum logic [2:0] {S_IDLE, S_LOAD, S_RUN, S_WAIT, S_DONE} state_e;
  state_e      state_q;
  logic        core_fin_q;        // the core has finished this call
  logic        dma_rd;            // the read side is active (load and run)

  // section of the image: 0 weights, 1 descriptors, 2 activations, 3 none
  function automatic logic [31:0] sec_wpw(logic [1:0] s);
    case (s)
      2'd0:    return 32'(W_WPW);
      2'd1:    return 32'(M_WPW);
      default: return 32'(A_WPW);
    endcase
  endfunction
  // beats of a section of n buffer words (the last beat may be partial)
  function automatic logic [31:0] sec_beats(logic [31:0] n, logic [1:0] s);
    return (n * sec_wpw(s) + 32'(BW - 1)) >> LBW;
  endfunction

  // core
  logic                       core_start, core_done, core_busy, core_res_we;
  logic [31:0]                core_cycles;
  logic [W_BANKS-1:0]         we_w;
  logic                       we_m, we_a;
  logic [W_BANKS*DM*DK-1:0]   wmem_data;
  logic [FILT_W+PT_W-1:0]     res_addr;
  logic [DN*32-1:0]           res_data;
  logic [BA_MAX*KW_W-1:0]     nc_flat;

  always_comb begin
    for (int s = 0; s < BA_MAX; s++) nc_flat[s*KW_W +: KW_W] = nc_q[s][KW_W-1:0];
  end

  assign accept_start = (state_q == S_IDLE) && ap_start_q;
  assign dma_rd = (state_q == S_LOAD) || (state_q == S_RUN) || (state_q == S_WAIT);
  assign idle_state   = (state_q == S_IDLE);
  assign finish       = (state_q == S_DONE);

  // ---- read requests: bursts over the three sections, in order ----------------------
  logic [1:0]    isec_q;          // section of the next burst (3: all requested)
  logic [31:0]   ileft_q;         // its beats not yet requested
  logic [AW-1:0] iaddr_q;
  logic [OUT_W-1:0] rout_q;       // bursts requested, last beat not yet received
  logic [31:0]   ilen;            // beats of the next burst
  logic          ar_issue, rbeat, rdone;
  logic [AW-1:0] next_ptr;
  logic [31:0]   next_beats;

  assign ilen = (ileft_q > 32'(MAXB)) ? 32'(MAXB) : ileft_q;
  assign ar_issue = dma_rd && (isec_q != 2'd3) && (ileft_q != 0) &&
                    (32'(rout_q) < 32'(RD_OUTSTANDING)) &&
                    (!m_axi_gmem_arvalid || m_axi_gmem_arready);
  always_comb begin
    case (isec_q)
      2'd0:    begin next_ptr = m_ptr_q[AW-1:0]; next_beats = sec_beats(n_m_q, 2'd1); end
      2'd1:    begin next_ptr = a_ptr_q[AW-1:0]; next_beats = sec_beats(n_a_q, 2'd2); end
      default: begin next_ptr = '0;              next_beats = '0; end
    endcase
  end
  assign rbeat = m_axi_gmem_rvalid && m_axi_gmem_rready;
  assign rdone = rbeat && m_axi_gmem_rlast;

  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n) begin
      isec_q <= 2'd3;
      ileft_q <= '0;
      iaddr_q <= '0;
      rout_q <= '0;
      m_axi_gmem_arvalid <= 1'b0;
      m_axi_gmem_araddr <= '0;
      m_axi_gmem_arlen <= '0;
    end else begin
      rout_q <= rout_q + OUT_W'(ar_issue) - OUT_W'(rdone);
      if (m_axi_gmem_arvalid && m_axi_gmem_arready) m_axi_gmem_arvalid <= 1'b0;
      if (accept_start) begin
        isec_q <= 2'd0;
        iaddr_q <= w_ptr_q[AW-1:0];
        ileft_q <= sec_beats(n_w_q, 2'd0);
      end else if (dma_rd && isec_q != 2'd3 && ileft_q == 0) begin
        isec_q <= isec_q + 1'b1;              // an empty section
        iaddr_q <= next_ptr;
        ileft_q <= next_beats;
      end else if (ar_issue) begin
        m_axi_gmem_arvalid <= 1'b1;
        m_axi_gmem_araddr <= iaddr_q;
        m_axi_gmem_arlen <= 8'(ilen - 1);
        if (ilen == ileft_q) begin            // the section's last burst
          isec_q <= isec_q + 1'b1;
          iaddr_q <= next_ptr;
          ileft_q <= next_beats;
        end else begin
          iaddr_q <= iaddr_q + AW'(ilen * BYTES);
          ileft_q <= ileft_q - ilen;
        end
      end
    end
  end

  // ---- read data: beats -> buffer words, one buffer write per cycle -----------------
  logic [1:0]       rsec_q;       // section being received (3: all loaded)
  logic [31:0]      rword_q;      // its buffer words written
  logic [4:0]       ridx_q;       // beats of the current word received (wide words)
  logic [DW-1:0]    hold_q;       // rest of a beat that carries several words
  logic [4:0]       hleft_q;      // its words still to write
  logic [ASM_W-1:0] asm_q, wbus;
  logic [31:0]      r_wpw, r_n, r_bpw, r_gpb, r_in_beat, wr_cnt;
  logic             wr_en, wbank;

  always_comb begin
    r_wpw = sec_wpw(rsec_q);
    case (rsec_q)
      2'd0:    r_n = n_w_q;
      2'd1:    r_n = n_m_q;
      default: r_n = n_a_q;
    endcase
    r_bpw = (r_wpw > 32'(BW)) ? r_wpw >> LBW : 32'd1;   // beats per buffer word
    r_gpb = (r_wpw > 32'(BW)) ? 32'd1 : 32'(BW) / r_wpw; // buffer words per beat
    r_in_beat = (r_n - rword_q < r_gpb) ? r_n - rword_q : r_gpb;
  end
  assign m_axi_gmem_rready = dma_rd && (rsec_q != 2'd3) && (hleft_q == 0);
  // the weights of a beat go to the W_BANKS banks at once
  assign wbank = (W_BANKS > 1) && (rsec_q == 2'd0);
  assign wr_cnt = !dma_rd ? 32'd0 :
                  (hleft_q != 0) ? 32'd1 :
                  (rbeat && 32'(ridx_q) == r_bpw - 1) ? (wbank ? r_in_beat : 32'd1) : 32'd0;
  assign wr_en = (wr_cnt != 0);

  // the buffer word written this cycle
  always_comb begin
    wbus = '0;
    if (r_bpw > 1) begin
      wbus = asm_q;
      wbus[32'(ridx_q)*DW +: DW] = m_axi_gmem_rdata;
    end else if (hleft_q != 0) begin
      wbus[DW-1:0] = hold_q;
    end else begin
      wbus[DW-1:0] = m_axi_gmem_rdata;
    end
  end

  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n) begin
      rsec_q <= 2'd3;
      rword_q <= '0;
      ridx_q <= '0;
      hold_q <= '0;
      hleft_q <= '0;
      asm_q <= '0;
    end else if (accept_start) begin
      rsec_q <= 2'd0;
      rword_q <= '0;
      ridx_q <= '0;
      hleft_q <= '0;
    end else if (dma_rd) begin
      if (rsec_q != 2'd3 && r_n == 0) rsec_q <= rsec_q + 1'b1;   // an empty section
      if (rbeat) begin
        if (r_bpw > 1) begin
          asm_q[32'(ridx_q)*DW +: DW] <= m_axi_gmem_rdata;
          ridx_q <= (32'(ridx_q) == r_bpw - 1) ? '0 : ridx_q + 1'b1;
        end else if (!wbank) begin
          hold_q <= m_axi_gmem_rdata >> (r_wpw * 32);
          hleft_q <= 5'(r_in_beat - 1);
        end
      end else if (hleft_q != 0) begin
        hold_q <= hold_q >> (r_wpw * 32);
        hleft_q <= hleft_q - 1'b1;
      end
      if (wr_en) begin
        if (rword_q + wr_cnt == r_n) begin
          rword_q <= '0;
          rsec_q <= rsec_q + 1'b1;
        end else begin
          rword_q <= rword_q + wr_cnt;
        end
      end
    end
  end

  always_comb begin
    for (int b = 0; b < W_BANKS; b++)
      we_w[b] = wr_en && (rsec_q == 2'd0) && (wbank ? 32'(b) < wr_cnt : b == 0);
  end
  if (W_BANKS > 1) begin : g_wbank_data
    // bank b takes buffer word b of the beat (W_WPW 32-bit words each)
    always_comb begin
      for (int b = 0; b < W_BANKS; b++)
        wmem_data[b*DM*DK +: DM*DK] = m_axi_gmem_rdata[b*W_WPW*32 +: DM*DK];
    end
  end else begin : g_wdata
    assign wmem_data = wbus[DM*DK-1:0];
  end
  assign we_m = wr_en && (rsec_q == 2'd1);
  assign we_a = wr_en && (rsec_q == 2'd2);

  // Activation tiles in the buffer (pixel tile lp = activation words
  // lp*a_words .. (lp+1)*a_words-1, a_words = ba*kw, or kw = T packed).
  logic [PT_W:0] act_tiles_q;
  logic [31:0]   atw_q;           // words of the tile being loaded
  logic [31:0]   a_words;
  assign a_words = packed_q ? kw_q : 32'(ba_q[3:0]) * 32'(kw_q[KW_W-1:0]);
  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n) begin
      act_tiles_q <= '0;
      atw_q <= '0;
    end else if (accept_start) begin
      act_tiles_q <= '0;
      atw_q <= '0;
    end else if (we_a) begin
      if (atw_q + 1 == a_words) begin
        atw_q <= '0;
        act_tiles_q <= act_tiles_q + 1'b1;
      end else begin
        atw_q <= atw_q + 1;
      end
    end
  end

  // ---- result store, overlapped with the run ---------------------------------------
  // Word i = {pt, filter} (linear index sidx) goes out once the core has
  // written i+1 words.  The result RAM is read at the address of the word
  // the next cycle sends, so a word's beats follow the previous word's
  // without a gap; write bursts (MAXB beats) are requested up front.
  logic [PT_W:0]     spt_q, spt_n;
  logic [FILT_W:0]   sf_q, sf_n;
  logic [31:0]       sidx_q, sidx_n;
  logic [RB_W-1:0]   sb_q;          // beat within the result word
  logic [31:0]       res_cnt_q;     // result words the core has written
  logic              rd_ok_q;       // res_data holds word sidx_q, already written
  logic [31:0]       sbeat_q;       // store beats sent
  logic [31:0]       stot_q;        // store beats of this call
  logic              sent_q;        // every beat sent
  logic [31:0]       awleft_q;      // store beats not yet covered by a write request
  logic [AW-1:0]     awaddr_q;
  logic [31:0]       bout_q;        // write bursts requested and not yet answered
  logic [31:0]       awlen32;
  logic              wbeat, wadv, aw_issue, bresp_hs, store_done, store_act;

  assign store_act = (state_q == S_RUN) || (state_q == S_WAIT);
  assign m_axi_gmem_wvalid = store_act && rd_ok_q && !sent_q;
  assign wbeat = m_axi_gmem_wvalid && m_axi_gmem_wready;
  assign wadv  = wbeat && (32'(sb_q) == RB - 1);
  always_comb begin
    spt_n = spt_q;
    sf_n = sf_q;
    sidx_n = sidx_q;
    if (wadv) begin
      sidx_n = sidx_q + 1;
      if (32'(sf_q) == c_out_q - 1) begin
        sf_n = '0;
        spt_n = spt_q + 1'b1;
      end else begin
        sf_n = sf_q + 1'b1;
      end
    end
  end
  assign res_addr = {spt_n[PT_W-1:0], sf_n[FILT_W-1:0]};
  assign m_axi_gmem_wdata = res_data[32'(sb_q)*DW +: DW];
  assign m_axi_gmem_wstrb = '1;
  assign m_axi_gmem_wlast = ((sbeat_q & 32'(MAXB - 1)) == 32'(MAXB - 1)) ||
                            (sbeat_q == stot_q - 1);
  assign awlen32 = (awleft_q > 32'(MAXB)) ? 32'(MAXB) : awleft_q;
  assign aw_issue = !idle_state && (state_q != S_DONE) && (awleft_q != 0) &&
                    (!m_axi_gmem_awvalid || m_axi_gmem_awready);
  assign bresp_hs = m_axi_gmem_bvalid && m_axi_gmem_bready;
  assign store_done = sent_q && (awleft_q == 0) && !m_axi_gmem_awvalid && (bout_q == 0);

  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n) begin
      spt_q <= '0;
      sf_q <= '0;
      sidx_q <= '0;
      sb_q <= '0;
      res_cnt_q <= '0;
      rd_ok_q <= 1'b0;
      sbeat_q <= '0;
      stot_q <= '0;
      sent_q <= 1'b1;
      awleft_q <= '0;
      awaddr_q <= '0;
      bout_q <= '0;
      m_axi_gmem_awvalid <= 1'b0;
      m_axi_gmem_awaddr <= '0;
      m_axi_gmem_awlen <= '0;
    end else if (accept_start) begin
      spt_q <= '0;
      sf_q <= '0;
      sidx_q <= '0;
      sb_q <= '0;
      res_cnt_q <= '0;
      rd_ok_q <= 1'b0;
      sbeat_q <= '0;
      stot_q <= pt_q * c_out_q * RB;
      sent_q <= (pt_q * c_out_q == 0);
      awleft_q <= pt_q * c_out_q * RB;
      awaddr_q <= r_ptr_q[AW-1:0];
    end else begin
      res_cnt_q <= res_cnt_q + 32'(core_res_we);
      spt_q <= spt_n;
      sf_q <= sf_n;
      sidx_q <= sidx_n;
      rd_ok_q <= res_cnt_q > sidx_n;
      if (wbeat) begin
        sb_q <= (32'(sb_q) == RB - 1) ? '0 : sb_q + 1'b1;
        sbeat_q <= sbeat_q + 1;
        if (sbeat_q == stot_q - 1) sent_q <= 1'b1;
      end
      if (m_axi_gmem_awvalid && m_axi_gmem_awready) m_axi_gmem_awvalid <= 1'b0;
      if (aw_issue) begin
        m_axi_gmem_awvalid <= 1'b1;
        m_axi_gmem_awaddr <= awaddr_q;
        m_axi_gmem_awlen <= 8'(awlen32 - 1);
        awaddr_q <= awaddr_q + AW'(awlen32 * BYTES);
        awleft_q <= awleft_q - awlen32;
      end
      bout_q <= bout_q + 32'(aw_issue) - 32'(bresp_hs);
    end
  end

  // Kernel time (load + run + store): what the cycle model's kernel term
  // predicts (host/cost/cycles.c, hn_cycles_kernel).
  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n)         kcycles_q <= '0;
    else if (accept_start) kcycles_q <= 32'd1;
    else if (!idle_state)  kcycles_q <= kcycles_q + 1'b1;
  end

  always_ff @(posedge ap_clk or negedge ap_rst_n) begin
    if (!ap_rst_n) begin
      state_q <= S_IDLE;
      core_fin_q <= 1'b0;
      ap_done_q <= 1'b0;
      cycles_q <= '0;
      resp_err_q <= 1'b0;
    end else begin
      if (rd_done_clear) ap_done_q <= 1'b0;
      if (rbeat && m_axi_gmem_rresp != 2'b00) resp_err_q <= 1'b1;
      if (bresp_hs && m_axi_gmem_bresp != 2'b00) resp_err_q <= 1'b1;
      case (state_q)
        S_IDLE: if (ap_start_q) begin
          state_q <= S_LOAD;
          resp_err_q <= 1'b0;
          core_fin_q <= 1'b0;
        end
        // weights and descriptors in: run (activations keep coming)
        S_LOAD: if (rsec_q[1]) state_q <= S_RUN;
        S_RUN: state_q <= S_WAIT;
        S_WAIT: begin
          if (core_done) begin
            cycles_q <= core_cycles;
            core_fin_q <= 1'b1;
          end
          if ((core_done || core_fin_q) && store_done) state_q <= S_DONE;
        end
        default: begin                              // S_DONE
          ap_done_q <= 1'b1;
          state_q <= S_IDLE;
        end
      endcase
    end
  end

  assign core_start = (state_q == S_RUN);

  hn_core #(
    .DM(DM), .DN(DN), .DK(DK), .ACC_W(ACC_W), .BA_MAX(BA_MAX),
    .FILT_W(FILT_W), .PT_W(PT_W), .KW_W(KW_W), .W_AW(W_AW), .A_AW(A_AW),
    .SPL_W(SPL_W), .W_BANKS(W_BANKS)
  ) u_core (
    .clk_i       (ap_clk),
    .rst_ni      (ap_rst_n),
    .cfg_mt_i    (mt_q[W_AW-1:0]),
    .cfg_pt_i    (pt_q[PT_W:0]),
    .cfg_ba_i    (ba_q[3:0]),
    .cfg_kw_i    (kw_q[KW_W-1:0]),
    .cfg_nc_i    (nc_flat),
    .cfg_packed_i(packed_q),
    .cfg_split_i (split_q[BA_MAX*SPL_W-1:0]),
    .cfg_pm1_i   (pm1_q),
    .act_tiles_i (act_tiles_q),
    .start_i     (core_start),
    .busy_o      (core_busy),
    .done_o      (core_done),
    .cycles_o    (core_cycles),
    .wmem_we_i   (we_w),
    .wmem_addr_i (rword_q[W_AW-1:0]),
    .wmem_data_i (wmem_data),
    .amem_we_i   (we_a),
    .amem_addr_i (rword_q[A_AW-1:0]),
    .amem_data_i (wbus[DN*DK-1:0]),
    .mmem_we_i   (we_m),
    .mmem_addr_i (rword_q[W_AW-1:0]),
    .mmem_data_i (wbus[DM*META_W-1:0]),
    .res_addr_i  (res_addr),
    .res_data_o  (res_data),
    .res_we_o    (core_res_we)
  );

  assign m_axi_gmem_arsize  = 3'(LBYTES);
  assign m_axi_gmem_arburst = 2'b01;
  assign m_axi_gmem_awsize  = 3'(LBYTES);
  assign m_axi_gmem_awburst = 2'b01;
  assign m_axi_gmem_bready  = 1'b1;

`ifndef SYNTHESIS
  if (DW != 32 && DW != 64 && DW != 128 && DW != 256 && DW != 512) begin : g_bad_width
    $fatal(1, "hn_krnl_top: C_M_AXI_GMEM_DATA_WIDTH must be 32, 64, 128, 256 or 512");
  end
  if (C_S_AXI_CONTROL_DATA_WIDTH != 32 || C_S_AXI_CONTROL_ADDR_WIDTH != 8) begin : g_bad_param
    $fatal(1, "hn_krnl_top: this wrapper supports 32-bit control data and 8-bit control addresses");
  end
  if (RD_OUTSTANDING < 1 || RD_OUTSTANDING > 16) begin : g_bad_out
    $fatal(1, "hn_krnl_top: RD_OUTSTANDING must be 1..16");
  end
  // a beat carries whole buffer words or a buffer word whole beats
  if ((W_WPW & (W_WPW - 1)) != 0 || (M_WPW & (M_WPW - 1)) != 0 ||
      (A_WPW & (A_WPW - 1)) != 0 || W_WPW > 16 * BW || A_WPW > 16 * BW) begin : g_bad_wpw
    $fatal(1, "hn_krnl_top: buffer words must be a power of two of 32-bit words");
  end
  if ((DN * 32) % DW != 0) begin : g_bad_res
    $fatal(1, "hn_krnl_top: a result word (DN int32) must be whole beats");
  end
  if (BA_MAX * SPL_W > 32 || SPL_W != 4) begin : g_bad_split
    $fatal(1, "hn_krnl_top: the SPLIT register holds BA_MAX 4-bit lane indices (DK <= 16)");
  end
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n) begin
      // AXI: a valid address is held until accepted
      if ($past(m_axi_gmem_arvalid) && !$past(m_axi_gmem_arready) && $past(ap_rst_n))
        assert (m_axi_gmem_arvalid) else $error("hn_krnl_top: arvalid dropped");
      if ($past(m_axi_gmem_awvalid) && !$past(m_axi_gmem_awready) && $past(ap_rst_n))
        assert (m_axi_gmem_awvalid) else $error("hn_krnl_top: awvalid dropped");
      assert (!(rbeat && !dma_rd)) else $error("hn_krnl_top: read data outside load/run");
      // the weights and descriptors are in before the core starts
      assert (!(core_start && rsec_q < 2'd2)) else $error("hn_krnl_top: run before the weights");
      assert (!core_busy || state_q == S_WAIT || state_q == S_RUN) else $error("hn_krnl_top: core busy outside run");
      if (accept_start)
        assert (((w_ptr_q | m_ptr_q | a_ptr_q | r_ptr_q) & (64'(HN_HW_AXI_ALIGN) - 64'd1)) == 0)
          else $error("hn_krnl_top: pointers must be %0d-byte aligned", HN_HW_AXI_ALIGN);
    end
  end
`endif
endmodule
