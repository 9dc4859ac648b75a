// Compile-time maxima of one kernel build and the constants derived from them (docs/spec.md §2, §7).
//
// Override the maxima with -DSSA_N_MAX=..., -DSSA_DK_MAX=..., -DSSA_T_MAX=... (run_hls.tcl passes
// its tcl variables this way; host/ssa/backends/csim.py does the same for C-simulation). The defaults are
// ssa.contract.config.DEFAULT_KERNEL_LIMITS. Runtime registers n, dk, t_steps must be 1..maximum.
#ifndef SSA_PARAMS_H
#define SSA_PARAMS_H

#ifndef SSA_N_MAX
#define SSA_N_MAX 32
#endif
#ifndef SSA_DK_MAX
#define SSA_DK_MAX 64
#endif
#ifndef SSA_T_MAX
#define SSA_T_MAX 32
#endif

namespace ssa {

constexpr int N_MAX = SSA_N_MAX;    // tokens: SAU array is N_MAX x N_MAX
constexpr int DK_MAX = SSA_DK_MAX;  // key dimension: counter range, V FIFO depth
constexpr int T_MAX = SSA_T_MAX;    // time steps buffered per block

constexpr int CONTRACT_VERSION = 1;
constexpr int WORD_BITS = 64;                                  // AXI-Stream TDATA width
constexpr int W_MAX = (DK_MAX + WORD_BITS - 1) / WORD_BITS;    // words per token row at DK_MAX
constexpr int BANK_DEPTH = T_MAX * W_MAX;                      // words per row buffer (one block)
constexpr int BLOCKS_MAX = 65535;
constexpr int MATRICES = 3;                                    // Q, K, V in stream order

// Trip counts of the runtime-bounded loops, for LOOP_TRIPCOUNT and the README's numbers.
constexpr int LOAD_BEATS_MAX = T_MAX * MATRICES * N_MAX * W_MAX;
constexpr int STORE_BEATS_MAX = T_MAX * N_MAX * W_MAX;
constexpr int ARRAY_CLOCKS_MAX = (T_MAX + 1) * DK_MAX;

// Smallest number of bits that holds every value 0..v, for v < 2048 (all maxima are <= 1024).
constexpr int bits_for(int v) {
  return v < 2 ? 1 : v < 4 ? 2 : v < 8 ? 3 : v < 16 ? 4 : v < 32 ? 5 : v < 64 ? 6 : v < 128 ? 7
       : v < 256 ? 8 : v < 512 ? 9 : v < 1024 ? 10 : 11;
}

constexpr int COUNT_BITS = bits_for(DK_MAX);  // SAU counter: 0..D_K (9 bits at the contract's 256)
constexpr int SUM_BITS = bits_for(N_MAX);     // row adder: 0..N

// `info` register (spec §7): N_MAX-1 | DK_MAX-1 << 8 | T_MAX-1 << 16 | version << 26.
constexpr unsigned INFO_WORD = unsigned(N_MAX - 1) | unsigned(DK_MAX - 1) << 8 |
                               unsigned(T_MAX - 1) << 16 | unsigned(CONTRACT_VERSION) << 26;

// `status` bits (spec §7).
constexpr unsigned STATUS_BAD_N = 1u << 0;
constexpr unsigned STATUS_BAD_DK = 1u << 1;
constexpr unsigned STATUS_BAD_T = 1u << 2;
constexpr unsigned STATUS_BAD_BLOCKS = 1u << 3;
constexpr unsigned STATUS_PADDING = 1u << 4;
constexpr unsigned STATUS_EARLY_TLAST = 1u << 5;
constexpr unsigned STATUS_MISSING_TLAST = 1u << 6;
constexpr int STREAM_FLAGS_SHIFT = 4;  // bits 4..6 come from the load stage

static_assert(N_MAX >= 1 && N_MAX <= 256, "N_MAX must be 1..256 (info bits 7:0, contract range)");
static_assert(DK_MAX >= 1 && DK_MAX <= 256, "DK_MAX must be 1..256 (info bits 15:8, 9-bit counter)");
static_assert(T_MAX >= 1 && T_MAX <= 1024, "T_MAX must be 1..1024 (info bits 25:16, contract range)");

}  // namespace ssa

#endif  // SSA_PARAMS_H
