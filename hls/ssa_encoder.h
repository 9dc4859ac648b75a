// Bernoulli encoder, integer form (docs/spec.md §3). Mirrors host/ssa/contract/encoders.py.
#ifndef SSA_ENCODER_H
#define SSA_ENCODER_H

#include "ssa_types.h"

namespace ssa {

/// u = (r * m) >> 16, uniform over [0, m). One 16 x W multiplier per generator, shared by every
/// comparison that uses the same draw (a wire when m is a power of two).
template <int W>
inline ap_uint<W> uniform_below(rand16_t r, ap_uint<W> m) {
#pragma HLS INLINE
  const ap_uint<16 + W> product = r * m;
  return product >> 16;
}

/// One spike where u < count: P(spike) = ceil(count * 2^16 / m) / 2^16 for u = uniform_below(r, m).
template <int W>
inline bool bernoulli(ap_uint<W> u, ap_uint<W> count) {
#pragma HLS INLINE
  return u < count;
}

}  // namespace ssa

#endif  // SSA_ENCODER_H
