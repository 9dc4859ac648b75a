// AXI-Stream packing of token rows (docs/spec.md §5). Mirrors host/ssa/contract/packing.py: bit d of a row
// is bit d mod 64 of word d / 64; bits at or above D_K in the last word are padding and must be 0.
#ifndef SSA_PACKING_H
#define SSA_PACKING_H

#include "ssa_types.h"

namespace ssa {

/// W = ceil(D_K / 64): words per token row.
inline int words_per_row(int dk) {
#pragma HLS INLINE
  return (dk + WORD_BITS - 1) / WORD_BITS;
}

/// Ones at the padding bits of a row's last word (no bits when D_K is a multiple of 64).
inline word_t padding_mask(int dk) {
#pragma HLS INLINE
  const int used = dk % WORD_BITS;
  return used == 0 ? word_t(0) : word_t(~word_t(0) << used);
}

/// Row bank address of word w of time step t of the token in row `tile` of its bank (bank r holds
/// tokens r, r + N_TILE, r + 2·N_TILE, ... for every t).
inline int bank_address(int tile, int t, int w) {
#pragma HLS INLINE
  return (tile * T_MAX + t) * W_MAX + w;
}

/// Address of half h (0: bits 31..0, 1: bits 63..32) of word `address` of bank 2p + `odd` in the
/// memory of bank pair p.
inline int half_address(int odd, int address, int h) {
#pragma HLS INLINE
  return (odd * BANK_DEPTH + address) * 2 + h;
}

/// Advance one digit of the stream-order counter (spec §5: block, t, matrix, row, word): returns
/// true when it wraps from `last` to 0, so `step(w, W-1) && step(i, N-1) && ...` carries like an
/// odometer without dividers.
inline bool step(int& digit, int last) {
#pragma HLS INLINE
  if (digit < last) {
    ++digit;
    return false;
  }
  digit = 0;
  return true;
}

/// One output beat: all bytes valid, TLAST as given.
inline beat_t make_beat(word_t data, bool last) {
#pragma HLS INLINE
  beat_t beat;
  beat.data = data;
  beat.keep = -1;
  beat.strb = -1;
  beat.last = last ? 1 : 0;
  return beat;
}

}  // namespace ssa

#endif  // SSA_PACKING_H
