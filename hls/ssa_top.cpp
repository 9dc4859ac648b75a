// The SSA kernel: an N_TILE x N_TILE array of stochastic attention units, tiled over blocks of up to
// N_LIMIT tokens (paper §III.C-D, docs/spec.md §8).
//
// Per block, four processes:
//
//   seed_generators ─┐ 2N generator states (fmix32 seeding), in parallel with the load
//   load_block ──────┴─▶ run_array ──────────────────▶ store_block
//   T·3·N·W beats        (Tq·T·Tk + 1)·D_K clocks      T·N·W beats
//   into row banks       Tq = Tk = ceil(N / N_TILE)    from row banks
//
// Why the block is buffered: at one d_k per clock the array consumes column d of Q^t (the rows of
// one query tile), K^t and V^t (one key tile): 3·N_TILE bits per clock from 3·N_TILE different
// token rows, while the AXI-Stream delivers one 64-bit beat of ONE token row per clock. So the load
// stage writes each row word into a row bank (one bank per matrix and tile row r, holding tokens
// r, r + N_TILE, ...), and the array reads word d/64 of all 3·N_TILE banks in the same clock and
// selects bit d mod 64. The output goes the other way: row i's Attn bits collect in a 64-bit
// register and land in its output bank half a word at a time. Banks hold 32-bit halves, two banks
// per true-dual-port memory (ssa_params.h), so each process uses the two ports of every memory.
//
// Tiling (spec §8): the array computes the block as Tq·T·Tk phases of D_K clocks, query tile
// outermost, then time step, then key tile. Phase (qt, t, kt) counts c[t, i, j] for the N_TILE²
// pairs (i in query tile qt, j in key tile kt); in the next phase the held S[t, i, j] meet V[t, j, ·]
// and each row adds its key tile's share to a row sum that travels, one entry per d, through a
// D_K-deep shift register; after the last key tile the complete sum meets row i's encoder (eq. 6).
// Every generator draws exactly as spec §4 says: GS[j] once per time step (restarted from its seed
// state for every query tile, so all query tiles see the same u_j), GA[i] once per d of row i's time
// steps in order. So a tiled block is bit-exact with the untiled contract.
//
// The gain g of contract v2 (spec §3: spike where u < count << g) enters where u is made: each
// generator's u is shifted right by g (ssa_encoder.h: the same comparison), once per draw, for
// every tile alike.
//
// With ping-pong buffers (SSA_PINGPONG, ssa_params.h) the block loop is a DATAFLOW region in
// Vitis's "dataflow in a loop" canonical form: block b+1 loads while block b runs the array and
// block b-1 stores. hls/README.md gives the numbers; host/ssa/cost/latency.py models the schedule.
#include "ssa_top.h"

#include "ssa_encoder.h"
#include "ssa_packing.h"
#include "ssa_prng.h"
#include "ssa_sau.h"

namespace ssa {
namespace {

/// Status bits 0-3 and 7 (spec §7): registers outside this build's ranges.
reg_t config_errors(reg_t n, reg_t dk, reg_t t_steps, reg_t blocks, reg_t gain_log2) {
#pragma HLS INLINE
  reg_t bits = 0;
  if (n < 1 || n > N_LIMIT) bits |= STATUS_BAD_N;
  if (dk < 1 || dk > DK_MAX) bits |= STATUS_BAD_DK;
  if (t_steps < 1 || t_steps > T_MAX) bits |= STATUS_BAD_T;
  if (blocks > BLOCKS_MAX) bits |= STATUS_BAD_BLOCKS;
  if (gain_log2 > GAIN_LOG2_MAX) bits |= STATUS_BAD_GAIN;
  return bits;
}

/// Tiles of N_TILE tokens that hold n tokens.
inline int tiles_for(int n) {
#pragma HLS INLINE
  return (n + N_TILE - 1) / N_TILE;
}

/// Initial states of block b's 2N generators, by tile: GS[j] (stream 2j) at gs0[j / N_TILE][j %
/// N_TILE], GA[i] (stream 2i+1) likewise. Tokens >= n get 0, xorshift's fixed point: never toggles.
void seed_generators(reg_t seed, int b, int n, state_t gs0[TILES_MAX][N_TILE],
                     state_t ga0[TILES_MAX][N_TILE]) {
  const state_t mixed = fmix32(state_t(seed + reg_t(b)));  // block_seed = seed + b mod 2^32
  const int tokens = tiles_for(n) * N_TILE;
  int tile = 0, r = 0;
SEED:
  for (int j = 0; j < tokens; ++j) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=1 max=SEED_TOKENS_MAX
    gs0[tile][r] = j < n ? initial_state(mixed, 2 * j) : state_t(0);
    ga0[tile][r] = j < n ? initial_state(mixed, 2 * j + 1) : state_t(0);
    if (step(r, N_TILE - 1)) ++tile;
  }
}

/// Read one block's T·3·N·W input beats into the row banks and check padding and TLAST.
///
/// `flags` returns status bits 4-6 accumulated over the call: the accumulator is static so that
/// the dataflow loop carries no scalar between iterations; block 0 resets it.
void load_block(axis_t& in_stream, int b, int blocks, int n, int dk, int t_steps,
                half_t in_buf[MATRICES][PAIRS][PAIR_DEPTH], stream_flags_t& flags) {
  static stream_flags_t seen = 0;
  if (b == 0) seen = 0;
  const int words = words_per_row(dk);
  const word_t pad = padding_mask(dk);
  const int beats = t_steps * MATRICES * n * words;
  const bool last_block = b == blocks - 1;
  // beat = ((t·3 + m)·N + i)·W + w with token i = tile·N_TILE + 2·p + odd, counted without dividers
  int t = 0, m = 0, i = 0, tile = 0, p = 0, odd = 0, w = 0;
LOAD:
  for (int beat = 0; beat < beats; ++beat) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=3 max=LOAD_BEATS_MAX
    const beat_t x = in_stream.read();
    const bool final_word = last_block && beat == beats - 1;
    stream_flags_t now = 0;
    if (w == words - 1 && (x.data & pad) != 0) now |= stream_flags_t(STATUS_PADDING >> STREAM_FLAGS_SHIFT);
    if (x.last && !final_word) now |= stream_flags_t(STATUS_EARLY_TLAST >> STREAM_FLAGS_SHIFT);
    if (!x.last && final_word) now |= stream_flags_t(STATUS_MISSING_TLAST >> STREAM_FLAGS_SHIFT);
    seen |= now;
    const int address = bank_address(tile, t, w);
    in_buf[m][p][half_address(odd, address, 0)] = x.data(HALF_BITS - 1, 0);
    in_buf[m][p][half_address(odd, address, 1)] = x.data(WORD_BITS - 1, HALF_BITS);
    if (step(w, words - 1)) {
      if (step(i, n - 1)) {
        tile = p = odd = 0;
        if (step(m, MATRICES - 1)) ++t;
      } else if (2 * p + odd == N_TILE - 1) {
        p = odd = 0;
        ++tile;
      } else if (step(odd, 1)) {
        ++p;
      }
    }
  }
  flags = seen;
}

/// The tiled SAU array: (Tq·T·Tk + 1)·D_K clocks, one d_k per clock (spec §8).
///
/// Clock d of phase (qt, t, kt) feeds column d of Q^t (query tile qt), K^t and V^t (key tile kt);
/// in the same clock the previous phase (qe, te, ke) ANDs its held scores with V^te of key tile ke
/// (out of the V FIFO, D_K clocks late) and adds the result to the row sums; when ke is the last key
/// tile, the rows of query tile qe emit column d of Attn^te. The first phase only counts, one last
/// phase only drains. All SAUs of a column see the same V_j, so one D_K-deep FIFO per column (an
/// N_TILE-bit-wide ap_shift_reg, SRL LUTs, tap at the runtime D_K - 1) replaces the paper's FIFO
/// in every SAU; the row sums use a second one, N_TILE·SUM_BITS wide. Both encoders compare with
/// their draw's u shifted right by `gain` (contract v2).
void run_array(const half_t in_buf[MATRICES][PAIRS][PAIR_DEPTH],
               const state_t gs0[TILES_MAX][N_TILE], const state_t ga0[TILES_MAX][N_TILE], int n,
               int dk, int t_steps, gain_t gain, half_t out_buf[PAIRS][PAIR_DEPTH]) {
  state_t gs[TILES_MAX][N_TILE];  // GS[j] after its draw of the current time step, by key tile
  state_t ga[N_TILE];             // GA[i] of the emitting query tile's rows
  count_t u_column[N_TILE];       // u_j >> g of the counting phase's key tile (eq. 5)
  count_t count[N_TILE][N_TILE];
  bool score[N_TILE][N_TILE];     // held S of the previous phase while this phase counts
  word_t attn_word[N_TILE];       // Attn bits of the current output word, per row
#pragma HLS ARRAY_PARTITION variable=gs type=complete dim=2
#pragma HLS BIND_STORAGE variable=gs type=ram_s2p impl=lutram
#pragma HLS ARRAY_PARTITION variable=ga type=complete
#pragma HLS ARRAY_PARTITION variable=u_column type=complete
#pragma HLS ARRAY_PARTITION variable=count type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=score type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=attn_word type=complete
  // ap_shift_reg maps to SRL32 LUTs; shift(x, a) returns the entry at address a, then shifts.
  static ap_shift_reg<column_t, DK_MAX> v_fifo;
  static ap_shift_reg<row_sums_t, DK_MAX> sum_fifo;

INIT:
  for (int i = 0; i < N_TILE; ++i) {
#pragma HLS UNROLL
    ga[i] = 0;
    u_column[i] = 0;
    for (int j = 0; j < N_TILE; ++j) {
#pragma HLS UNROLL
      score[i][j] = false;
    }
  }

  const int tiles = tiles_for(n);
  const int clocks = (tiles * t_steps * tiles + 1) * dk;
  int d = 0, kt = 0, t = 0, qt = 0;  // counting phase (qt, t, kt)
  int ke = 0, te = 0, qe = 0;        // emitting phase: the previous one
  bool feed = true, previous = false;  // a counting phase is running; a previous phase exists
ARRAY:
  for (int clock = 0; clock < clocks; ++clock) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=2 max=ARRAY_CLOCKS_MAX
    const bool first_d = d == 0, last_d = d == dk - 1;
    const bool emit = previous && ke == tiles - 1;  // row sums of phase (qe, te, ke) are complete
    const int w = d / WORD_BITS, k = d % WORD_BITS, h = k / HALF_BITS, bit = k % HALF_BITS;
    const int q_addr = feed ? bank_address(qt, t, w) : 0;
    const int kv_addr = feed ? bank_address(kt, t, w) : 0;
    const int out_addr = bank_address(qe, te, w);

    // Column d of Q^t (query tile), K^t and V^t (key tile): one half word per bank, one bit
    // selected, zeros for tokens >= n.
    bool q[N_TILE], key[N_TILE];
#pragma HLS ARRAY_PARTITION variable=q type=complete
#pragma HLS ARRAY_PARTITION variable=key type=complete
    column_t v_in = 0;
  COLUMN:
    for (int r = 0; r < N_TILE; ++r) {
#pragma HLS UNROLL
      const bool q_live = feed && qt * N_TILE + r < n;
      const bool kv_live = feed && kt * N_TILE + r < n;
      const int q_half = half_address(r % 2, q_addr, h), kv_half = half_address(r % 2, kv_addr, h);
      q[r] = q_live && in_buf[0][r / 2][q_half][bit];
      key[r] = kv_live && in_buf[1][r / 2][kv_half][bit];
      v_in[r] = kv_live && in_buf[2][r / 2][kv_half][bit];
    }
    const column_t v_prev = v_fifo.shift(v_in, dk - 1);  // V^te of key tile ke, column d

    // Eq. 6: add key tile ke's share to the row sums; after the last key tile, encode and emit.
    const row_sums_t carried = sum_fifo.read(dk - 1);  // the same d, one phase earlier
    row_sums_t sums = 0;
  EMIT:
    for (int i = 0; i < N_TILE; ++i) {
#pragma HLS UNROLL
      const sum_t before = ke == 0 ? sum_t(0) : sum_t(carried(SUM_BITS * i + SUM_BITS - 1, SUM_BITS * i));
      const sum_t a = before + row_sum(score[i], v_prev);
      sums(SUM_BITS * i + SUM_BITS - 1, SUM_BITS * i) = a;
      if (emit) ga[i] = xorshift32(te == 0 && first_d ? ga0[qe][i] : ga[i]);
      const sum_t u_row = gained_uniform<SUM_BITS>(high16(ga[i]), sum_t(n), gain);
      const bool spike = bernoulli<SUM_BITS>(u_row, a);
      const word_t word = (k == 0 ? word_t(0) : attn_word[i]) | (word_t(spike ? 1 : 0) << k);
      attn_word[i] = word;
      if (emit && (bit == HALF_BITS - 1 || last_d)) {  // a half is complete (store masks the rest)
        out_buf[i / 2][half_address(i % 2, out_addr, h)] = word(HALF_BITS * h + HALF_BITS - 1, HALF_BITS * h);
      }
    }
    sum_fifo.shift(sums);

    // Eq. 5: GS[j] draws once per time step (from its seed state at t = 0 of every query tile);
    // at d = D_K-1 each counter becomes S.
    if (feed && first_d) {
    DRAW_COLUMN:
      for (int j = 0; j < N_TILE; ++j) {
#pragma HLS UNROLL
        const state_t drawn = xorshift32(t == 0 ? gs0[kt][j] : gs[kt][j]);
        gs[kt][j] = drawn;
        u_column[j] = gained_uniform<COUNT_BITS>(high16(drawn), count_t(dk), gain);
      }
    }
  SAU_ROW:
    for (int i = 0; i < N_TILE; ++i) {
#pragma HLS UNROLL
    SAU_COLUMN:
      for (int j = 0; j < N_TILE; ++j) {
#pragma HLS UNROLL
        const count_t c = sau_count(count[i][j], first_d, q[i], key[j]);
        count[i][j] = c;
        if (feed && last_d) score[i][j] = sau_score(c, u_column[j]);
      }
    }

    if (step(d, dk - 1)) {
      qe = qt;
      te = t;
      ke = kt;
      previous = true;
      if (step(kt, tiles - 1) && step(t, t_steps - 1) && step(qt, tiles - 1)) feed = false;
    }
  }
}

/// Write one block's T·N·W Attn beats; TLAST on the final beat of the call. The padding bits of a
/// row's last word are cleared here: a half the emitter never wrote (D_K mod 64 <= 32) is all
/// padding.
void store_block(const half_t out_buf[PAIRS][PAIR_DEPTH], int b, int blocks, int n, int dk,
                 int t_steps, axis_t& out_stream) {
  const int words = words_per_row(dk);
  const word_t pad = padding_mask(dk);
  const int beats = t_steps * n * words;
  const bool last_block = b == blocks - 1;
  int t = 0, i = 0, tile = 0, p = 0, odd = 0, w = 0;
STORE:
  for (int beat = 0; beat < beats; ++beat) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=1 max=STORE_BEATS_MAX
    const int address = bank_address(tile, t, w);
    const half_t high = out_buf[p][half_address(odd, address, 1)];
    const half_t low = out_buf[p][half_address(odd, address, 0)];
    word_t word = word_t(high) << HALF_BITS | word_t(low);
    if (w == words - 1) word &= ~pad;
    out_stream.write(make_beat(word, last_block && beat == beats - 1));
    if (step(w, words - 1)) {
      if (step(i, n - 1)) {
        tile = p = odd = 0;
        ++t;
      } else if (2 * p + odd == N_TILE - 1) {
        p = odd = 0;
        ++tile;
      } else if (step(odd, 1)) {
        ++p;
      }
    }
  }
}

/// All blocks of a call. With SSA_PINGPONG the loop body is a dataflow region in canonical form:
/// the four processes of block b overlap with those of blocks b-1 and b+1 through ping-pong
/// buffers; without it (the buffers would not fit twice) they run one after the other.
void run_blocks(axis_t& in_stream, axis_t& out_stream, reg_t seed, int n, int dk, int t_steps,
                gain_t gain, int blocks, stream_flags_t& flags) {
#pragma HLS INLINE off
BLOCKS:
  for (int b = 0; b < blocks; ++b) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=BLOCKS_MAX
#if SSA_PINGPONG
#pragma HLS DATAFLOW
#endif
    // One bank per (matrix, tile row), two banks per true-dual-port memory: 3·N_TILE reads per
    // clock in the array. A bank holds TILES_MAX·T_MAX·W_MAX words (512 at N_TILE 16, 256 at
    // N_TILE 32 for the default maxima), a pair 2 or 1 BRAM36 (1K x 32); README.md has the count.
    half_t in_buf[MATRICES][PAIRS][PAIR_DEPTH];
#pragma HLS ARRAY_PARTITION variable=in_buf type=complete dim=1
#pragma HLS ARRAY_PARTITION variable=in_buf type=complete dim=2
#pragma HLS BIND_STORAGE variable=in_buf type=ram_t2p impl=bram
    half_t out_buf[PAIRS][PAIR_DEPTH];
#pragma HLS ARRAY_PARTITION variable=out_buf type=complete dim=1
#pragma HLS BIND_STORAGE variable=out_buf type=ram_t2p impl=bram
    state_t gs0[TILES_MAX][N_TILE], ga0[TILES_MAX][N_TILE];
#pragma HLS ARRAY_PARTITION variable=gs0 type=complete dim=2
#pragma HLS ARRAY_PARTITION variable=ga0 type=complete dim=2
#pragma HLS BIND_STORAGE variable=gs0 type=ram_s2p impl=lutram
#pragma HLS BIND_STORAGE variable=ga0 type=ram_s2p impl=lutram

    seed_generators(seed, b, n, gs0, ga0);
    load_block(in_stream, b, blocks, n, dk, t_steps, in_buf, flags);
    run_array(in_buf, gs0, ga0, n, dk, t_steps, gain, out_buf);
    store_block(out_buf, b, blocks, n, dk, t_steps, out_stream);
  }
}

}  // namespace
}  // namespace ssa

void ssa_top(ssa::axis_t& in_stream, ssa::axis_t& out_stream, ssa::reg_t n, ssa::reg_t dk,
             ssa::reg_t t_steps, ssa::reg_t seed, ssa::reg_t blocks, ssa::reg_t* status,
             ssa::reg_t* info, ssa::reg_t* tile, ssa::reg_t gain_log2) {
  // Argument order fixes the AXI-Lite offsets of docs/spec.md §7 (0x10 n ... 0x58 tile, 0x68
  // gain_log2: added last in contract v2 so that no v1 register moved).
#pragma HLS INTERFACE mode=axis port=in_stream
#pragma HLS INTERFACE mode=axis port=out_stream
#pragma HLS INTERFACE mode=s_axilite port=n bundle=control
#pragma HLS INTERFACE mode=s_axilite port=dk bundle=control
#pragma HLS INTERFACE mode=s_axilite port=t_steps bundle=control
#pragma HLS INTERFACE mode=s_axilite port=seed bundle=control
#pragma HLS INTERFACE mode=s_axilite port=blocks bundle=control
#pragma HLS INTERFACE mode=s_axilite port=status bundle=control
#pragma HLS INTERFACE mode=s_axilite port=info bundle=control
#pragma HLS INTERFACE mode=s_axilite port=tile bundle=control
#pragma HLS INTERFACE mode=s_axilite port=gain_log2 bundle=control
#pragma HLS INTERFACE mode=s_axilite port=return bundle=control
#pragma HLS INTERFACE mode=ap_ctrl_hs port=return
  *info = ssa::INFO_WORD;
  *tile = ssa::TILE_WORD;
  const ssa::reg_t errors = ssa::config_errors(n, dk, t_steps, blocks, gain_log2);
  if (errors != 0) {  // spec §7: no stream access at all
    *status = errors;
    return;
  }
  ssa::stream_flags_t flags = 0;
  ssa::run_blocks(in_stream, out_stream, seed, n.to_int(), dk.to_int(), t_steps.to_int(),
                  ssa::gain_t(gain_log2), blocks.to_int(), flags);
  *status = ssa::reg_t(flags) << ssa::STREAM_FLAGS_SHIFT;
}
