// Compile-time parameters of one kernel build and the constants derived from them (docs/spec.md §2,
// §7, §8).
//
// -DSSA_N_TILE=... sets the SAU array (N_TILE x N_TILE, the parameter that sets the LUT count),
// -DSSA_N_LIMIT=... the largest N a block may have (the row banks hold N_LIMIT tokens), and
// -DSSA_DK_MAX=..., -DSSA_T_MAX=... the other maxima. run_hls.tcl passes its tcl variables this way;
// host/ssa/backends/csim.py does the same for C-simulation. The defaults are
// ssa.contract.config.DEFAULT_KERNEL_LIMITS. Runtime registers n, dk, t_steps must be 1..maximum,
// gain_log2 0..GAIN_LOG2_MAX (contract v2, not a build parameter).
#ifndef SSA_PARAMS_H
#define SSA_PARAMS_H

#ifndef SSA_N_TILE
#define SSA_N_TILE 32
#endif
#ifndef SSA_N_LIMIT
#define SSA_N_LIMIT 256
#endif
#ifndef SSA_DK_MAX
#define SSA_DK_MAX 64
#endif
#ifndef SSA_T_MAX
#define SSA_T_MAX 32
#endif

// Words per row bank (one bank per matrix and tile row, spec §8): ceil(N_LIMIT/N_TILE)·T_MAX·W_MAX.
#define SSA_BANK_DEPTH \
  (((SSA_N_LIMIT + SSA_N_TILE - 1) / SSA_N_TILE) * SSA_T_MAX * ((SSA_DK_MAX + 63) / 64))
// Row banks are stored as 32-bit halves, two banks (tile rows 2p and 2p+1) in one true-dual-port
// memory of 4·BANK_DEPTH halves, so every stage uses exactly its two ports: load writes the two
// halves of a beat, the array reads one half of each bank, the emitter writes one half of each of
// two rows, store reads the two halves of a word. BRAM36 as 1K x 32 TDP: ceil(4·depth / 1024) each.
#define SSA_PAIRS ((SSA_N_TILE + 1) / 2)
#define SSA_BUFFER_BRAM36 (4 * SSA_PAIRS * ((4 * SSA_BANK_DEPTH + 1023) / 1024))
// Ping-pong buffers (block b+1 loads while block b computes) only when two sets fit the 128 BRAM36
// that the xc7z020's 140 leave after the DMA and interconnect; else load, array, store take turns.
#ifndef SSA_PINGPONG
#define SSA_PINGPONG (2 * SSA_BUFFER_BRAM36 <= 128)
#endif

namespace ssa {

constexpr int N_TILE = SSA_N_TILE;    // SAU array: N_TILE x N_TILE
constexpr int N_LIMIT = SSA_N_LIMIT;  // largest N a block may have: buffered tokens
constexpr int DK_MAX = SSA_DK_MAX;    // key dimension: counter range, V FIFO depth
constexpr int T_MAX = SSA_T_MAX;      // time steps buffered per block

// Version 2 added the encoders' power-of-two gain (spec §3, register gain_log2); gain 0 is version 1.
constexpr int CONTRACT_VERSION = 2;
constexpr int GAIN_LOG2_MAX = 4;  // largest gain exponent g: a spike where u < count << g
constexpr int WORD_BITS = 64;                                  // AXI-Stream TDATA width
constexpr int W_MAX = (DK_MAX + WORD_BITS - 1) / WORD_BITS;    // words per token row at DK_MAX
constexpr int TILES_MAX = (N_LIMIT + N_TILE - 1) / N_TILE;     // query (and key) tiles at N_LIMIT
constexpr int BANK_DEPTH = SSA_BANK_DEPTH;                     // = TILES_MAX·T_MAX·W_MAX words
constexpr int HALF_BITS = 32;                                  // row banks hold 32-bit halves
constexpr int PAIRS = SSA_PAIRS;                               // bank pairs per matrix
constexpr int PAIR_DEPTH = 2 * 2 * BANK_DEPTH;                 // halves per bank pair
constexpr int BLOCKS_MAX = 65535;
constexpr int MATRICES = 3;                                    // Q, K, V in stream order

// Trip counts of the runtime-bounded loops, for LOOP_TRIPCOUNT and the README's numbers.
constexpr int LOAD_BEATS_MAX = T_MAX * MATRICES * N_LIMIT * W_MAX;
constexpr int STORE_BEATS_MAX = T_MAX * N_LIMIT * W_MAX;
constexpr int ARRAY_CLOCKS_MAX = (TILES_MAX * TILES_MAX * T_MAX + 1) * DK_MAX;
constexpr int SEED_TOKENS_MAX = TILES_MAX * N_TILE;

// Smallest number of bits that holds every value 0..v, for v < 2048 (all maxima are <= 1024).
constexpr int bits_for(int v) {
  return v < 2 ? 1 : v < 4 ? 2 : v < 8 ? 3 : v < 16 ? 4 : v < 32 ? 5 : v < 64 ? 6 : v < 128 ? 7
       : v < 256 ? 8 : v < 512 ? 9 : v < 1024 ? 10 : 11;
}

constexpr int COUNT_BITS = bits_for(DK_MAX);  // SAU counter: 0..D_K (9 bits at the contract's 256)
constexpr int SUM_BITS = bits_for(N_LIMIT);   // row sum across key tiles: 0..N
constexpr int GAIN_BITS = bits_for(GAIN_LOG2_MAX);  // the gain exponent g: 0..GAIN_LOG2_MAX

// `info` register (spec §7): N_LIMIT-1 | DK_MAX-1 << 8 | T_MAX-1 << 16 | version << 26;
// `tile` register: N_TILE-1.
constexpr unsigned INFO_WORD = unsigned(N_LIMIT - 1) | unsigned(DK_MAX - 1) << 8 |
                               unsigned(T_MAX - 1) << 16 | unsigned(CONTRACT_VERSION) << 26;
constexpr unsigned TILE_WORD = unsigned(N_TILE - 1);

// `status` bits (spec §7).
constexpr unsigned STATUS_BAD_N = 1u << 0;
constexpr unsigned STATUS_BAD_DK = 1u << 1;
constexpr unsigned STATUS_BAD_T = 1u << 2;
constexpr unsigned STATUS_BAD_BLOCKS = 1u << 3;
constexpr unsigned STATUS_PADDING = 1u << 4;
constexpr unsigned STATUS_EARLY_TLAST = 1u << 5;
constexpr unsigned STATUS_MISSING_TLAST = 1u << 6;
constexpr unsigned STATUS_BAD_GAIN = 1u << 7;  // gain_log2 > GAIN_LOG2_MAX: like bits 0-3, no stream traffic
constexpr int STREAM_FLAGS_SHIFT = 4;  // bits 4..6 come from the load stage

static_assert(N_LIMIT >= 1 && N_LIMIT <= 256, "N_LIMIT must be 1..256 (info bits 7:0, contract range)");
static_assert(N_TILE >= 1 && N_TILE <= N_LIMIT, "N_TILE must be 1..N_LIMIT (tile bits 7:0)");
static_assert(DK_MAX >= 1 && DK_MAX <= 256, "DK_MAX must be 1..256 (info bits 15:8, 9-bit counter)");
static_assert(T_MAX >= 1 && T_MAX <= 1024, "T_MAX must be 1..1024 (info bits 25:16, contract range)");

}  // namespace ssa

#endif  // SSA_PARAMS_H
