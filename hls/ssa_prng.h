// Random numbers (docs/spec.md §4): xorshift32 generators (an LFSR over GF(2), shifts 13/17/5)
// seeded from the user seed with MurmurHash3's fmix32. Mirrors host/ssa/contract/prng.py.
#ifndef SSA_PRNG_H
#define SSA_PRNG_H

#include "ssa_types.h"

namespace ssa {

constexpr unsigned GOLDEN = 0x9E3779B9u;
constexpr unsigned ZERO_STATE_REPLACEMENT = 0x6D2B79F5u;

/// MurmurHash3's 32-bit finaliser: two constant multiplies, used only while seeding a block.
inline state_t fmix32(state_t h) {
#pragma HLS INLINE
  h ^= h >> 16;
  h *= state_t(0x85EBCA6Bu);
  h ^= h >> 13;
  h *= state_t(0xC2B2AE35u);
  h ^= h >> 16;
  return h;
}

/// state0(block_seed, g) given mixed = fmix32(block_seed): never zero (xorshift's fixed point).
inline state_t initial_state(state_t mixed, ap_uint<10> stream_id) {
#pragma HLS INLINE
  const state_t id = state_t(stream_id + 1) * state_t(GOLDEN);  // modulo 2^32
  const state_t state = fmix32(mixed ^ id);
  return state == 0 ? state_t(ZERO_STATE_REPLACEMENT) : state;
}

/// One generator step: three shift-XORs, one clock.
inline state_t xorshift32(state_t x) {
#pragma HLS INLINE
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

/// The random number of a draw: the 16 high bits of the stepped state.
inline rand16_t high16(state_t x) {
#pragma HLS INLINE
  return x(31, 16);
}

}  // namespace ssa

#endif  // SSA_PRNG_H
