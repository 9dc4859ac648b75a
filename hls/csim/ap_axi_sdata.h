// Minimal stand-in for Vitis HLS's ap_axi_sdata.h, used ONLY for C-simulation with plain g++
// (see hls_stream.h beside it for how the include path keeps it away from Vitis).
//
// Models ap_axiu<D, 0, 0, 0>, the AXI-Stream beat without USER/ID/DEST side channels that ssa_top
// uses: TDATA, TKEEP, TSTRB and TLAST.
#ifndef SSA_CSIM_AP_AXI_SDATA_H
#define SSA_CSIM_AP_AXI_SDATA_H

#include <ap_int.h>

template <int D, int U, int TI, int TD>
struct ap_axiu {
  static_assert(U == 0 && TI == 0 && TD == 0,
                "the C-simulation shim models only ap_axiu<D, 0, 0, 0> (no USER/ID/DEST)");
  ap_uint<D> data;
  ap_uint<(D + 7) / 8> keep;
  ap_uint<(D + 7) / 8> strb;
  ap_uint<1> last;
};

#endif  // SSA_CSIM_AP_AXI_SDATA_H
