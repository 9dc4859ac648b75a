# Block design of the SSA overlay for the PYNQ-Z2 / PYNQ-Z1 (xc7z020clg400-1), Vivado 2024.1.
#
#   PS7 M_AXI_GP0 -> ctrl_interconnect -+-> axi_dma_0/S_AXI_LITE
#                                       \-> ssa_top_0/s_axi_control
#   axi_dma_0 M_AXIS_MM2S -> ssa_top_0 (input stream)  -> ssa_top_0 (output stream) -> S_AXIS_S2MM
#   axi_dma_0 M_AXI_MM2S, M_AXI_S2MM -> mem_interconnect -> PS7 S_AXI_HP0 (64-bit) -> DDR
#   FCLK_CLK0 clocks everything; FCLK_RESET0_N -> proc_sys_reset -> every aresetn.
#
# The DMA runs in simple (register) mode, no scatter gather, with 26-bit length registers so one
# transfer can move up to 2^26-1 bytes; both stream sides are 64 bits wide (docs/spec.md section 5).
# No interrupt is wired: the board driver polls with deadlines. The driver finds the IPs and their
# registers by name in the .hwh, so the addresses are left to assign_bd_address.

namespace eval ssa_bd {
    variable hls_vlnv "xilinx.com:hls:ssa_top:1.0"
}

# Exactly one AXI-Stream interface pin of `cell` in `mode` (Slave = input, Master = output).
# Vitis HLS renames arguments that are HDL keywords (`in` -> `in_r`, `out` -> `out_r`), so the
# pins are found by mode rather than by name.
proc ssa_bd::stream_pin {cell mode} {
    set pins [get_bd_intf_pins -of_objects $cell -filter "MODE == \"$mode\" && VLNV =~ \"*:axis_rtl:*\""]
    if {[llength $pins] != 1} {
        error "expected one AXI-Stream $mode interface on $cell, found [llength $pins] ($pins);\
               is the HLS IP the SSA kernel (one input and one output stream)?"
    }
    return [lindex $pins 0]
}

# One pin by path; a clear error instead of Vivado's silent empty result.
proc ssa_bd::pin {path} {
    set found [get_bd_pins $path]
    if {$found eq ""} { error "block design pin $path does not exist" }
    return $found
}

# Every pin of a list of paths (kept to Tcl 8.5: no lmap).
proc ssa_bd::pins {paths} {
    set found {}
    foreach path $paths { lappend found [pin $path] }
    return $found
}

proc ssa_bd::intf_pin {path} {
    set found [get_bd_intf_pins $path]
    if {$found eq ""} { error "block design interface pin $path does not exist" }
    return $found
}

# Build and validate the block design `name`; FCLK_CLK0 runs at `fclk_mhz`.
# `board_preset` is 1 when a board part is set (PS7 MIO/DDR from the board files), 0 for a bare part.
proc ssa_bd::create {name fclk_mhz board_preset} {
    variable hls_vlnv
    create_bd_design $name

    # Processing system: GP0 master for the registers, 64-bit HP0 slave for the DMA, one PL clock.
    set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 processing_system7_0]
    apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \
        -config [list make_external "FIXED_IO, DDR" apply_board_preset $board_preset Master Disable Slave Disable] $ps
    set_property -dict [list \
        CONFIG.PCW_USE_M_AXI_GP0 {1} \
        CONFIG.PCW_USE_S_AXI_HP0 {1} \
        CONFIG.PCW_S_AXI_HP0_DATA_WIDTH {64} \
        CONFIG.PCW_EN_CLK0_PORT {1} \
        CONFIG.PCW_EN_RST0_PORT {1} \
        CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ $fclk_mhz \
    ] $ps

    set rst [create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset:5.0 rst_ps7_0]

    # AXI DMA, simple mode, 64-bit memory and stream sides, 2^26-1 byte transfers.
    set dma [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 axi_dma_0]
    set_property -dict [list \
        CONFIG.c_include_sg {0} \
        CONFIG.c_sg_length_width {26} \
        CONFIG.c_sg_include_stscntrl_strm {0} \
        CONFIG.c_include_mm2s {1} \
        CONFIG.c_include_s2mm {1} \
        CONFIG.c_m_axi_mm2s_data_width {64} \
        CONFIG.c_m_axis_mm2s_tdata_width {64} \
        CONFIG.c_m_axi_s2mm_data_width {64} \
        CONFIG.c_s_axis_s2mm_tdata_width {64} \
        CONFIG.c_include_mm2s_dre {0} \
        CONFIG.c_include_s2mm_dre {0} \
        CONFIG.c_mm2s_burst_size {16} \
        CONFIG.c_s2mm_burst_size {16} \
        CONFIG.c_addr_width {32} \
    ] $dma

    # The SSA kernel exported by hls/run_hls.tcl (the IP repository must be on ip_repo_paths).
    set ssa [create_bd_cell -type ip -vlnv $hls_vlnv ssa_top_0]

    # GP0 -> DMA registers and kernel registers.
    set ctrl [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_interconnect:2.1 ctrl_interconnect]
    set_property -dict [list CONFIG.NUM_SI {1} CONFIG.NUM_MI {2}] $ctrl
    connect_bd_intf_net [intf_pin processing_system7_0/M_AXI_GP0] [intf_pin ctrl_interconnect/S00_AXI]
    connect_bd_intf_net [intf_pin ctrl_interconnect/M00_AXI] [intf_pin axi_dma_0/S_AXI_LITE]
    connect_bd_intf_net [intf_pin ctrl_interconnect/M01_AXI] [intf_pin ssa_top_0/s_axi_control]

    # DMA masters -> HP0 -> DDR.
    set mem [create_bd_cell -type ip -vlnv xilinx.com:ip:axi_interconnect:2.1 mem_interconnect]
    set_property -dict [list CONFIG.NUM_SI {2} CONFIG.NUM_MI {1}] $mem
    connect_bd_intf_net [intf_pin axi_dma_0/M_AXI_MM2S] [intf_pin mem_interconnect/S00_AXI]
    connect_bd_intf_net [intf_pin axi_dma_0/M_AXI_S2MM] [intf_pin mem_interconnect/S01_AXI]
    connect_bd_intf_net [intf_pin mem_interconnect/M00_AXI] [intf_pin processing_system7_0/S_AXI_HP0]

    # Streams: memory -> kernel -> memory.
    connect_bd_intf_net [intf_pin axi_dma_0/M_AXIS_MM2S] [stream_pin $ssa Slave]
    connect_bd_intf_net [stream_pin $ssa Master] [intf_pin axi_dma_0/S_AXIS_S2MM]

    # One clock domain: FCLK_CLK0.
    set clocked {
        processing_system7_0/M_AXI_GP0_ACLK processing_system7_0/S_AXI_HP0_ACLK
        rst_ps7_0/slowest_sync_clk
        axi_dma_0/s_axi_lite_aclk axi_dma_0/m_axi_mm2s_aclk axi_dma_0/m_axi_s2mm_aclk
        ssa_top_0/ap_clk
        ctrl_interconnect/ACLK ctrl_interconnect/S00_ACLK ctrl_interconnect/M00_ACLK ctrl_interconnect/M01_ACLK
        mem_interconnect/ACLK mem_interconnect/S00_ACLK mem_interconnect/S01_ACLK mem_interconnect/M00_ACLK
    }
    connect_bd_net [pin processing_system7_0/FCLK_CLK0] {*}[pins $clocked]

    # Resets: PS reset -> proc_sys_reset -> interconnect and peripheral resets.
    connect_bd_net [pin processing_system7_0/FCLK_RESET0_N] [pin rst_ps7_0/ext_reset_in]
    connect_bd_net [pin rst_ps7_0/interconnect_aresetn] [pin ctrl_interconnect/ARESETN] [pin mem_interconnect/ARESETN]
    set peripheral {
        axi_dma_0/axi_resetn ssa_top_0/ap_rst_n
        ctrl_interconnect/S00_ARESETN ctrl_interconnect/M00_ARESETN ctrl_interconnect/M01_ARESETN
        mem_interconnect/S00_ARESETN mem_interconnect/S01_ARESETN mem_interconnect/M00_ARESETN
    }
    connect_bd_net [pin rst_ps7_0/peripheral_aresetn] {*}[pins $peripheral]

    assign_bd_address
    validate_bd_design
    save_bd_design
}
