# Recording stand-ins for the Vitis HLS 2024.1 commands hls/run_hls.tcl uses, for tclsh.
#
# They fail where Vitis would: a source file that does not exist, a solution command before
# open_project/open_solution, csim without a testbench, cosim or export before csynth.
# export_design writes <project>/<solution>/impl/ip/component.xml with the exported VLNV, which the
# Vivado stubs' update_ip_catalog reads, so the two stubbed tools can be chained like the real ones.

namespace eval stub::hls {
    variable project ""
    variable solution ""
    variable top ""
    variable testbench 0
    variable synthesized 0
}

proc open_project {args} {
    stub::call open_project $args
    lassign [stub::parse $args {-reset}] options positional
    set ::stub::hls::project [lindex $positional 0]
    file mkdir $::stub::hls::project
    stub::emit hls_project $::stub::hls::project
}

proc set_top {args} {
    stub::call set_top $args
    if {$::stub::hls::project eq ""} { error "set_top: no open project" }
    set ::stub::hls::top [lindex $args 0]
    stub::emit top $::stub::hls::top
}

proc add_files {args} {
    stub::call add_files $args
    if {$::stub::hls::project eq ""} { error "add_files: no open project" }
    lassign [stub::parse $args {-tb}] options positional
    foreach path $positional {
        if {![file exists $path]} { error "ERROR: \[HLS 200-70\] Cannot find source file $path" }
        stub::emit [expr {[dict exists $options -tb] ? "testbench" : "source"}] [file tail $path]
    }
    if {[dict exists $options -tb]} { set ::stub::hls::testbench 1 }
}

proc open_solution {args} {
    stub::call open_solution $args
    if {$::stub::hls::project eq ""} { error "open_solution: no open project" }
    lassign [stub::parse $args {-reset}] options positional
    set ::stub::hls::solution [lindex $positional 0]
    if {[dict exists $options -flow_target]} { stub::emit flow_target [dict get $options -flow_target] }
}

proc stub::hls::need_solution {command} {
    if {$::stub::hls::solution eq ""} { error "$command: no open solution" }
}

proc set_part {args} {
    stub::call set_part $args
    stub::hls::need_solution set_part
    stub::emit part [lindex $args end]
}

proc create_clock {args} {
    stub::call create_clock $args
    stub::hls::need_solution create_clock
    lassign [stub::parse $args {}] options positional
    stub::emit clock_period [dict get $options -period]
}

proc csim_design {args} {
    stub::call csim_design $args
    stub::hls::need_solution csim_design
    if {!$::stub::hls::testbench} { error "csim_design: no testbench added (add_files -tb)" }
    stub::emit step csim
}

proc csynth_design {args} {
    stub::call csynth_design $args
    stub::hls::need_solution csynth_design
    set ::stub::hls::synthesized 1
    stub::emit step csynth
}

proc cosim_design {args} {
    stub::call cosim_design $args
    if {!$::stub::hls::synthesized} { error "cosim_design: run csynth_design first" }
    stub::emit step cosim
}

proc export_design {args} {
    stub::call export_design $args
    if {!$::stub::hls::synthesized} { error "export_design: run csynth_design first" }
    lassign [stub::parse $args {}] options positional
    set vlnv {}
    foreach {key default} [list -vendor xilinx.com -library hls -ipname $::stub::hls::top -version 1.0] {
        lappend vlnv [expr {[dict exists $options $key] ? [dict get $options $key] : $default}]
    }
    stub::emit step export
    stub::emit export_format [dict get $options -format]
    stub::emit export_vlnv [join $vlnv :]
    set xml "<spirit:component>"
    foreach tag {vendor library name version} value $vlnv { append xml "<spirit:$tag>$value</spirit:$tag>" }
    stub::touch [file join $::stub::hls::project $::stub::hls::solution impl ip component.xml] "$xml</spirit:component>\n"
}
