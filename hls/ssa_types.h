// Data types of the SSA kernel. The Xilinx headers come from Vitis HLS, or, for C-simulation with
// g++, from hls4ml's copy of the ap_int headers plus our own shims in hls/csim/ (see README.md).
#ifndef SSA_TYPES_H
#define SSA_TYPES_H

#include <ap_axi_sdata.h>
#include <ap_int.h>
#include <ap_shift_reg.h>
#include <hls_stream.h>

#include "ssa_params.h"

namespace ssa {

typedef ap_uint<32> reg_t;               // one AXI-Lite register
typedef ap_uint<WORD_BITS> word_t;       // TDATA of one AXI-Stream beat
typedef ap_uint<HALF_BITS> half_t;       // one half of a word, as the row banks hold it
typedef ap_axiu<WORD_BITS, 0, 0, 0> beat_t;  // TDATA + TKEEP + TSTRB + TLAST
typedef hls::stream<beat_t> axis_t;

typedef ap_uint<32> state_t;             // xorshift32 generator state
typedef ap_uint<16> rand16_t;            // the 16 high bits a draw returns
typedef ap_uint<COUNT_BITS> count_t;     // SAU counter 0..D_K, and u of eq. 5 (0..D_K-1)
typedef ap_uint<SUM_BITS> sum_t;         // row sum 0..N, and u of eq. 6 (0..N-1)
typedef ap_uint<N_TILE> column_t;        // one bit per key of a tile: a column V[t, tile, d]
typedef ap_uint<N_TILE * SUM_BITS> row_sums_t;  // partial row sums of a query tile, packed
typedef ap_uint<3> stream_flags_t;       // status bits 4..6 as seen by the load stage

}  // namespace ssa

#endif  // SSA_TYPES_H
