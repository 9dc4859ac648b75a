# Shared helpers of the tool stubs: the report, option parsing, test knobs from the environment.
#
# Report records (one per line, fields separated by tabs, tabs/newlines inside fields replaced):
#   call <command> <arguments as a Tcl list>     every stubbed command, in order
#   <kind> <field>...                            facts a stub derived (part, cell, config, net, ...)
namespace eval stub {
    variable lines {}
    variable report_path ""
}

proc stub::emit {args} {
    variable lines
    set fields {}
    foreach field $args { lappend fields [string map {"\t" " " "\n" " "} $field] }
    lappend lines [join $fields "\t"]
}

proc stub::call {command arguments} { emit call $command $arguments }

proc stub::finish {code} {
    variable lines
    variable report_path
    set fd [open $report_path w]
    puts $fd [join $lines "\n"]
    close $fd
    real_exit $code
}

# A test knob: environment variable `name`, or `default`.
proc stub::knob {name default} {
    if {[info exists ::env($name)]} { return $::env($name) }
    return $default
}

# Split `arguments` into a dict of options and a list of positional words. `flags` take no value;
# every other word starting with '-' takes the next word as its value.
proc stub::parse {arguments flags} {
    set options {}
    set positional {}
    for {set i 0} {$i < [llength $arguments]} {incr i} {
        set word [lindex $arguments $i]
        if {[string index $word 0] eq "-" && ![string is double -strict $word]} {
            if {$word in $flags} {
                dict set options $word 1
            } else {
                incr i
                if {$i >= [llength $arguments]} { error "option $word needs a value" }
                dict set options $word [lindex $arguments $i]
            }
        } else {
            lappend positional $word
        }
    }
    return [list $options $positional]
}

proc stub::touch {path {text "stub output\n"}} {
    file mkdir [file dirname $path]
    set fd [open $path w]
    puts -nonewline $fd $text
    close $fd
    emit file [file normalize $path]
}
