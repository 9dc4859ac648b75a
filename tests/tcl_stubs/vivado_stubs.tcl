# Recording stand-ins for the Vivado 2024.1 commands overlay/*.tcl uses, for tclsh.
#
# The stubs keep a small model of the project and block design and fail the way Vivado does:
# unknown IP VLNVs (the HLS IP exists only after update_ip_catalog finds its component.xml in
# ip_repo_paths), unknown CONFIG parameters or out-of-range values, pins of cells that do not exist,
# incompatible or doubly connected interfaces, unconnected clocks/resets/interfaces at
# validate_bd_design, a board preset without a board part, write_bitstream without an open run.
# Knobs (environment): STUB_BOARDS (installed board parts, space separated), STUB_WNS / STUB_WHS
# (slack in ns), STUB_PROGRESS_<run> (e.g. "57%" for an unfinished run).

namespace eval stub::viv {
    variable project ""
    variable projdir ""
    variable board_part ""
    variable repo_vlnvs {}
    variable repo_paths {}
    variable bd ""
    variable cells {}        ;# name -> {vlnv ... config {...}}
    variable connected {}    ;# pin or interface path -> 1
    variable launched {}
    variable opened ""
}

# Catalog of the modelled IPs: CONFIG parameters as {default legal-values} ("" = any value), pins as
# {kind ?CONFIG value?} (kind clk/rst must be connected, out/opt need not), interfaces as
# {mode protocol required ?CONFIG value?}; the optional CONFIG/value pair makes the pin exist only
# while that parameter has that value. ssa_top's interfaces are named after the arguments in
# hls/ssa_top.h (in_stream, out_stream); axi_interconnect's are generated from NUM_SI/NUM_MI.
namespace eval stub::viv {
    variable catalog [dict create \
        xilinx.com:ip:processing_system7:5.5 [dict create \
            config {PCW_USE_M_AXI_GP0 {1 {0 1}} PCW_USE_S_AXI_HP0 {0 {0 1}} PCW_S_AXI_HP0_DATA_WIDTH {64 {32 64}}
                    PCW_EN_CLK0_PORT {1 {0 1}} PCW_EN_RST0_PORT {1 {0 1}} PCW_FPGA0_PERIPHERAL_FREQMHZ {50 ""}} \
            pins {FCLK_CLK0 out FCLK_RESET0_N out M_AXI_GP0_ACLK clk S_AXI_HP0_ACLK {clk PCW_USE_S_AXI_HP0 1}} \
            intf {M_AXI_GP0 {Master aximm 1} S_AXI_HP0 {Slave aximm 1 PCW_USE_S_AXI_HP0 1}
                  DDR {Master ddrx 1} FIXED_IO {Master fixedio 1}}] \
        xilinx.com:ip:proc_sys_reset:5.0 [dict create \
            config {} \
            pins {slowest_sync_clk clk ext_reset_in rst peripheral_aresetn out interconnect_aresetn out
                  aux_reset_in opt dcm_locked opt mb_debug_sys_rst opt} \
            intf {}] \
        xilinx.com:ip:axi_dma:7.1 [dict create \
            config {c_include_sg {1 {0 1}} c_sg_length_width {14 {8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26}}
                    c_sg_include_stscntrl_strm {1 {0 1}} c_include_mm2s {1 {0 1}} c_include_s2mm {1 {0 1}}
                    c_m_axi_mm2s_data_width {32 {32 64 128 256 512 1024}} c_m_axis_mm2s_tdata_width {32 {8 16 32 64 128 256 512 1024}}
                    c_m_axi_s2mm_data_width {32 {32 64 128 256 512 1024}} c_s_axis_s2mm_tdata_width {32 {8 16 32 64 128 256 512 1024}}
                    c_include_mm2s_dre {0 {0 1}} c_include_s2mm_dre {0 {0 1}}
                    c_mm2s_burst_size {16 {2 4 8 16 32 64 128 256}} c_s2mm_burst_size {16 {2 4 8 16 32 64 128 256}}
                    c_addr_width {32 ""} c_micro_dma {0 {0 1}}} \
            pins {s_axi_lite_aclk clk m_axi_mm2s_aclk clk m_axi_s2mm_aclk clk m_axi_sg_aclk {clk c_include_sg 1}
                  axi_resetn rst mm2s_introut opt s2mm_introut opt} \
            intf {S_AXI_LITE {Slave aximm 1} M_AXI_MM2S {Master aximm 1} M_AXI_S2MM {Master aximm 1}
                  M_AXIS_MM2S {Master axis 1} S_AXIS_S2MM {Slave axis 1} M_AXI_SG {Master aximm 1 c_include_sg 1}}] \
        xilinx.com:hls:ssa_top:1.0 [dict create \
            config {} \
            pins {ap_clk clk ap_rst_n rst interrupt opt} \
            intf {s_axi_control {Slave aximm 1} in_stream {Slave axis 1} out_stream {Master axis 1}}] \
    ]
}

proc stub::viv::interconnect_entry {num_si num_mi} {
    set pins {ACLK clk ARESETN rst}
    set intf {}
    foreach {prefix count mode} [list S $num_si Slave M $num_mi Master] {
        for {set i 0} {$i < $count} {incr i} {
            set port [format %s%02d $prefix $i]
            lappend pins ${port}_ACLK clk ${port}_ARESETN rst
            lappend intf ${port}_AXI [list $mode aximm 1]
        }
    }
    return [dict create pins $pins intf $intf]
}

# The catalog entry of a cell, with the pins its current CONFIG enables.
proc stub::viv::entry {cell} {
    variable cells
    variable catalog
    set vlnv [dict get $cells $cell vlnv]
    set config [dict get $cells $cell config]
    if {$vlnv eq "xilinx.com:ip:axi_interconnect:2.1"} {
        return [interconnect_entry [dict get $config NUM_SI] [dict get $config NUM_MI]]
    }
    set full [dict get $catalog $vlnv]
    set result [dict create pins {} intf {}]
    foreach section {pins intf} {
        foreach {name spec} [dict get $full $section] {
            set condition [expr {$section eq "pins" ? [lrange $spec 1 2] : [lrange $spec 3 4]}]
            if {[llength $condition] == 2 && [dict get $config [lindex $condition 0]] ne [lindex $condition 1]} { continue }
            dict set result $section $name $spec
        }
    }
    return $result
}

proc stub::viv::default_config {vlnv} {
    variable catalog
    if {$vlnv eq "xilinx.com:ip:axi_interconnect:2.1"} { return {NUM_SI 1 NUM_MI 2} }
    set config {}
    foreach {key spec} [dict get $catalog $vlnv config] { dict set config $key [lindex $spec 0] }
    return $config
}

proc stub::viv::check_config {cell key value} {
    variable cells
    variable catalog
    set vlnv [dict get $cells $cell vlnv]
    if {$vlnv eq "xilinx.com:ip:axi_interconnect:2.1"} {
        if {$key ni {NUM_SI NUM_MI} || ![string is integer -strict $value] || $value < 1 || $value > 16} {
            error "CONFIG.$key=$value is not a valid parameter value of $cell ($vlnv)"
        }
        return
    }
    set specs [dict get $catalog $vlnv config]
    if {![dict exists $specs $key]} { error "ERROR: \[BD 41-1276\] parameter CONFIG.$key does not exist on $cell ($vlnv)" }
    set legal [lindex [dict get $specs $key] 1]
    if {$legal ne "" && $value ni $legal} { error "CONFIG.$key=$value is outside the legal values {$legal} of $cell" }
}

proc stub::viv::cell_of {path} { return [lindex [split [string trimleft $path /] /] 0] }

# --- project ------------------------------------------------------------------------------------

proc create_project {args} {
    stub::call create_project $args
    lassign [stub::parse $args {-force -in_memory}] options positional
    lassign $positional name dir
    if {![dict exists $options -part]} { error "create_project: -part is required here" }
    set ::stub::viv::project $name
    set ::stub::viv::projdir [file normalize $dir]
    file mkdir $dir
    stub::emit part [dict get $options -part]
    return $name
}

proc current_project {args} { stub::call current_project $args; return "project:$::stub::viv::project" }
proc current_fileset {args} { stub::call current_fileset $args; return "fileset:sources_1" }

proc get_board_parts {args} {
    stub::call get_board_parts $args
    lassign [stub::parse $args {-quiet -latest_file_version}] options positional
    set found {}
    foreach board [stub::knob STUB_BOARDS ""] {
        foreach pattern $positional { if {[string match $pattern $board]} { lappend found $board } }
    }
    return $found
}

proc set_property {args} {
    stub::call set_property $args
    lassign [stub::parse $args {-quiet}] options positional
    if {[dict exists $options -dict]} {
        set pairs [dict get $options -dict]
        set objects [lindex $positional 0]
    } else {
        lassign $positional name value objects
        set pairs [list $name $value]
    }
    if {[llength $objects] == 0} { error "set_property: no object given" }
    foreach object $objects {
        foreach {name value} $pairs { stub::viv::set_one $object $name $value }
    }
}

proc stub::viv::set_one {object name value} {
    variable cells
    if {[string match project:* $object]} {
        switch -- $name {
            board_part {
                if {$value ni [stub::knob STUB_BOARDS ""]} { error "board_part $value is not installed" }
                set ::stub::viv::board_part $value
                stub::emit board_part $value
            }
            ip_repo_paths { stub::emit ip_repo_paths {*}$value; set ::stub::viv::repo_paths $value }
            default { error "set_property: project property $name is not modelled" }
        }
    } elseif {[string match fileset:* $object]} {
        stub::emit fileset_property $name $value
    } else {
        set cell [cell_of $object]
        if {![dict exists $cells $cell]} { error "set_property: object $object does not exist" }
        if {![string match CONFIG.* $name]} { error "set_property: $name is not a CONFIG parameter" }
        set key [string range $name 7 end]
        check_config $cell $key $value
        dict set cells $cell config $key $value
        stub::emit config $cell $key $value
    }
}

# Finds the HLS IP: the VLNV in each component.xml below the repositories.
proc update_ip_catalog {args} {
    stub::call update_ip_catalog $args
    foreach repo $::stub::viv::repo_paths {
        foreach xml [glob -nocomplain -directory $repo component.xml */component.xml] {
            set fd [open $xml]
            set text [read $fd]
            close $fd
            set vlnv {}
            foreach tag {vendor library name version} {
                if {![regexp "<spirit:$tag>(\[^<\]+)</spirit:$tag>" $text -> value]} { error "$xml has no spirit:$tag" }
                lappend vlnv $value
            }
            lappend ::stub::viv::repo_vlnvs [join $vlnv :]
            stub::emit repo_ip [join $vlnv :]
        }
    }
}

# --- block design --------------------------------------------------------------------------------

proc create_bd_design {args} {
    stub::call create_bd_design $args
    set ::stub::viv::bd [lindex $args end]
    stub::emit bd $::stub::viv::bd
}

proc create_bd_cell {args} {
    stub::call create_bd_cell $args
    lassign [stub::parse $args {}] options positional
    set name [lindex $positional 0]
    set vlnv [dict get $options -vlnv]
    if {[string match *:hls:* $vlnv] && $vlnv ni $::stub::viv::repo_vlnvs} {
        error "ERROR: \[BD 5-390\] IP definition not found for VLNV: $vlnv (not in ip_repo_paths)"
    }
    if {![dict exists $::stub::viv::catalog $vlnv] && $vlnv ne "xilinx.com:ip:axi_interconnect:2.1"} {
        error "ERROR: \[BD 5-390\] IP definition not found for VLNV: $vlnv (not modelled by the stubs)"
    }
    if {[dict exists $::stub::viv::cells $name]} { error "create_bd_cell: cell $name already exists" }
    dict set ::stub::viv::cells $name [dict create vlnv $vlnv config [stub::viv::default_config $vlnv]]
    stub::emit cell $name $vlnv
    return "/$name"
}

proc get_bd_cells {args} {
    stub::call get_bd_cells $args
    set found {}
    foreach pattern $args {
        foreach name [dict keys $::stub::viv::cells] {
            if {[string match [string trimleft $pattern /] $name]} { lappend found "/$name" }
        }
    }
    if {$found eq ""} { puts stderr "WARNING: \[BD 5-699\] No cells found that match '$args'." }
    return $found
}

proc apply_bd_automation {args} {
    stub::call apply_bd_automation $args
    lassign [stub::parse $args {}] options positional
    set rule [dict get $options -rule]
    set config [dict get $options -config]
    set cell [stub::viv::cell_of [lindex $positional 0]]
    if {$rule ne "xilinx.com:bd_rule:processing_system7"} { error "apply_bd_automation: rule $rule is not modelled" }
    if {![dict exists $::stub::viv::cells $cell]} { error "apply_bd_automation: cell $cell does not exist" }
    set preset [dict get $config apply_board_preset]
    if {$preset ni {0 1}} { error "apply_board_preset must be 0 or 1, got $preset" }
    if {$preset == 1 && $::stub::viv::board_part eq ""} { error "apply_board_preset 1 needs a board part on the project" }
    stub::emit automation $cell apply_board_preset $preset
    foreach port [split [dict get $config make_external] ,] {
        dict set ::stub::viv::connected "/$cell/[string trim $port]" 1
    }
}

# The pins (or interfaces) of a cell as {path props} pairs.
proc stub::viv::pins_of {cell section} {
    set result {}
    foreach {name spec} [dict get [entry $cell] $section] {
        set props [dict create NAME $name PATH "/$cell/$name"]
        if {$section eq "intf"} {
            dict set props MODE [lindex $spec 0]
            dict set props VLNV xilinx.com:interface:[lindex $spec 1]_rtl:1.0
        }
        lappend result "/$cell/$name" $props
    }
    return $result
}

# Evaluate a Vivado -filter expression (KEY == "v", !=, =~ glob, joined by && / ||).
proc stub::viv::matches {filter props} {
    set expression $filter
    while {[regexp {(\w+)\s*(==|!=|=~|!~)\s*"([^"]*)"} $expression whole key op value]} {
        if {![dict exists $props $key]} { error "filter property $key is not modelled" }
        set actual [dict get $props $key]
        switch -- $op {
            == { set result [expr {$actual eq $value}] }
            != { set result [expr {$actual ne $value}] }
            =~ { set result [string match -nocase $value $actual] }
            !~ { set result [expr {![string match -nocase $value $actual]}] }
        }
        set expression [string map [list $whole $result] $expression]
    }
    return [expr $expression]
}

proc stub::viv::lookup {section arguments} {
    variable cells
    lassign [stub::parse $arguments {-quiet}] options positional
    set found {}
    if {[dict exists $options -of_objects]} {
        foreach object [dict get $options -of_objects] {
            set cell [cell_of $object]
            if {![dict exists $cells $cell]} { error "-of_objects $object does not exist" }
            foreach {path props} [pins_of $cell $section] {
                if {![dict exists $options -filter] || [matches [dict get $options -filter] $props]} { lappend found $path }
            }
        }
        return $found
    }
    foreach path $positional {
        set cell [cell_of $path]
        if {[dict exists $cells $cell] && [dict exists [entry $cell] $section [lindex [split [string trimleft $path /] /] 1]]} {
            lappend found "/[string trimleft $path /]"
        } else {
            puts stderr "WARNING: \[BD 5-699\] No $section found that match '$path'."
        }
    }
    return $found
}

proc get_bd_pins {args} { stub::call get_bd_pins $args; return [stub::viv::lookup pins $args] }
proc get_bd_intf_pins {args} { stub::call get_bd_intf_pins $args; return [stub::viv::lookup intf $args] }

proc stub::viv::intf_spec {path} {
    set cell [cell_of $path]
    return [dict get [entry $cell] intf [lindex [split [string trimleft $path /] /] 1]]
}

proc connect_bd_intf_net {args} {
    stub::call connect_bd_intf_net $args
    if {[llength $args] != 2 || "" in $args} { error "ERROR: \[BD 5-106\] connect_bd_intf_net needs two interface pins, got {$args}" }
    lassign $args a b
    lassign [stub::viv::intf_spec $a] mode_a kind_a
    lassign [stub::viv::intf_spec $b] mode_b kind_b
    if {$kind_a ne $kind_b || $mode_a eq $mode_b} {
        error "ERROR: \[BD 41-237\] cannot connect $a ($mode_a $kind_a) to $b ($mode_b $kind_b)"
    }
    foreach pin $args {
        if {[dict exists $::stub::viv::connected $pin]} { error "ERROR: \[BD 41-236\] $pin is already connected" }
        dict set ::stub::viv::connected $pin 1
    }
    stub::emit intf_net $a $b
}

proc connect_bd_net {args} {
    stub::call connect_bd_net $args
    if {[llength $args] < 2 || "" in $args} { error "ERROR: \[BD 5-106\] connect_bd_net needs at least two pins, got {$args}" }
    set source [lindex $args 0]
    foreach sink [lrange $args 1 end] {
        if {[dict exists $::stub::viv::connected $sink]} { error "ERROR: \[BD 41-236\] $sink is already connected" }
        dict set ::stub::viv::connected $sink 1
        stub::emit net $source $sink
    }
    dict set ::stub::viv::connected $source 1
}

proc assign_bd_address {args} { stub::call assign_bd_address $args; stub::emit addresses assigned }

# Vivado refuses a design whose clocks, resets or required interfaces are unconnected.
proc validate_bd_design {args} {
    stub::call validate_bd_design $args
    set missing {}
    dict for {cell _} $::stub::viv::cells {
        set entry [stub::viv::entry $cell]
        foreach {name spec} [dict get $entry pins] {
            if {[lindex $spec 0] in {clk rst} && ![dict exists $::stub::viv::connected "/$cell/$name"]} { lappend missing "/$cell/$name" }
        }
        foreach {name spec} [dict get $entry intf] {
            if {[lindex $spec 2] && ![dict exists $::stub::viv::connected "/$cell/$name"]} { lappend missing "/$cell/$name" }
        }
    }
    if {[llength $missing]} { error "ERROR: \[BD 41-758\] unconnected required pins/interfaces: $missing" }
    stub::emit validated $::stub::viv::bd
}

proc stub::viv::bd_file {} {
    variable projdir
    variable project
    variable bd
    return [file join $projdir $project.srcs sources_1 bd $bd $bd.bd]
}

proc save_bd_design {args} { stub::call save_bd_design $args; stub::touch [stub::viv::bd_file] }

proc get_files {args} {
    stub::call get_files $args
    set path [stub::viv::bd_file]
    if {[file exists $path] && [file tail $path] in $args} { return $path }
    return ""
}

# Output products: the hardware handoff (and a synth copy, as Vivado keeps one).
proc generate_target {args} {
    stub::call generate_target $args
    set file [lindex $args end]
    if {$file eq "" || ![file exists $file]} { error "generate_target: no such file '$file'" }
    set gen [file join $::stub::viv::projdir $::stub::viv::project.gen sources_1 bd $::stub::viv::bd]
    stub::touch [file join $gen hw_handoff $::stub::viv::bd.hwh] "<EDKSYSTEM/>\n"
    stub::touch [file join $gen synth $::stub::viv::bd.hwh] "<EDKSYSTEM/>\n"
}

proc make_wrapper {args} {
    stub::call make_wrapper $args
    lassign [stub::parse $args {-top -import -force}] options positional
    set bd [file rootname [file tail [dict get $options -files]]]
    set path [file join $::stub::viv::projdir $::stub::viv::project.gen sources_1 bd $bd hdl ${bd}_wrapper.v]
    stub::touch $path "module ${bd}_wrapper(); endmodule\n"
    return $path
}

proc add_files {args} {
    stub::call add_files $args
    lassign [stub::parse $args {-norecurse}] options positional
    foreach path $positional { if {![file exists $path]} { error "add_files: $path does not exist" } }
}

proc update_compile_order {args} { stub::call update_compile_order $args }

# --- runs and reports ----------------------------------------------------------------------------

proc get_runs {args} { stub::call get_runs $args; return [lindex $args end] }

proc launch_runs {args} {
    stub::call launch_runs $args
    lassign [stub::parse $args {}] options positional
    foreach run $positional { lappend ::stub::viv::launched $run }
}

proc wait_on_runs {args} {
    stub::call wait_on_runs $args
    lassign [stub::parse $args {-quiet}] options positional
    foreach run $positional { if {$run ni $::stub::viv::launched} { error "wait_on_runs: $run was not launched" } }
    if {[dict exists $options -timeout]} { stub::emit wait_timeout [dict get $options -timeout] }
}

proc get_property {args} {
    stub::call get_property $args
    lassign [stub::parse $args {-quiet}] options positional
    lassign $positional name object
    switch -- $name {
        PROGRESS { return [stub::knob STUB_PROGRESS_$object 100%] }
        STATUS { return "stub status of $object" }
        DIRECTORY { return [file join $::stub::viv::projdir $::stub::viv::project.runs $object] }
        SLACK {
            if {$object eq "timing_path:max"} { return [stub::knob STUB_WNS 0.412] }
            if {$object eq "timing_path:min"} { return [stub::knob STUB_WHS 0.031] }
        }
    }
    error "get_property: $name of $object is not modelled"
}

proc open_run {args} {
    stub::call open_run $args
    set run [lindex $args end]
    if {$run ni $::stub::viv::launched} { error "open_run: $run was not launched" }
    set ::stub::viv::opened $run
}

proc get_timing_paths {args} {
    stub::call get_timing_paths $args
    lassign [stub::parse $args {}] options positional
    if {$::stub::viv::opened eq ""} { error "get_timing_paths: no design is open" }
    return "timing_path:[dict get $options -delay_type]"
}

proc report_timing_summary {args} {
    stub::call report_timing_summary $args
    lassign [stub::parse $args {}] options positional
    if {[dict exists $options -file]} { stub::touch [dict get $options -file] }
}

proc report_utilization {args} {
    stub::call report_utilization $args
    lassign [stub::parse $args {}] options positional
    if {[dict exists $options -file]} { stub::touch [dict get $options -file] }
}

proc write_bitstream {args} {
    stub::call write_bitstream $args
    lassign [stub::parse $args {-force}] options positional
    if {$::stub::viv::opened ne "impl_1"} { error "write_bitstream: no implemented design is open" }
    stub::touch [lindex $positional 0] "stub bitstream\n"
}
