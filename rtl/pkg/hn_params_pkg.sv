// Generated from include/hetnas/hwparams.h by scripts/gen_rtl_params.sh.
// Do not edit: change the header and regenerate (a test compares them).
package hn_params_pkg;
  localparam int unsigned HN_HW_DM = 4;
  localparam int unsigned HN_HW_DN = 16;
  localparam int unsigned HN_HW_DK = 16;
  localparam int unsigned HN_HW_ACC_W = 20;
  localparam int unsigned HN_HW_WBITS_MAX = 8;
  localparam int unsigned HN_HW_BA_MAX = 8;
  localparam int unsigned HN_HW_FILT_W = 7;
  localparam int unsigned HN_HW_PT_W = 6;
  localparam int unsigned HN_HW_KW_W = 10;
  localparam int unsigned HN_HW_W_AW = 13;
  localparam int unsigned HN_HW_A_AW = 14;
  localparam logic [7:0] HN_REG_CTRL = 8'h00;
  localparam logic [7:0] HN_REG_GIE = 8'h04;
  localparam logic [7:0] HN_REG_IER = 8'h08;
  localparam logic [7:0] HN_REG_ISR = 8'h0C;
  localparam logic [7:0] HN_REG_W_PTR = 8'h10;
  localparam logic [7:0] HN_REG_M_PTR = 8'h18;
  localparam logic [7:0] HN_REG_A_PTR = 8'h20;
  localparam logic [7:0] HN_REG_R_PTR = 8'h28;
  localparam logic [7:0] HN_REG_N_W = 8'h30;
  localparam logic [7:0] HN_REG_N_M = 8'h34;
  localparam logic [7:0] HN_REG_N_A = 8'h38;
  localparam logic [7:0] HN_REG_C_OUT = 8'h3C;
  localparam logic [7:0] HN_REG_MT = 8'h40;
  localparam logic [7:0] HN_REG_PT = 8'h44;
  localparam logic [7:0] HN_REG_BA = 8'h48;
  localparam logic [7:0] HN_REG_KW = 8'h4C;
  localparam logic [7:0] HN_REG_NC = 8'h50;
  localparam logic [7:0] HN_REG_CYCLES = 8'h70;
  localparam logic [7:0] HN_REG_STATUS = 8'h74;
  localparam logic [7:0] HN_REG_PACKED = 8'h7C;
  localparam logic [7:0] HN_REG_SPLIT = 8'h80;
  localparam logic [7:0] HN_REG_KCYCLES = 8'h78;
endpackage
