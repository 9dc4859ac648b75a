// Bernoulli encoder, integer form, with the contract-v2 gain (docs/spec.md §3). Mirrors
// host/ssa/contract/encoders.py.
//
// The contract's spike is u < (count << g). For integers u < c·2^g ⇔ (u >> g) < c (c·2^g is a
// multiple of 2^g), so the kernel shifts u right by g instead of shifting the count left: the same
// spike, bit for bit. u is shared by every comparison of its draw (a column of N_TILE SAUs for eq. 5,
// one row's encoder for eq. 6), so the runtime gain costs one small shifter per generator and leaves
// the N_TILE² SAU comparators as they are; shifting every SAU's count by the runtime g would put a
// multiplexer and g wider comparator into every SAU.
#ifndef SSA_ENCODER_H
#define SSA_ENCODER_H

#include "ssa_types.h"

namespace ssa {

typedef ap_uint<GAIN_BITS> gain_t;  // the gain exponent g, 0..GAIN_LOG2_MAX (checked by ssa_top)

/// u = (r * m) >> 16, uniform over [0, m). One 16 x W multiplier per generator, shared by every
/// comparison that uses the same draw (a wire when m is a power of two).
template <int W>
inline ap_uint<W> uniform_below(rand16_t r, ap_uint<W> m) {
#pragma HLS INLINE
  const ap_uint<16 + W> product = r * m;
  return product >> 16;
}

/// The threshold a draw gives its comparators under gain g: u >> g = (r * m) >> (16 + g), shared
/// like u (g = 0: u itself, contract v1).
template <int W>
inline ap_uint<W> gained_uniform(rand16_t r, ap_uint<W> m, gain_t gain_log2) {
#pragma HLS INLINE
  return uniform_below<W>(r, m) >> gain_log2;
}

/// One spike where u < count << g, given threshold = gained_uniform(r, m, g) = u >> g:
/// P(spike) = min(2^16, ceil((count << g) * 2^16 / m)) / 2^16.
template <int W>
inline bool bernoulli(ap_uint<W> threshold, ap_uint<W> count) {
#pragma HLS INLINE
  return threshold < count;
}

}  // namespace ssa

#endif  // SSA_ENCODER_H
