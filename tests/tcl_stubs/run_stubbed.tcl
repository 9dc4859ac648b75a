# Stand-in for the `vivado` and `vitis_hls` executables (tests/test_overlay_tcl.py): runs the script
# they would run under plain tclsh, with recording stubs for the tool's commands.
#
#   tclsh run_stubbed.tcl vivado <report> -mode batch ?-nojournal? ?-log <file>? -source <script> ?-tclargs args...?
#   tclsh run_stubbed.tcl vitis_hls <report> -f <script> ?-tclargs args...?
#
# so a Makefile can take VIVADO="tclsh run_stubbed.tcl vivado <report>". Any command the stubs do
# not define stays undefined, so a script that uses one fails here. The report lists what the script
# did (see recorder.tcl); the exit code is the script's: 0, or 1 with the error and its stack on stderr.
set stub_dir [file dirname [file normalize [info script]]]
set stub_tool [lindex $argv 0]
set stub_report [lindex $argv 1]
set stub_script ""
set stub_args {}
set stub_words [lrange $argv 2 end]
for {set i 0} {$i < [llength $stub_words]} {incr i} {
    set word [lindex $stub_words $i]
    switch -- $word {
        -tclargs { set stub_args [lrange $stub_words [expr {$i + 1}] end]; break }
        -source - -f { incr i; set stub_script [lindex $stub_words $i] }
        -mode - -log - -journal { incr i }
        -nojournal - -nolog {}
        default { puts stderr "$stub_tool stand-in: unexpected argument '$word'"; exit 2 }
    }
}
if {$stub_script eq ""} { puts stderr "$stub_tool stand-in: no script given (-source / -f)"; exit 2 }

source [file join $stub_dir recorder.tcl]
source [file join $stub_dir ${stub_tool}_stubs.tcl]
set stub::report_path $stub_report

# The script sees only its own arguments, as after `-tclargs`.
set argv $stub_args
set argc [llength $argv]
set argv0 $stub_script

rename exit stub::real_exit
proc exit {{code 0}} { stub::finish $code }

if {[catch {uplevel #0 [list source $stub_script]} message options]} {
    puts stderr "ERROR: $message"
    puts stderr [dict get $options -errorinfo]
    stub::finish 1
}
stub::finish 0
