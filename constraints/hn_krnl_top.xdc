# Out-of-context timing constraint for rtl/hn_krnl_top.sv (Vivado synthesis
# of the kernel alone).  Inside a Vitis platform the kernel clock comes from
# the platform (--kernel_frequency); this mirrors its default 300 MHz.
create_clock -name ap_clk -period 3.333 [get_ports ap_clk]
# ap_rst_n is synchronous to ap_clk in Vitis platforms.
set_input_delay -clock ap_clk 0.5 [get_ports ap_rst_n]
