# Vitis HLS 2024.1 flow for the SSA kernel: C simulation, C synthesis, C/RTL co-simulation and
# export of the IP xilinx.com:hls:ssa_top:1.0 for the Vivado IP catalog (overlay/ uses it).
#
#   vitis_hls -f hls/run_hls.tcl                                   # all steps, default build
#   vitis_hls -f hls/run_hls.tcl -tclargs steps=csim,csynth n_tile=16 dk_max=128 clock_mhz=150
#
# Settings (key=value after -tclargs, or Tcl variables of the same name set before `source`):
#   steps          comma list of csim, csynth, cosim, export        (default: all four)
#   n_tile         SAU array side (N_TILE x N_TILE) -> -DSSA_N_TILE     (default: 32)
#   n_limit dk_max t_max   largest N, D_K, T of a block -> -DSSA_N_LIMIT ... (default: 256 64 32)
#   clock_mhz      target clock                                      (default: 200)
#   part           FPGA part                                         (default: xc7z020clg400-1, PYNQ-Z2)
#   project        project directory, created in the working dir     (default: ssa_hls_prj)
#   vectors        directory of golden vectors                       (default: ../tests/vectors)
#   cosim_vectors  comma list of vector files in `vectors` for co-simulation (small ones: RTL
#                  simulation is slow)                               (default: n4_dk8_t3.txt,n8_dk32_t4_blocks3.txt)
# The testbench skips vectors that need larger maxima than the build and fails on any mismatch.

set script_dir [file dirname [file normalize [info script]]]

set defaults [dict create \
    steps csim,csynth,cosim,export n_tile 32 n_limit 256 dk_max 64 t_max 32 clock_mhz 200 \
    part xc7z020clg400-1 project ssa_hls_prj \
    vectors [file normalize [file join $script_dir .. tests vectors]] \
    cosim_vectors n4_dk8_t3.txt,n8_dk32_t4_blocks3.txt]

set settings [dict create]
dict for {key value} $defaults {
    if {[info exists ::$key]} { set value [set ::$key] }
    dict set settings $key $value
}
if {[info exists ::argv]} {
    foreach arg $::argv {
        if {![regexp {^([a-z_]+)=(.*)$} $arg -> key value] || ![dict exists $defaults $key]} {
            puts stderr "run_hls.tcl: unknown argument '$arg'; use key=value with key in: [dict keys $defaults]"
            exit 2
        }
        dict set settings $key $value
    }
}
foreach key {n_tile n_limit dk_max t_max} {
    if {![string is integer -strict [dict get $settings $key]]} {
        puts stderr "run_hls.tcl: $key must be an integer, got '[dict get $settings $key]'"
        exit 2
    }
}
if {[dict get $settings n_tile] < 1 || [dict get $settings n_tile] > [dict get $settings n_limit]} {
    puts stderr "run_hls.tcl: n_tile must be 1..n_limit ([dict get $settings n_limit]), got [dict get $settings n_tile]"
    exit 2
}
set steps [split [dict get $settings steps] ,]
foreach step $steps {
    if {$step ni {csim csynth cosim export}} {
        puts stderr "run_hls.tcl: unknown step '$step'; steps are csim, csynth, cosim, export"
        exit 2
    }
}

set vector_dir [dict get $settings vectors]
set all_vectors [lsort [glob -nocomplain -directory $vector_dir *.txt]]
set cosim_vectors {}
foreach name [split [dict get $settings cosim_vectors] ,] {
    lappend cosim_vectors [file join $vector_dir $name]
}
if {("csim" in $steps && [llength $all_vectors] == 0) || ("cosim" in $steps && [llength $cosim_vectors] == 0)} {
    puts stderr "run_hls.tcl: no golden vectors in $vector_dir; regenerate them with: python -m ssa.contract.vectors tests/vectors"
    exit 2
}

set cflags "-std=c++14 -DSSA_N_TILE=[dict get $settings n_tile] -DSSA_N_LIMIT=[dict get $settings n_limit] -DSSA_DK_MAX=[dict get $settings dk_max] -DSSA_T_MAX=[dict get $settings t_max]"
set period_ns [format %.3f [expr {1000.0 / [dict get $settings clock_mhz]}]]
puts "run_hls.tcl: steps=$steps part=[dict get $settings part] clock=${period_ns}ns cflags=$cflags"

open_project -reset [dict get $settings project]
set_top ssa_top
# hls/csim/ is NOT added: Vitis uses its own hls_stream.h and ap_axi_sdata.h.
foreach source {ssa_top.cpp ssa_top.h ssa_params.h ssa_types.h ssa_prng.h ssa_encoder.h ssa_sau.h ssa_packing.h} {
    add_files [file join $script_dir $source] -cflags $cflags
}
add_files -tb [file join $script_dir tb_ssa.cpp] -cflags $cflags
open_solution -reset sol1 -flow_target vivado
set_part [dict get $settings part]
create_clock -period $period_ns -name default

if {"csim" in $steps} {
    csim_design -argv [join $all_vectors " "]
}
if {"csynth" in $steps} {
    csynth_design
}
if {"cosim" in $steps} {
    cosim_design -argv [join $cosim_vectors " "]
}
if {"export" in $steps} {
    export_design -format ip_catalog -vendor xilinx.com -library hls -ipname ssa_top -version 1.0 \
        -display_name "SSA: stochastic spiking attention (N_TILE=[dict get $settings n_tile], N_LIMIT=[dict get $settings n_limit])" \
        -description "N_TILE x N_TILE SAU array tiled over blocks of up to N_LIMIT tokens, docs/spec.md contract v2"
}
exit
