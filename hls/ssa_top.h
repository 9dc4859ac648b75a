// Top function of the SSA kernel: an N_TILE x N_TILE SAU array, tiled over blocks of up to N_LIMIT
// tokens, behind AXI-Stream and AXI-Lite (docs/spec.md).
#ifndef SSA_TOP_H
#define SSA_TOP_H

#include "ssa_types.h"

/// Process `blocks` blocks back to back (docs/spec.md §5-§8).
///
/// in_stream:  blocks*T*3*N*W words (Q, K, V rows per time step), TLAST on the final word.
/// out_stream: blocks*T*N*W words of Attn, TLAST on the final word.
/// status:     0 on success, else the error bits of spec §7; with any of bits 0-3 or 7 set no
///             stream word is read or written.
/// info:       the build's maxima and contract version, written on every call (also blocks = 0).
/// tile:       N_TILE - 1, the SAU array's side, written on every call.
/// gain_log2:  the encoders' gain exponent g, 0..GAIN_LOG2_MAX (contract v2; status bit 7 above):
///             both encoders spike where u < count << g. The last argument, so that adding it moved
///             no register of a v1 build (spec §7: offset 0x68).
void ssa_top(ssa::axis_t& in_stream, ssa::axis_t& out_stream, ssa::reg_t n, ssa::reg_t dk,
             ssa::reg_t t_steps, ssa::reg_t seed, ssa::reg_t blocks, ssa::reg_t* status,
             ssa::reg_t* info, ssa::reg_t* tile, ssa::reg_t gain_log2);

#endif  // SSA_TOP_H
