// hn_krnl_top: Vitis RTL-kernel wrapper of hn_core (ap_ctrl_hs).
//
// The host writes the memory image (docs/hardware.md, "Memory image") to
// device memory, programs the registers below through s_axi_control and
// sets ap_start.  The kernel then
//   1. reads the weight, descriptor and activation sections through m_axi_gmem
//      (32-bit beats, incrementing bursts of up to 16 beats) into the buffers,
//   2. runs hn_core,
//   3. writes the results (cfg_pt x c_out words of DN int32, in
//      (pt, filter) order) to res_ptr, and raises ap_done.
// Pointers must be 64-byte aligned (XRT buffers are 4 KiB aligned), so no
// burst crosses a 4 KiB boundary.
//
// Register map: the HN_REG_* byte offsets of include/hetnas/hwparams.h
// (imported from hn_params_pkg), where each register is described.
// Every buffer word occupies ceil(bits/32) consecutive little-endian 32-bit
// words of its section (bit 0 of the buffer word = bit 0 of the first word).
module hn_krnl_top import hn_params_pkg::*; #(
  parameter int unsigned C_S_AXI_CONTROL_ADDR_WIDTH = 8,
  parameter int unsigned C_S_AXI_CONTROL_DATA_WIDTH = 32,
  parameter int unsigned C_M_AXI_GMEM_ADDR_WIDTH    = 64,
  parameter int unsigned C_M_AXI_GMEM_DATA_WIDTH    = 32
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
  localparam int unsigned ASM_W = A_WPW * 32;               // widest buffer word
  localparam int unsigned AW    = C_M_AXI_GMEM_ADDR_WIDTH;

  // ---- control registers -------------------------------------------------------
  logic        ap_start_q, ap_done_q, gie_q, ier_q, isr_q;
  logic [63:0] w_ptr_q, m_ptr_q, a_ptr_q, r_ptr_q;
  logic [31:0] n_w_q, n_m_q, n_a_q, c_out_q, mt_q, pt_q, ba_q, kw_q;
  logic [31:0] nc_q [BA_MAX];
  logic        packed_q;
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
          HN_REG_PACKED: packed_q <= wdata_q[0];
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
          HN_REG_PACKED: s_axi_control_rdata <= {31'd0, packed_q};
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
  typedef enum logic [2:0] {S_IDLE, S_LOAD, S_RUN, S_WAIT, S_STORE, S_DONE} state_e;
  state_e      state_q;
  logic [1:0]  sec_q;             // 0 weights, 1 descriptors, 2 activations
  logic [31:0] beats_left_q;      // beats of the section not yet requested
  logic [31:0] word_q;            // buffer word being assembled
  logic [3:0]  idx_q;             // 32-bit word within the buffer word
  logic [AW-1:0] raddr_q;
  logic        rburst_q;          // a read burst is outstanding
  logic [ASM_W-1:0] asm_q;
  logic [3:0]  wpw;
  logic [31:0] nwords;

  always_comb begin
    case (sec_q)
      2'd0:    begin wpw = 4'(W_WPW); nwords = n_w_q; end
      2'd1:    begin wpw = 4'(M_WPW); nwords = n_m_q; end
      default: begin wpw = 4'(A_WPW); nwords = n_a_q; end
    endcase
  end

  // core
  logic                       core_start, core_done, core_busy;
  logic [31:0]                core_cycles;
  logic                       we_w, we_m, we_a;
  logic [FILT_W+PT_W-1:0]     res_addr;
  logic [DN*32-1:0]           res_data;
  logic [BA_MAX*KW_W-1:0]     nc_flat;

  always_comb begin
    for (int s = 0; s < BA_MAX; s++) nc_flat[s*KW_W +: KW_W] = nc_q[s][KW_W-1:0];
  end

  // store sequencer
  logic [PT_W:0]     spt_q;
  logic [FILT_W:0]   sf_q;
  logic [4:0]        sbeat_q;
  logic [1:0]        sphase_q;    // 0 read result, 1 wait, 2 address, 3 data/resp
  logic [AW-1:0]     saddr_q;
  logic [DN*32-1:0]  sdata_q;
  logic              bwait_q;

  assign accept_start = (state_q == S_IDLE) && ap_start_q;
  assign idle_state   = (state_q == S_IDLE);
  assign finish       = (state_q == S_DONE);

  logic rbeat;
  assign rbeat = m_axi_gmem_rvalid && m_axi_gmem_rready;

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
      sec_q <= '0;
      beats_left_q <= '0;
      word_q <= '0;
      idx_q <= '0;
      raddr_q <= '0;
      rburst_q <= 1'b0;
      asm_q <= '0;
      m_axi_gmem_arvalid <= 1'b0;
      m_axi_gmem_araddr <= '0;
      m_axi_gmem_arlen <= '0;
      ap_done_q <= 1'b0;
      cycles_q <= '0;
      resp_err_q <= 1'b0;
      spt_q <= '0;
      sf_q <= '0;
      sbeat_q <= '0;
      sphase_q <= '0;
      saddr_q <= '0;
      sdata_q <= '0;
      bwait_q <= 1'b0;
      m_axi_gmem_awvalid <= 1'b0;
      m_axi_gmem_awaddr <= '0;
      m_axi_gmem_wvalid <= 1'b0;
    end else begin
      if (rd_done_clear) ap_done_q <= 1'b0;
      case (state_q)
        S_IDLE: if (ap_start_q) begin
          state_q <= S_LOAD;
          resp_err_q <= 1'b0;
          sec_q <= 2'd0;
          word_q <= '0;
          idx_q <= '0;
          raddr_q <= w_ptr_q[AW-1:0];
          beats_left_q <= n_w_q * W_WPW;
        end
        S_LOAD: begin
          // issue one burst at a time
          if (!rburst_q && !m_axi_gmem_arvalid && beats_left_q != 0) begin
            m_axi_gmem_arvalid <= 1'b1;
            m_axi_gmem_araddr <= raddr_q;
            m_axi_gmem_arlen <= (beats_left_q >= 16) ? 8'd15 : 8'(beats_left_q - 1);
          end
          if (m_axi_gmem_arvalid && m_axi_gmem_arready) begin
            m_axi_gmem_arvalid <= 1'b0;
            rburst_q <= 1'b1;
            raddr_q <= raddr_q + {{(AW-11){1'b0}}, ({1'b0, m_axi_gmem_arlen} + 9'd1), 2'b00};
            beats_left_q <= beats_left_q - (32'(m_axi_gmem_arlen) + 1);
          end
          if (rbeat && m_axi_gmem_rresp != 2'b00) resp_err_q <= 1'b1;
          if (rbeat) begin
            asm_q[32'(idx_q)*32 +: 32] <= m_axi_gmem_rdata;
            if (m_axi_gmem_rlast) rburst_q <= 1'b0;
            if (idx_q == wpw - 1'b1) begin
              idx_q <= '0;
              word_q <= word_q + 1;
            end else begin
              idx_q <= idx_q + 1'b1;
            end
          end
          // section complete (the last word's write happens this cycle)
          if (word_q == nwords && !rburst_q && beats_left_q == 0) begin
            word_q <= '0;
            idx_q <= '0;
            if (sec_q == 2'd0) begin
              sec_q <= 2'd1;
              raddr_q <= m_ptr_q[AW-1:0];
              beats_left_q <= n_m_q * M_WPW;
            end else if (sec_q == 2'd1) begin
              sec_q <= 2'd2;
              raddr_q <= a_ptr_q[AW-1:0];
              beats_left_q <= n_a_q * A_WPW;
            end else begin
              state_q <= S_RUN;
            end
          end
        end
        S_RUN: state_q <= S_WAIT;
        S_WAIT: if (core_done) begin
          cycles_q <= core_cycles;
          state_q <= S_STORE;
          spt_q <= '0;
          sf_q <= '0;
          sphase_q <= 2'd0;
          saddr_q <= r_ptr_q[AW-1:0];
        end
        S_STORE: begin
          case (sphase_q)
            2'd0: sphase_q <= 2'd1;                 // res_addr presented
            2'd1: begin                             // res_data valid
              sdata_q <= res_data;
              m_axi_gmem_awvalid <= 1'b1;
              m_axi_gmem_awaddr <= saddr_q;
              sphase_q <= 2'd2;
            end
            2'd2: if (m_axi_gmem_awready) begin
              m_axi_gmem_awvalid <= 1'b0;
              m_axi_gmem_wvalid <= 1'b1;
              sbeat_q <= '0;
              sphase_q <= 2'd3;
            end
            default: begin
              if (m_axi_gmem_wvalid && m_axi_gmem_wready) begin
                sdata_q <= sdata_q >> 32;
                sbeat_q <= sbeat_q + 1'b1;
                if (sbeat_q == 5'(DN - 1)) begin
                  m_axi_gmem_wvalid <= 1'b0;
                  bwait_q <= 1'b1;
                end
              end
              if (bwait_q && m_axi_gmem_bvalid) begin
                bwait_q <= 1'b0;
                if (m_axi_gmem_bresp != 2'b00) resp_err_q <= 1'b1;
                saddr_q <= saddr_q + AW'(DN * 4);
                sphase_q <= 2'd0;
                if (32'(sf_q) == c_out_q - 1) begin
                  sf_q <= '0;
                  spt_q <= spt_q + 1'b1;
                  if (32'(spt_q) == pt_q - 1) state_q <= S_DONE;
                end else begin
                  sf_q <= sf_q + 1'b1;
                end
              end
            end
          endcase
        end
        default: begin                              // S_DONE
          ap_done_q <= 1'b1;
          state_q <= S_IDLE;
        end
      endcase
    end
  end

  assign we_w = (state_q == S_LOAD) && rbeat && (idx_q == wpw - 1'b1) && (sec_q == 2'd0);
  assign we_m = (state_q == S_LOAD) && rbeat && (idx_q == wpw - 1'b1) && (sec_q == 2'd1);
  assign we_a = (state_q == S_LOAD) && rbeat && (idx_q == wpw - 1'b1) && (sec_q == 2'd2);

  // The buffer word being completed: earlier words from asm_q, this beat's
  // word from rdata.
  logic [ASM_W-1:0] asm_word;
  always_comb begin
    asm_word = asm_q;
    asm_word[32'(idx_q)*32 +: 32] = m_axi_gmem_rdata;
  end

  assign core_start = (state_q == S_RUN);
  assign res_addr   = {spt_q[PT_W-1:0], sf_q[FILT_W-1:0]};

  hn_core #(
    .DM(DM), .DN(DN), .DK(DK), .ACC_W(ACC_W), .BA_MAX(BA_MAX),
    .FILT_W(FILT_W), .PT_W(PT_W), .KW_W(KW_W), .W_AW(W_AW), .A_AW(A_AW),
    .SPL_W(SPL_W)
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
    .start_i     (core_start),
    .busy_o      (core_busy),
    .done_o      (core_done),
    .cycles_o    (core_cycles),
    .wmem_we_i   (we_w),
    .wmem_addr_i (word_q[W_AW-1:0]),
    .wmem_data_i (asm_word[DM*DK-1:0]),
    .amem_we_i   (we_a),
    .amem_addr_i (word_q[A_AW-1:0]),
    .amem_data_i (asm_word[DN*DK-1:0]),
    .mmem_we_i   (we_m),
    .mmem_addr_i (word_q[W_AW-1:0]),
    .mmem_data_i (asm_word[DM*META_W-1:0]),
    .res_addr_i  (res_addr),
    .res_data_o  (res_data)
  );

  assign m_axi_gmem_arsize  = 3'(($clog2(C_M_AXI_GMEM_DATA_WIDTH / 8)));
  assign m_axi_gmem_arburst = 2'b01;
  assign m_axi_gmem_rready  = (state_q == S_LOAD);
  assign m_axi_gmem_awsize  = 3'(($clog2(C_M_AXI_GMEM_DATA_WIDTH / 8)));
  assign m_axi_gmem_awburst = 2'b01;
  assign m_axi_gmem_awlen   = 8'(DN - 1);
  assign m_axi_gmem_wdata   = sdata_q[31:0];
  assign m_axi_gmem_wstrb   = '1;
  assign m_axi_gmem_wlast   = (sbeat_q == 5'(DN - 1));
  assign m_axi_gmem_bready  = bwait_q;

`ifndef SYNTHESIS
  if (C_M_AXI_GMEM_DATA_WIDTH != 32 || C_S_AXI_CONTROL_DATA_WIDTH != 32 ||
      C_S_AXI_CONTROL_ADDR_WIDTH != 8) begin : g_bad_param
    $fatal(1, "hn_krnl_top: this wrapper supports 32-bit gmem/control data and 8-bit control addresses");
  end
  if (BA_MAX * SPL_W > 32 || SPL_W != 4) begin : g_bad_split
    $fatal(1, "hn_krnl_top: the SPLIT register holds BA_MAX 4-bit lane indices (DK <= 16)");
  end
  always_ff @(posedge ap_clk) begin
    if (ap_rst_n) begin
      // AXI: a valid address is held until accepted
      if ($past(m_axi_gmem_arvalid) && !$past(m_axi_gmem_arready) && $past(ap_rst_n))
        assert (m_axi_gmem_arvalid) else $error("hn_krnl_top: arvalid dropped");
      assert (!(rbeat && state_q != S_LOAD)) else $error("hn_krnl_top: read data outside load");
      assert (!core_busy || state_q == S_WAIT || state_q == S_RUN) else $error("hn_krnl_top: core busy outside run");
    end
  end
`endif
endmodule
