// The SSA kernel: an N x N array of stochastic attention units (paper §III.C-D, docs/spec.md §8).
//
// Per block, four dataflow processes:
//
//   seed_generators ─┐ 2N generator states (fmix32 seeding), in parallel with the load
//   load_block ──────┴─▶ run_array ──▶ store_block
//   T·3·N·W beats        (T+1)·D_K      T·N·W beats
//   into row buffers     array clocks   from row buffers
//
// Why the block is buffered: at one d_k per clock the array consumes column d of Q^t, K^t and V^t,
// i.e. 3·N bits per clock (96 at N = 32), while the AXI-Stream delivers one 64-bit beat per clock
// holding 64 bits of ONE token row. Streaming straight into the array would run it at 64/(3N) of a
// d_k per clock (2/3 at N = 32) and would need a row-to-column corner turn on the fly. Instead the
// load stage writes each row word into its own bank (one bank per matrix and token), so the array
// reads word d/64 of all 3·N banks in the same clock and selects bit d mod 64: one d_k per clock
// whatever N is. The output goes the other way: row i's Attn bits collect in a 64-bit register and
// land in row i's output bank once per word.
//
// DATAFLOW runs in the body of the block loop (Vitis "dataflow in a loop" canonical form), so the
// buffers become ping-pong channels: block b+1 loads while block b runs the array and block b-1
// stores. hls/README.md gives the numbers; host/ssa/latency.py models the schedule.
#include "ssa_top.h"

#include "ssa_encoder.h"
#include "ssa_packing.h"
#include "ssa_prng.h"
#include "ssa_sau.h"

namespace ssa {
namespace {

/// Status bits 0-3 (spec §7): registers outside this build's ranges.
reg_t config_errors(reg_t n, reg_t dk, reg_t t_steps, reg_t blocks) {
#pragma HLS INLINE
  reg_t bits = 0;
  if (n < 1 || n > N_MAX) bits |= STATUS_BAD_N;
  if (dk < 1 || dk > DK_MAX) bits |= STATUS_BAD_DK;
  if (t_steps < 1 || t_steps > T_MAX) bits |= STATUS_BAD_T;
  if (blocks > BLOCKS_MAX) bits |= STATUS_BAD_BLOCKS;
  return bits;
}

/// Initial states of block b's 2N generators: GS[j] (stream 2j) and GA[i] (stream 2i+1).
void seed_generators(reg_t seed, int b, int n, state_t gs0[N_MAX], state_t ga0[N_MAX]) {
  const state_t mixed = fmix32(state_t(seed + reg_t(b)));  // block_seed = seed + b mod 2^32
SEED:
  for (int j = 0; j < n; ++j) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=1 max=N_MAX
    gs0[j] = initial_state(mixed, 2 * j);
    ga0[j] = initial_state(mixed, 2 * j + 1);
  }
}

/// Read one block's T·3·N·W input beats into the row banks and check padding and TLAST.
///
/// `flags` returns status bits 4-6 accumulated over the call: the accumulator is static so that
/// the dataflow loop carries no scalar between iterations; block 0 resets it.
void load_block(axis_t& in_stream, int b, int blocks, int n, int dk, int t_steps,
                word_t in_buf[MATRICES][N_MAX][BANK_DEPTH], stream_flags_t& flags) {
  static stream_flags_t seen = 0;
  if (b == 0) seen = 0;
  const int words = words_per_row(dk);
  const word_t pad = padding_mask(dk);
  const int beats = t_steps * MATRICES * n * words;
  const bool last_block = b == blocks - 1;
  int t = 0, m = 0, i = 0, w = 0;  // beat = ((t·3 + m)·N + i)·W + w, counted without dividers
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
    in_buf[m][i][bank_address(t, w)] = x.data;
    if (step(w, words - 1) && step(i, n - 1) && step(m, MATRICES - 1)) ++t;
  }
  flags = seen;
}

/// The SAU array: (T+1)·D_K clocks, one d_k per clock (spec §8).
///
/// Clock (t, d) feeds column d of Q^t, K^t, V^t (t < T) and emits column d of Attn^{t-1} (t > 0).
/// V^t waits D_K clocks in the V FIFO until S^t is valid. All SAUs of column j see the same V_j,
/// so one D_K-deep FIFO per column (an N_MAX-bit-wide shift register) is equivalent to the
/// paper's FIFO in every SAU and N times smaller; its tap moves with the runtime D_K.
void run_array(const word_t in_buf[MATRICES][N_MAX][BANK_DEPTH], const state_t gs0[N_MAX],
               const state_t ga0[N_MAX], int n, int dk, int t_steps,
               word_t out_buf[N_MAX][BANK_DEPTH]) {
  state_t gs[N_MAX];        // GS[j]: one draw per time step, u shared by column j
  state_t ga[N_MAX];        // GA[i]: one draw per emitted Attn bit of row i
  count_t u_column[N_MAX];  // u_j of the current time step (eq. 5)
  count_t count[N_MAX][N_MAX];
  bool score[N_MAX][N_MAX];  // held S[t-1] while S[t] accumulates
  word_t attn_word[N_MAX];   // Attn bits of the current output word, per row
#pragma HLS ARRAY_PARTITION variable=gs type=complete
#pragma HLS ARRAY_PARTITION variable=ga type=complete
#pragma HLS ARRAY_PARTITION variable=u_column type=complete
#pragma HLS ARRAY_PARTITION variable=count type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=score type=complete dim=0
#pragma HLS ARRAY_PARTITION variable=attn_word type=complete
  // ap_shift_reg maps to SRL32 LUTs; shift(x, a) returns the entry at address a, then shifts.
  static ap_shift_reg<column_t, DK_MAX> v_fifo;

INIT:
  for (int j = 0; j < N_MAX; ++j) {
#pragma HLS UNROLL
    // Generators of tokens >= n stay at 0, xorshift's fixed point: they never toggle.
    gs[j] = j < n ? gs0[j] : state_t(0);
    ga[j] = j < n ? ga0[j] : state_t(0);
    u_column[j] = 0;
    for (int i = 0; i < N_MAX; ++i) {
#pragma HLS UNROLL
      score[i][j] = false;
    }
  }

  const int clocks = (t_steps + 1) * dk;
  int t = 0, d = 0;
ARRAY:
  for (int clock = 0; clock < clocks; ++clock) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=2 max=ARRAY_CLOCKS_MAX
    const bool feed = t < t_steps;  // Q^t, K^t, V^t enter
    const bool emit = t > 0;        // Attn^{t-1} leaves
    const bool first_d = d == 0, last_d = d == dk - 1;
    const int w = d / WORD_BITS, k = d % WORD_BITS;
    const int in_addr = feed ? bank_address(t, w) : 0;
    const int out_addr = emit ? bank_address(t - 1, w) : 0;

    // Column d of Q^t, K^t, V^t: one word read per bank, one bit selected (zeros for j >= n).
    bool q[N_MAX], key[N_MAX];
#pragma HLS ARRAY_PARTITION variable=q type=complete
#pragma HLS ARRAY_PARTITION variable=key type=complete
    column_t v_in = 0;
  COLUMN:
    for (int j = 0; j < N_MAX; ++j) {
#pragma HLS UNROLL
      const bool live = feed && j < n;
      q[j] = live && in_buf[0][j][in_addr][k];
      key[j] = live && in_buf[1][j][in_addr][k];
      v_in[j] = live && in_buf[2][j][in_addr][k];
    }
    const column_t v_prev = v_fifo.shift(v_in, dk - 1);  // V^{t-1} column d

    // Eq. 6: row adders and output encoders emit column d of Attn^{t-1} with the held S^{t-1}.
  EMIT:
    for (int i = 0; i < N_MAX; ++i) {
#pragma HLS UNROLL
      if (emit) ga[i] = xorshift32(ga[i]);
      const sum_t u_row = uniform_below<SUM_BITS>(high16(ga[i]), sum_t(n));
      const bool spike = bernoulli<SUM_BITS>(u_row, row_sum(score[i], v_prev));
      const word_t word = (k == 0 ? word_t(0) : attn_word[i]) | (word_t(spike ? 1 : 0) << k);
      attn_word[i] = word;
      if (emit && (k == WORD_BITS - 1 || last_d)) out_buf[i][out_addr] = word;
    }

    // Eq. 5: GS[j] draws once per time step; at d = D_K-1 each counter becomes S^t.
    if (feed && first_d) {
    DRAW_COLUMN:
      for (int j = 0; j < N_MAX; ++j) {
#pragma HLS UNROLL
        gs[j] = xorshift32(gs[j]);
        u_column[j] = uniform_below<COUNT_BITS>(high16(gs[j]), count_t(dk));
      }
    }
  SAU_ROW:
    for (int i = 0; i < N_MAX; ++i) {
#pragma HLS UNROLL
    SAU_COLUMN:
      for (int j = 0; j < N_MAX; ++j) {
#pragma HLS UNROLL
        const count_t c = sau_count(count[i][j], first_d, q[i], key[j]);
        count[i][j] = c;
        if (feed && last_d) score[i][j] = sau_score(c, u_column[j]);
      }
    }

    if (step(d, dk - 1)) ++t;
  }
}

/// Write one block's T·N·W Attn beats; TLAST on the final beat of the call.
void store_block(const word_t out_buf[N_MAX][BANK_DEPTH], int b, int blocks, int n, int dk,
                 int t_steps, axis_t& out_stream) {
  const int words = words_per_row(dk);
  const int beats = t_steps * n * words;
  const bool last_block = b == blocks - 1;
  int t = 0, i = 0, w = 0;
STORE:
  for (int beat = 0; beat < beats; ++beat) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=1 max=STORE_BEATS_MAX
    out_stream.write(make_beat(out_buf[i][bank_address(t, w)], last_block && beat == beats - 1));
    if (step(w, words - 1) && step(i, n - 1)) ++t;
  }
}

/// All blocks of a call. The loop body is a dataflow region in canonical form: the four processes
/// of block b overlap with those of blocks b-1 and b+1 through ping-pong buffers.
void run_blocks(axis_t& in_stream, axis_t& out_stream, reg_t seed, int n, int dk, int t_steps,
                int blocks, stream_flags_t& flags) {
#pragma HLS INLINE off
BLOCKS:
  for (int b = 0; b < blocks; ++b) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=BLOCKS_MAX
#pragma HLS DATAFLOW
    // One bank per (matrix, token): 3·N_MAX reads per clock in the array. Each bank holds
    // T_MAX·W_MAX words, too shallow for BRAM36 (512 deep) and too many banks for 140 BRAM36, so
    // LUTRAM (see README.md for the count).
    word_t in_buf[MATRICES][N_MAX][BANK_DEPTH];
#pragma HLS ARRAY_PARTITION variable=in_buf type=complete dim=1
#pragma HLS ARRAY_PARTITION variable=in_buf type=complete dim=2
#pragma HLS BIND_STORAGE variable=in_buf type=ram_s2p impl=lutram
    word_t out_buf[N_MAX][BANK_DEPTH];
#pragma HLS ARRAY_PARTITION variable=out_buf type=complete dim=1
#pragma HLS BIND_STORAGE variable=out_buf type=ram_s2p impl=lutram
    state_t gs0[N_MAX], ga0[N_MAX];
#pragma HLS ARRAY_PARTITION variable=gs0 type=complete
#pragma HLS ARRAY_PARTITION variable=ga0 type=complete

    seed_generators(seed, b, n, gs0, ga0);
    load_block(in_stream, b, blocks, n, dk, t_steps, in_buf, flags);
    run_array(in_buf, gs0, ga0, n, dk, t_steps, out_buf);
    store_block(out_buf, b, blocks, n, dk, t_steps, out_stream);
  }
}

}  // namespace
}  // namespace ssa

void ssa_top(ssa::axis_t& in_stream, ssa::axis_t& out_stream, ssa::reg_t n, ssa::reg_t dk,
             ssa::reg_t t_steps, ssa::reg_t seed, ssa::reg_t blocks, ssa::reg_t* status,
             ssa::reg_t* info) {
  // Argument order fixes the AXI-Lite offsets of docs/spec.md §7 (0x10 n ... 0x48 info).
#pragma HLS INTERFACE mode=axis port=in_stream
#pragma HLS INTERFACE mode=axis port=out_stream
#pragma HLS INTERFACE mode=s_axilite port=n bundle=control
#pragma HLS INTERFACE mode=s_axilite port=dk bundle=control
#pragma HLS INTERFACE mode=s_axilite port=t_steps bundle=control
#pragma HLS INTERFACE mode=s_axilite port=seed bundle=control
#pragma HLS INTERFACE mode=s_axilite port=blocks bundle=control
#pragma HLS INTERFACE mode=s_axilite port=status bundle=control
#pragma HLS INTERFACE mode=s_axilite port=info bundle=control
#pragma HLS INTERFACE mode=s_axilite port=return bundle=control
#pragma HLS INTERFACE mode=ap_ctrl_hs port=return
  *info = ssa::INFO_WORD;
  const ssa::reg_t errors = ssa::config_errors(n, dk, t_steps, blocks);
  if (errors != 0) {  // spec §7: no stream access at all
    *status = errors;
    return;
  }
  ssa::stream_flags_t flags = 0;
  ssa::run_blocks(in_stream, out_stream, seed, n.to_int(), dk.to_int(), t_steps.to_int(),
                  blocks.to_int(), flags);
  *status = ssa::reg_t(flags) << ssa::STREAM_FLAGS_SHIFT;
}
