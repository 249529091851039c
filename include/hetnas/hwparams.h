/* The array build and the kernel's register map: the one source of these
 * facts.  The cycle model (hn_array_params_default), the Verilator build
 * (sim/CMakeLists.txt reads this file), the host driver of the RTL kernel
 * and the RTL itself use them; rtl/pkg/hn_params_pkg.sv is generated from
 * this file by scripts/gen_rtl_params.sh and a test checks the two agree.
 * Only `#define HN_HW_* <int>` and `#define HN_REG_* 0x..` lines are read by
 * the generator: keep one per line. */
#ifndef HETNAS_HWPARAMS_H
#define HETNAS_HWPARAMS_H

/* ---- geometry of the default build (docs/hardware.md) ---- */
#define HN_HW_DM 4         /* rows: (filter, weight plane) pairs per tile */
#define HN_HW_DN 16        /* columns: output pixels per tile */
#define HN_HW_DK 16        /* binary lanes per dot-product unit */
#define HN_HW_ACC_W 20     /* unsigned partial-sum bits of a DPU */
#define HN_HW_WBITS_MAX 8  /* weight bits 1..8 (1 = +-1: a sign row + a shared all-ones row) */
#define HN_HW_BA_MAX 8     /* activation bits 1..8 */
#define HN_HW_FILT_W 7     /* filter index bits: c_out <= 128 */
#define HN_HW_PT_W 6       /* pixel tiles per run <= 64 */
#define HN_HW_KW_W 10      /* words per plane < 1024 */
#define HN_HW_W_AW 13      /* weight/descriptor buffer address bits */
#define HN_HW_A_AW 14      /* activation buffer address bits */

/* ---- hn_krnl_top's m_axi port (docs/hardware.md, "Kernel time") ---- */
#define HN_HW_AXI_W 512       /* data bits: 32, 64, 128, 256 or 512 (U250 DDR / U280 HBM port: 512) */
#define HN_HW_AXI_RD_OUT 4    /* read bursts outstanding */
#define HN_HW_AXI_ALIGN 4096  /* section/result pointer alignment (bytes): no burst crosses 4 KiB */

/* ---- hn_krnl_top register map (byte offsets of 32-bit registers) ---- */
#define HN_REG_CTRL 0x00   /* bit0 ap_start, bit1 ap_done, bit2 ap_idle, bit3 ap_ready */
#define HN_REG_GIE 0x04    /* bit0 global interrupt enable */
#define HN_REG_IER 0x08    /* bit0 ap_done interrupt enable */
#define HN_REG_ISR 0x0C    /* bit0 ap_done interrupt status (write 1 toggles) */
#define HN_REG_W_PTR 0x10  /* weight section, lo word (hi at +4) */
#define HN_REG_M_PTR 0x18  /* descriptor section, lo word (hi at +4) */
#define HN_REG_A_PTR 0x20  /* activation section, lo word (hi at +4) */
#define HN_REG_R_PTR 0x28  /* results, lo word (hi at +4) */
#define HN_REG_N_W 0x30    /* weight words */
#define HN_REG_N_M 0x34    /* descriptor words */
#define HN_REG_N_A 0x38    /* activation words */
#define HN_REG_C_OUT 0x3C  /* filters */
#define HN_REG_MT 0x40     /* row tiles */
#define HN_REG_PT 0x44     /* pixel tiles of this run */
#define HN_REG_BA 0x48     /* activation planes */
#define HN_REG_KW 0x4C     /* words per plane */
#define HN_REG_NC 0x50     /* nc[0..BA_MAX-1], 4 bytes apart */
#define HN_REG_CYCLES 0x70 /* RO: core cycles of the last run */
#define HN_REG_STATUS 0x74 /* RO: bit0 an AXI response was not OKAY */
#define HN_REG_PACKED 0x7C /* bit0 packed-step schedule, bit1 +-1 filters (shared all-ones row, one-row drain; docs/hardware.md) */
#define HN_REG_SPLIT 0x80  /* split[s] (lane index) at bits [4s +: 4], s < BA_MAX */
#define HN_REG_KCYCLES 0x78 /* RO: kernel cycles of the last call, ap_start accepted to done (load + run + store) */

#endif
