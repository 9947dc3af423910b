# Synthetic stand-ins for the Vivado and Vitis HLS Tcl commands that hlsgen's generated scripts call
# (written for hlsgen's tests; not from any Xilinx tool). Each stub checks its options and positional
# arguments, logs the call to ::stub_log, and returns what the real command's callers need (object
# names, paths, the files a run leaves behind). Any other command that is not plain Tcl is an error.
#
# Use: tclsh with  source tool_stubs.tcl; cd PROJECT; source SCRIPT; stub_write_log LOGFILE

set ::stub_log {}
set ::stub_cells [dict create]
set ::stub_project {}
set ::stub_project_dir {}

# stub NAME OPTIONS MIN MAX ?BODY?: OPTIONS maps each flag to 1 (takes a value) or 0 (a switch); MIN..MAX
# positional arguments. In BODY, $flags (dict flag -> value) and $pos (list) are set.
proc stub {name options minpos maxpos {body {}}} {
    set template {
        set opts @OPTS@
        set pos {}
        set flags [dict create]
        for {set i 0} {$i < [llength $args]} {incr i} {
            set a [lindex $args $i]
            if {[string match -* $a] && ![string is double -strict $a]} {
                if {![dict exists $opts $a]} { error "@NAME@: unknown option $a (args: $args)" }
                if {[dict get $opts $a]} {
                    incr i
                    if {$i >= [llength $args]} { error "@NAME@: option $a needs a value" }
                    dict set flags $a [lindex $args $i]
                } else {
                    dict set flags $a 1
                }
            } else {
                lappend pos $a
            }
        }
        if {[llength $pos] < @MIN@ || [llength $pos] > @MAX@} {
            error "@NAME@: expected @MIN@..@MAX@ positional arguments, got [llength $pos] (args: $args)"
        }
        lappend ::stub_log [list @NAME@ $flags $pos]
        @BODY@
    }
    proc $name args [string map [list @NAME@ $name @OPTS@ [list $options] @MIN@ $minpos @MAX@ $maxpos @BODY@ $body] $template]
}

# One line per call: the command, then each flag and its value, then the positional arguments, fields
# separated by US (\x1f) and the three parts by RS (\x1e), so that a reader needs no Tcl list parser.
proc stub_write_log {path} {
    set f [open $path w]
    foreach entry $::stub_log {
        lassign $entry cmd flags pos
        puts $f [join [list $cmd [join $flags \x1f] [join $pos \x1f]] \x1e]
    }
    close $f
}

# Anything not stubbed and not plain Tcl is an error: a misspelt or invented tool command fails the test.
rename unknown _stub_tcl_unknown
proc unknown {args} { error "not a Vivado / Vitis HLS command the stubs know: [lindex $args 0]" }
rename exit _stub_tcl_exit
proc exit {args} { lappend ::stub_log [list exit {} $args] }

# ---- Vitis HLS --------------------------------------------------------------------------------------
stub open_project {-reset 0} 1 1
stub set_top {} 1 1
stub add_files {-tb 0 -cflags 1 -csimflags 1 -norecurse 0} 1 1 {
    if {[dict exists $flags -norecurse] || [dict exists $flags -tb]} { return }
    if {![file exists [lindex $pos 0]]} { error "add_files: [lindex $pos 0] does not exist in [pwd]" }
}
stub open_solution {-reset 0 -flow_target 1} 1 1 {
    if {[dict exists $flags -flow_target] && [dict get $flags -flow_target] ni {vivado vitis}} {
        error "open_solution: bad -flow_target [dict get $flags -flow_target]"
    }
}
stub set_part {} 1 1 {
    if {![regexp {^x[a-z0-9]+(-[a-z0-9]+)+$} [string tolower [lindex $pos 0]]]} { error "set_part: bad part [lindex $pos 0]" }
}
stub create_clock {-period 1 -name 1} 0 0 {
    if {![string is double -strict [dict get $flags -period]] || [dict get $flags -period] <= 0} {
        error "create_clock: bad period [dict get $flags -period]"
    }
}
stub csim_design {-argv 1 -clean 0} 0 0
stub csynth_design {} 0 0
stub cosim_design {-argv 1 -trace_level 1 -rtl 1} 0 0
stub export_design {-format 1 -rtl 1 -vendor 1 -library 1 -version 1 -display_name 1 -description 1 -ipname 1} 0 0 {
    if {[dict get $flags -format] ni {ip_catalog xo syn_dcp sysgen}} { error "export_design: bad -format" }
}

# ---- Vivado -----------------------------------------------------------------------------------------
set ::stub_ipdefs {
    xilinx.com:ip:processing_system7:5.5 xilinx.com:ip:zynq_ultra_ps_e:3.5 xilinx.com:ip:axi_dma:7.1
    xilinx.com:ip:axi_dma:7.0
}
# interface pins and clock pins of the IPs the block design uses (VLNV without version -> pins)
set ::stub_pins {
    xilinx.com:ip:processing_system7 {M_AXI_GP0 S_AXI_HP0 FCLK_CLK0 FCLK_RESET0_N DDR FIXED_IO}
    xilinx.com:ip:zynq_ultra_ps_e {M_AXI_HPM0_FPD S_AXI_HP0_FPD pl_clk0 pl_resetn0}
    xilinx.com:ip:axi_dma {S_AXI_LITE M_AXI_MM2S M_AXI_S2MM M_AXIS_MM2S S_AXIS_S2MM}
    hlsgen:hls {in_stream out_stream s_axi_control ap_clk ap_rst_n}
}
stub create_project {-part 1 -force 0} 2 2 {
    set ::stub_project [lindex $pos 0]
    set ::stub_project_dir [lindex $pos 1]
    return $::stub_project
}
stub current_project {} 0 0 { return $::stub_project }
stub current_fileset {} 0 0 { return sources_1 }
stub update_ip_catalog {} 0 0
stub get_ipdefs {-all 0} 1 1 {
    set out {}
    foreach d $::stub_ipdefs { if {[string match [lindex $pos 0] $d]} { lappend out $d } }
    return $out
}
stub create_bd_design {} 1 1
stub create_bd_cell {-type 1 -vlnv 1} 1 1 {
    set vlnv [dict get $flags -vlnv]
    if {[llength [split $vlnv :]] != 4} { error "create_bd_cell: -vlnv $vlnv is not vendor:library:name:version" }
    dict set ::stub_cells [lindex $pos 0] [join [lrange [split $vlnv :] 0 end-1] :]
    return /[lindex $pos 0]
}
proc stub_pin {path} {
    set parts [split [string trimleft $path /] /]
    if {[llength $parts] != 2} { error "pin $path is not CELL/PIN" }
    lassign $parts cell pin
    if {![dict exists $::stub_cells $cell]} { error "pin $path: no cell $cell" }
    set ip [dict get $::stub_cells $cell]
    if {[string match hlsgen:hls:* $ip]} { set ip hlsgen:hls }
    if {$pin ni [dict get $::stub_pins $ip]} { error "pin $path: $ip has no pin $pin" }
    return pin:/$cell/$pin
}
stub get_bd_intf_pins {} 1 1 { return [stub_pin [lindex $pos 0]] }
stub get_bd_pins {} 1 1 { return [stub_pin [lindex $pos 0]] }
stub connect_bd_intf_net {} 2 2 {
    foreach p $pos { if {![string match pin:/* $p]} { error "connect_bd_intf_net: $p is not a pin object" } }
}
stub apply_bd_automation {-rule 1 -config 1} 1 1 {
    set cfg [dict get $flags -config]
    if {[llength $cfg] % 2} { error "apply_bd_automation: -config is not a key/value list: $cfg" }
    foreach key {Master Slave Clk_master} {
        if {[dict exists $cfg $key] && [string match /* [dict get $cfg $key]]} { stub_pin [dict get $cfg $key] }
    }
}
stub set_property {-dict 1} 1 3 {
    if {[dict exists $flags -dict]} {
        if {[llength [dict get $flags -dict]] % 2} { error "set_property -dict: odd list" }
        foreach {k v} [dict get $flags -dict] { if {$v eq ""} { error "set_property: empty value for $k" } }
    }
}
stub assign_bd_address {} 0 0
stub validate_bd_design {} 0 0
stub save_bd_design {} 0 0
stub get_files {-all 0 -of_objects 1} 1 1 { return [file join $::stub_project_dir bd [lindex $pos 0]] }
stub generate_target {} 2 2 {
    set d [file join $::stub_project_dir $::stub_project.gen sources_1 bd design_1 hw_handoff]
    file mkdir $d
    set f [open [file join $d design_1.hwh] w]; puts $f "<synthetic/>"; close $f
}
stub make_wrapper {-files 1 -top 0} 0 0 {
    return [file join $::stub_project_dir $::stub_project.gen sources_1 bd design_1 hdl design_1_wrapper.v]
}
stub get_runs {} 1 1 { return run:[lindex $pos 0] }
stub launch_runs {-to_step 1 -jobs 1} 1 1 {
    if {[dict get $flags -to_step] ne "write_bitstream"} { error "launch_runs: stops before the bitstream" }
}
stub wait_on_run {} 1 1 {
    set d [file join $::stub_project_dir $::stub_project.runs impl_1]
    file mkdir $d
    set f [open [file join $d design_1_wrapper.bit] w]; puts $f synthetic; close $f
}
stub get_property {} 2 2 {
    switch -- [lindex $pos 0] {
        PROGRESS { return 100% }
        DIRECTORY { return [file join $::stub_project_dir $::stub_project.runs impl_1] }
        default { return {} }
    }
}
stub open_run {} 1 1
stub report_utilization {-file 1 -hierarchical 0} 0 0
stub report_timing_summary {-file 1} 0 0
