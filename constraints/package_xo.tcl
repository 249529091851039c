# Packages rtl/ as a Vitis RTL kernel (.xo).  Needs Vivado (not installed on
# the development machine):
#   vivado -mode batch -source constraints/package_xo.tcl -tclargs hn_krnl_top.xo
set xo [lindex $argv 0]
set root [file normalize [file dirname [info script]]/..]
create_project -force kernel_pack ./kernel_pack
add_files [concat $root/rtl/pkg/hn_params_pkg.sv [glob $root/rtl/hn_*.sv]]
set_property top hn_krnl_top [current_fileset]
add_files -fileset constrs_1 $root/constraints/hn_krnl_top.xdc
update_compile_order -fileset sources_1
ipx::package_project -root_dir ./kernel_ip -vendor hetnas -library kernel -taxonomy /KernelIP -import_files -set_current false
ipx::unload_core ./kernel_ip/component.xml
ipx::edit_ip_in_project -upgrade true -name tmp_edit -directory ./kernel_ip ./kernel_ip/component.xml
set core [ipx::current_core]
ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk $core
ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk $core
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
ipx::update_checksums $core
ipx::save_core $core
close_project -delete
package_xo -xo_path $xo -kernel_name hn_krnl_top -ip_directory ./kernel_ip -kernel_xml $root/constraints/kernel.xml
