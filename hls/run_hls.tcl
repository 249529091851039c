# Vitis HLS flow for the bit-serial conv kernel hn_bsconv (hls/hn_bsconv.c):
# C simulation, C synthesis and C/RTL co-simulation with the testbench
# hls/tb/tb_bsconv.c (random jobs, compared with the C reference).
#
#   cd <build dir> && vitis_hls -f <src>/hls/run_hls.tcl
#
# Environment (all optional):
#   HN_HLS_STEPS  steps to run, default "csim csynth"; add "cosim" and/or
#                 "export" (Vitis .xo for v++ linking)
#   HN_HLS_PART   FPGA part, default xcu250-figd2104-2L-e (Alveo U250)
#   HN_HLS_CLOCK  clock period in ns, default 3.33 (300 MHz)
# The testbench links libyaml (the job code it shares with the host).
# Vitis HLS is not installed on the development machine; docs/hls.md says
# what was verified there (gcc csim, OpenCL C on PoCL) and what was not.

set root [file normalize [file join [file dirname [info script]] ..]]
proc env_or {name def} {
    if {[info exists ::env($name)] && $::env($name) ne ""} { return $::env($name) }
    return $def
}
set steps [env_or HN_HLS_STEPS "csim csynth"]
set part  [env_or HN_HLS_PART xcu250-figd2104-2L-e]
set clock [env_or HN_HLS_CLOCK 3.33]

set kflags "-I$root/hls"
set tbflags "-I$root/hls -I$root/include -I$root/host -std=gnu11"

open_project -reset hn_bsconv_prj
set_top hn_bsconv
add_files $root/hls/hn_bsconv.c -cflags $kflags
add_files -tb $root/hls/tb/tb_bsconv.c -cflags $tbflags
foreach f {host/core/status.c host/core/rng.c host/core/doc.c host/core/json.c
           host/core/fileio.c host/core/log.c host/core/str.c host/net/hwjob.c
           host/backend/hwref.c host/backend/hwpack.c} {
    add_files -tb $root/$f -cflags $tbflags
}

open_solution -reset sol1 -flow_target vitis
set_part $part
create_clock -period $clock -name default

if {[lsearch $steps csim] >= 0} {
    csim_design -ldflags "-lyaml" -argv "50"
}
if {[lsearch $steps csynth] >= 0 || [lsearch $steps cosim] >= 0 ||
    [lsearch $steps export] >= 0} {
    csynth_design
}
if {[lsearch $steps cosim] >= 0} {
    # A few small jobs: RTL co-simulation is slow.
    cosim_design -ldflags "-lyaml" -argv "3"
}
if {[lsearch $steps export] >= 0} {
    export_design -format xo -output hn_bsconv.xo
}
exit
