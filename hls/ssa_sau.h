// The stochastic attention unit (SAU) and the row adder (paper §III.C, docs/spec.md §1 and §8).
//
// SAU(i, j) holds a counter and one held score bit S[i][j]: in array clock (t, d) it adds
// Q[t,i,d] AND K[t,j,d] to its counter and ANDs its held S[t-1,i,j] with V[t-1,j,d]; at d = D-1 the
// counter is compared with its column's shared u_j (eq. 5) and becomes S[t,i,j]. Row i's N_TILE-input
// adder sums the N_TILE AND outputs of one key tile; ssa_top.cpp adds the key tiles' sums before the
// row's output encoder emits Attn[t-1,i,d] (eq. 6).
#ifndef SSA_SAU_H
#define SSA_SAU_H

#include "ssa_encoder.h"
#include "ssa_types.h"

namespace ssa {

/// The counter after one clock: restart at d = 0, then count Q AND K.
inline count_t sau_count(count_t held, bool restart, bool q, bool k) {
#pragma HLS INLINE
  return (restart ? count_t(0) : held) + count_t(q && k ? 1 : 0);
}

/// Eq. 5 with the column-shared u_j: the new held score bit.
inline bool sau_score(count_t count, count_t u_column) {
#pragma HLS INLINE
  return bernoulli<COUNT_BITS>(u_column, count);
}

/// One key tile's share of eq. 6: sum_j S[i][j] AND V[j] over the N_TILE SAUs of row i (an adder tree).
inline sum_t row_sum(const bool s_row[N_TILE], column_t v) {
#pragma HLS INLINE
  sum_t sum = 0;
ROW_ADDER:
  for (int j = 0; j < N_TILE; ++j) {
#pragma HLS UNROLL
    sum += (s_row[j] && v[j]) ? 1 : 0;
  }
  return sum;
}

}  // namespace ssa

#endif  // SSA_SAU_H
