# Build the SSA overlay (ssa.bit + ssa.hwh) with Vivado 2024.1 in batch mode.
#
#   vivado -mode batch -source build_overlay.tcl -tclargs -ip_repo <exported HLS IP dir> \
#          [-board pynq-z2|pynq-z1] [-fclk_mhz 100] [-out build] [-proj_dir build/vivado] \
#          [-jobs 4] [-timeout_min 240]
#
# -fclk_mhz sets FCLK_CLK0, the one PL clock (DMA, interconnects, kernel): 100 MHz by default, half
# the 200 MHz the HLS kernel is synthesized for, so the whole PL has margin (overlay/README.md).
# Fails (non-zero exit) when a run does not finish, when timing is not met (WNS or WHS < 0) and
# before any bitstream is written in that case. overlay/Makefile runs the HLS export first.
# Written for Tcl 8.5 as well as 8.6 (no lmap, try or throw).

set ssa_build_dir [file dirname [file normalize [info script]]]
source [file join $ssa_build_dir ssa_bd.tcl]

namespace eval ssa_build {
    variable part xc7z020clg400-1
    variable board_parts {
        pynq-z2 tul.com.tw:pynq-z2:part0:1.0
        pynq-z1 www.digilentinc.com:pynq-z1:part0:1.0
    }
    variable defaults {
        -board pynq-z2 -fclk_mhz 100 -ip_repo "" -out build -proj_dir build/vivado
        -jobs 4 -timeout_min 240
    }
}

# Options as a dict, defaults filled in; an unknown option or a bad value is an error.
proc ssa_build::parse_args {argv} {
    variable defaults
    variable board_parts
    if {[llength $argv] % 2} { error "options come in pairs: [join [dict keys $defaults] {, }]" }
    set opts $defaults
    foreach {key value} $argv {
        if {![dict exists $defaults $key]} {
            error "unknown option $key; known: [join [dict keys $defaults] {, }]"
        }
        dict set opts $key $value
    }
    if {![dict exists $board_parts [dict get $opts -board]]} {
        error "-board [dict get $opts -board] is unknown; use one of [join [dict keys $board_parts] {, }]"
    }
    foreach key {-fclk_mhz -jobs -timeout_min} {
        set value [dict get $opts $key]
        if {![string is integer -strict $value] || $value <= 0} { error "$key must be a positive integer, got '$value'" }
    }
    set repo [dict get $opts -ip_repo]
    if {$repo eq "" || ![file isdirectory $repo]} {
        error "-ip_repo '$repo' is not a directory: pass the IP exported by hls/run_hls.tcl\
               (overlay/Makefile runs it first: make -C overlay)"
    }
    return $opts
}

# Use the board files when installed (PS7 presets for MIO/DDR); otherwise the bare part.
# Returns 1 when a board part is set, 0 for the bare-part fallback.
proc ssa_build::set_board {board} {
    variable board_parts
    variable part
    set wanted [dict get $board_parts $board]
    if {[llength [get_board_parts -quiet $wanted]] > 0} {
        set_property board_part $wanted [current_project]
        puts "INFO: SSA overlay for board $wanted"
        return 1
    }
    puts "WARNING: board files for $wanted are not installed; building for the bare part $part\
          without board presets. The PL design is the same; PYNQ keeps the PS configuration of its\
          boot image and only takes the PL clocks from the .hwh. To use the board files, install them\
          (https://github.com/Xilinx/XilinxBoardStore or the board vendor) and set\
          board.repoPaths before building."
    return 0
}

# Error unless `run` completed (wait_on_runs returns on timeout as well as on completion).
proc ssa_build::check_run {run} {
    set progress [get_property PROGRESS [get_runs $run]]
    if {$progress ne "100%"} {
        error "$run did not complete (progress $progress, status '[get_property STATUS [get_runs $run]]');\
               see [get_property DIRECTORY [get_runs $run]]/runme.log"
    }
}

# Error on negative setup (WNS) or hold (WHS) slack of the opened implemented design.
proc ssa_build::check_timing {fclk_mhz report} {
    set wns [get_property SLACK [get_timing_paths -delay_type max -max_paths 1 -nworst 1]]
    set whs [get_property SLACK [get_timing_paths -delay_type min -max_paths 1 -nworst 1]]
    if {$wns eq "" || $whs eq ""} {
        error "no timed paths in the implemented design: the clock constraints are missing ($report)"
    }
    puts "INFO: timing at FCLK0 = $fclk_mhz MHz: WNS = $wns ns, WHS = $whs ns"
    if {$wns < 0 || $whs < 0} {
        error "timing not met at $fclk_mhz MHz (WNS = $wns ns, WHS = $whs ns, see $report);\
               no bitstream written. Rebuild with a lower -fclk_mhz (FCLK_MHZ= in make)."
    }
}

# The single file called `name` below `dir` (Vivado's generated-file layout varies by release).
proc ssa_build::find_file {dir name} {
    set found [glob -nocomplain -types f -directory $dir $name]
    foreach sub [glob -nocomplain -types d -directory $dir *] {
        set found [concat $found [find_file $sub $name]]
    }
    return $found
}

proc ssa_build::main {argv} {
    variable part
    set opts [parse_args $argv]
    set fclk [dict get $opts -fclk_mhz]
    set jobs [dict get $opts -jobs]
    set timeout [dict get $opts -timeout_min]
    set out [file normalize [dict get $opts -out]]
    set proj_dir [file normalize [dict get $opts -proj_dir]]
    file mkdir $out
    file delete -force [file join $out ssa.bit] [file join $out ssa.hwh]  ;# no stale output after a failure

    create_project -force ssa_overlay $proj_dir -part $part
    set preset [set_board [dict get $opts -board]]
    set_property ip_repo_paths [list [file normalize [dict get $opts -ip_repo]]] [current_project]
    update_ip_catalog

    ssa_bd::create ssa $fclk $preset
    set bd_file [get_files ssa.bd]
    generate_target all $bd_file
    add_files -norecurse [make_wrapper -files $bd_file -top]
    set_property top ssa_wrapper [current_fileset]
    update_compile_order -fileset sources_1

    foreach run {synth_1 impl_1} {
        launch_runs $run -jobs $jobs
        wait_on_runs -timeout $timeout $run
        check_run $run
    }

    open_run impl_1
    set report [file join $out timing_summary.rpt]
    report_timing_summary -file $report
    report_utilization -file [file join $out utilization.rpt]
    check_timing $fclk $report

    # The hardware handoff of the block design (Vivado may keep other copies, e.g. under synth/).
    # Copied before the bitstream is written, so a present ssa.bit always has its ssa.hwh.
    set hwh {}
    foreach f [find_file $proj_dir ssa.hwh] {
        if {[file tail [file dirname $f]] eq "hw_handoff"} { lappend hwh $f }
    }
    if {[llength $hwh] != 1} { error "expected one hw_handoff/ssa.hwh below $proj_dir, found [llength $hwh]: $hwh" }
    file copy -force [lindex $hwh 0] [file join $out ssa.hwh]
    write_bitstream -force [file join $out ssa.bit]
    puts "INFO: SSA overlay written: [file join $out ssa.bit] and [file join $out ssa.hwh]"
}

ssa_build::main $argv
