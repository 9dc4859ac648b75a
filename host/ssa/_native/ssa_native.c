/* Native kernel of the SSA contract (docs/spec.md sections 3-6), lfsr mode, for the `fast` backend.
 *
 * Plain C99, no third-party code. Built at install by setup.py into a shared library that
 * ssa/_native/__init__.py loads with ctypes. Two paths with identical results: a portable scalar
 * path (any C compiler, also 32-bit ARM) and an AVX2 path compiled with a target attribute and
 * chosen at run time (__builtin_cpu_supports), so one binary runs on every x86-64.
 *
 * One block, one time step t (Q, K, V are N x D bytes of 0/1, rows contiguous):
 *   pack    the N*D bytes of each matrix into a bit stream, rows cut from it as 64-bit words;
 *           V's rows are bit-transposed into columns (bits over j);
 *   eq. 5   GS[j] draws, us[j] = ((r*D)>>16)>>g; S[i] bits over j: popcount(Q_i & K_j) > us[j];
 *   eq. 6   GA[i] draws D times, u = ((r*N)>>16)>>g; Attn[i][d] = u < popcount(S_i & Vcol_d),
 *           generators of 8 rows in one vector in the AVX2 path (rows are independent);
 *   store   Attn row bits expanded back to bytes.
 * The gain g of contract v2 (spike iff u < count << g) enters as u >> g < count, the same test:
 * once per draw, never per comparison; g = 0 runs instances with constant shifts (contract v1).
 * Everything lives in fixed-size buffers on the stack (contract maxima N, D <= 256): no allocation.
 * Blocks [first, last) of one call run in order; the caller runs disjoint ranges on threads.
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#if defined(_WIN32)
#define SSA_EXPORT __declspec(dllexport)
#else
#define SSA_EXPORT __attribute__((visibility("default")))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SSA_INLINE static inline __attribute__((always_inline)) /* compiled into each path */
#else
#define SSA_INLINE static inline
#endif

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SSA_HAVE_AVX2_PATH 1
#include <immintrin.h>
#define SSA_AVX2 __attribute__((target("avx2,fma,popcnt")))
#else
#define SSA_HAVE_AVX2_PATH 0
#endif

#define NMAX 256
#define DMAX 256
#define WMAX 4                        /* 64-bit words per row of at most 256 bits */
#define STREAM_WORDS (NMAX * DMAX / 64 + 2)
#define GOLDEN 0x9E3779B9u
#define ZERO_STATE 0x6D2B79F5u
#define CONTRACT_VERSION 2             /* ssa.contract.config.CONTRACT_VERSION */
#define GAIN_MAX 4                     /* ssa.contract.config.GAIN_LOG2_MAX */

enum { ISA_SCALAR = 0, ISA_AVX2 = 1 };

/* ------------------------------------------------------------------ contract arithmetic */

static uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

static uint32_t state0(uint32_t mixed_seed, uint32_t stream) {
    uint32_t s = fmix32(mixed_seed ^ ((stream + 1u) * GOLDEN));
    return s ? s : ZERO_STATE;
}

static inline uint32_t xorshift32(uint32_t x) {
    x ^= x << 13;
    x ^= x >> 17;
    return x ^ (x << 5);
}

static inline int popcount64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (int)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* ------------------------------------------------------------------ shared helpers */

typedef struct {
    int n, dk, w, wn;                  /* N, D, words per row over d, words per column over j */
    uint64_t stream[STREAM_WORDS];     /* bits of one N x D byte matrix, row-major */
    uint64_t qp[WMAX][NMAX + 16];       /* Q rows, word w of row i at qp[w][i] */
    uint64_t kp[WMAX][NMAX + 16];       /* K rows, padding rows zero */
    uint64_t vt[WMAX][DMAX];           /* V columns: bits over j, word wn of column d at vt[wn][d] */
    uint64_t kl[WMAX][NMAX + 16], kh[WMAX][NMAX + 16]; /* low and high nibbles of kp (AVX2 path) */
    uint64_t vl[WMAX][DMAX], vh[WMAX][DMAX];         /* low and high nibbles of vt (AVX2 path) */
    uint64_t sp[WMAX][NMAX + 16];       /* S rows: bits over j, word wn of row i at sp[wn][i] */
    uint64_t us[NMAX + 16];             /* eq.-5 thresholds u_j (padding: never exceeded) */
    uint32_t ot[NMAX + 16][DMAX / 32];  /* Attn rows: bits over d, 32 per word */
    uint32_t *gs, *ga;                 /* generator states of the current block (GROUP_STATE) */
    uint64_t tile[64];
    int gain;                          /* the encoders' gain exponent g, 0..GAIN_MAX (last: the arrays
                                          above keep the offsets, and so the alignment, of contract v1) */
} Work;

/* Bits [pos, pos + len) of a stream, len <= 64; the stream has one spare zero word at its end. */
SSA_INLINE uint64_t get_bits(const uint64_t *s, int64_t pos, int len) {
    int64_t idx = pos >> 6;
    int sh = (int)(pos & 63);
    uint64_t x = s[idx] >> sh;
    if (sh && sh + len > 64) x |= s[idx + 1] << (64 - sh);
    return len == 64 ? x : x & ((1ull << len) - 1);
}

/* One stage of a bit transpose: swap the j x j off-diagonal sub-blocks of every 2j x 2j block
 * (bits selected by m) between rows r and r + j, for r in [0, k) with bit j of r clear. */
#define TRANSPOSE_STAGE(a, k, j, m)                                   \
    for (int blk = 0; blk < (k); blk += 2 * (j))                      \
        for (int r = blk; r < blk + (j); r++) {                       \
            uint64_t t_ = (((a)[r] >> (j)) ^ (a)[r + (j)]) & (m);     \
            (a)[r + (j)] ^= t_;                                       \
            (a)[r] ^= t_ << (j);                                      \
        }

/* Transpose the k x k bit matrix in the low bits of a[0..k), k in {8, 16, 32, 64}: bit c of a[r]
 * <-> bit r of a[c] (Hacker's Delight 7-3, started at the k/2 stage; higher bits stay zero). */
SSA_INLINE void transpose_bits(uint64_t *a, int k) {
    if (k >= 64) TRANSPOSE_STAGE(a, k, 32, 0x00000000FFFFFFFFull)
    if (k >= 32) TRANSPOSE_STAGE(a, k, 16, 0x0000FFFF0000FFFFull)
    if (k >= 16) TRANSPOSE_STAGE(a, k, 8, 0x00FF00FF00FF00FFull)
    TRANSPOSE_STAGE(a, k, 4, 0x0F0F0F0F0F0F0F0Full)
    TRANSPOSE_STAGE(a, k, 2, 0x3333333333333333ull)
    TRANSPOSE_STAGE(a, k, 1, 0x5555555555555555ull)
}

SSA_INLINE int pow2_at_least(int x) {
    int k = 8;
    while (k < x) k <<= 1;
    return k;
}

/* Cut the N rows of the packed stream into words rows[w][i] (bits over d). */
SSA_INLINE void rows_from_stream(const Work *wk, uint64_t rows[WMAX][NMAX + 16]) {
    for (int i = 0; i < wk->n; i++)
        for (int w = 0; w < wk->w; w++) {
            int len = wk->dk - 64 * w < 64 ? wk->dk - 64 * w : 64;
            rows[w][i] = get_bits(wk->stream, (int64_t)i * wk->dk + 64 * w, len);
        }
}

/* V columns vt[wn][d] (bits over j) from V rows (bits over d), 64 x 64 tiles bit-transposed. */
SSA_INLINE void columns_of(Work *wk, uint64_t rows[WMAX][NMAX + 16]) {
    int k = pow2_at_least(wk->n > wk->dk ? wk->n : wk->dk);
    if (k > 64) k = 64;
    for (int wn = 0; wn < wk->wn; wn++)
        for (int w = 0; w < wk->w; w++) {
            for (int r = 0; r < k; r++) {
                int j = 64 * wn + r;
                wk->tile[r] = j < wk->n ? rows[w][j] : 0;
            }
            transpose_bits(wk->tile, k);
            for (int c = 0; c < k && 64 * w + c < wk->dk; c++) wk->vt[wn][64 * w + c] = wk->tile[c];
        }
}

/* Attn rows ot[i] (bits over d) into the stream, row-major, zero elsewhere. */
SSA_INLINE void stream_from_rows(Work *wk, int64_t bits) {
    memset(wk->stream, 0, (size_t)((bits + 63) / 64 + 1) * 8);
    for (int i = 0; i < wk->n; i++)
        for (int c = 0; c * 32 < wk->dk; c++) {
            int len = wk->dk - 32 * c < 32 ? wk->dk - 32 * c : 32;
            uint64_t x = wk->ot[i][c] & (len == 32 ? 0xFFFFFFFFull : ((1ull << len) - 1));
            int64_t pos = (int64_t)i * wk->dk + 32 * c;
            int sh = (int)(pos & 63);
            wk->stream[pos >> 6] |= x << sh;
            if (sh + len > 64) wk->stream[(pos >> 6) + 1] |= x >> (64 - sh);
        }
}

SSA_INLINE void seed_block(Work *wk, uint32_t seed, int64_t b) {
    uint32_t mixed = fmix32(seed + (uint32_t)b);
    for (int j = 0; j < wk->n; j++) {
        wk->gs[j] = state0(mixed, 2u * (uint32_t)j);
        wk->ga[j] = state0(mixed, 2u * (uint32_t)j + 1u);
    }
    for (int j = wk->n; j < wk->n + 16; j++) wk->gs[j] = wk->ga[j] = ZERO_STATE; /* padding lanes */
}

/* eq. 5 draws: every GS[j] once; us[j] = ((r * D) >> 16) >> g (u < c << g iff u >> g < c),
 * padding thresholds never exceeded. */
SSA_INLINE void score_thresholds(Work *wk) {
    for (int j = 0; j < wk->n; j++) {
        wk->gs[j] = xorshift32(wk->gs[j]);
        wk->us[j] = (((wk->gs[j] >> 16) * (uint32_t)wk->dk) >> 16) >> wk->gain;
    }
    for (int j = wk->n; j < wk->n + 8; j++) wk->us[j] = 0x7FFFFFFFFFFFFFFFull;
}

/* ------------------------------------------------------------------ scalar path */

static const uint64_t *spread_table(void) {
    static uint64_t table[256];
    static int ready = 0;
    if (!ready) { /* idempotent: concurrent first calls write the same values */
        for (int b = 0; b < 256; b++) {
            uint64_t x = 0;
            for (int m = 0; m < 8; m++) x |= (uint64_t)((b >> m) & 1) << (8 * m);
            table[b] = x;
        }
        ready = 1;
    }
    return table;
}

/* Pack `count` bytes of 0/1 into wk->stream; returns the OR of all bytes. */
static uint64_t pack_scalar(Work *wk, const uint8_t *x, int64_t count) {
    uint64_t seen = 0;
    int64_t words = count / 64, p = 0;
    for (int64_t wd = 0; wd < words; wd++) {
        uint64_t acc = 0;
        for (int c = 0; c < 8; c++, p += 8) {
            uint64_t chunk;
            memcpy(&chunk, x + p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            chunk = __builtin_bswap64(chunk);
#endif
            seen |= chunk;
            acc |= ((chunk * 0x0102040810204080ull) >> 56) << (8 * c);
        }
        wk->stream[wd] = acc;
    }
    uint64_t acc = 0;
    for (int m = 0; p < count; p++, m++) {
        seen |= x[p];
        acc |= (uint64_t)(x[p] & 1) << m;
    }
    wk->stream[words] = acc;
    wk->stream[words + 1] = 0;
    return seen;
}

static void unpack_scalar(const Work *wk, uint8_t *out, int64_t count) {
    const uint64_t *spread = spread_table();
    int64_t p = 0;
    for (; p + 8 <= count; p += 8) {
        uint64_t x = spread[(wk->stream[p >> 6] >> (p & 63)) & 0xFF];
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x = __builtin_bswap64(x);
#endif
        memcpy(out + p, &x, 8);
    }
    for (; p < count; p++) out[p] = (uint8_t)((wk->stream[p >> 6] >> (p & 63)) & 1);
}

static void scores_scalar(Work *wk) {
    for (int i = 0; i < wk->n; i++)
        for (int wn = 0; wn < wk->wn; wn++) {
            uint64_t acc = 0;
            int j0 = 64 * wn, jn = wk->n - j0 < 64 ? wk->n - j0 : 64;
            for (int jj = 0; jj < jn; jj++) {
                uint64_t c = 0;
                for (int w = 0; w < wk->w; w++) c += (uint64_t)popcount64(wk->qp[w][i] & wk->kp[w][j0 + jj]);
                acc |= (uint64_t)(wk->us[j0 + jj] < c) << jj;
            }
            wk->sp[wn][i] = acc;
        }
}

/* eq. 6 with u = (r * N) >> shift, shift = 16 + g (u < a << g iff u >> g < a). */
SSA_INLINE void outputs_scalar_shift(Work *wk, int shift) {
    uint32_t un = (uint32_t)wk->n;
    for (int i = 0; i < wk->n; i++) {
        uint32_t g = wk->ga[i];
        for (int d = 0; d < wk->dk; d++) {
            g = xorshift32(g);
            uint32_t u = ((g >> 16) * un) >> shift;
            uint32_t a = 0;
            for (int wn = 0; wn < wk->wn; wn++) a += (uint32_t)popcount64(wk->sp[wn][i] & wk->vt[wn][d]);
            if (!(d & 31)) wk->ot[i][d >> 5] = 0;
            wk->ot[i][d >> 5] |= (uint32_t)(u < a) << (d & 31);
        }
        wk->ga[i] = g;
    }
}

static void outputs_scalar(Work *wk) {
    if (wk->gain) outputs_scalar_shift(wk, 16 + wk->gain);
    else outputs_scalar_shift(wk, 16); /* contract v1: a constant shift */
}

/* One time step of one block: N x D bytes of Q, K, V at q, k, v into out; returns the OR of the inputs. */
typedef uint64_t (*StepFn)(Work *wk, const uint8_t *q, const uint8_t *k, const uint8_t *v, uint8_t *out);

static uint64_t step_scalar(Work *wk, const uint8_t *q, const uint8_t *k, const uint8_t *v, uint8_t *out) {
    int64_t cells = (int64_t)wk->n * wk->dk;
    uint64_t seen = pack_scalar(wk, q, cells);
    rows_from_stream(wk, wk->qp);
    seen |= pack_scalar(wk, k, cells);
    rows_from_stream(wk, wk->kp);
    seen |= pack_scalar(wk, v, cells);
    rows_from_stream(wk, wk->sp); /* V rows, borrowed buffer: columns_of copies them out */
    columns_of(wk, wk->sp);
    score_thresholds(wk);
    scores_scalar(wk);
    outputs_scalar(wk);
    stream_from_rows(wk, cells);
    unpack_scalar(wk, out, cells);
    return seen;
}

#define GROUP 8 /* blocks stepped together: time step t of all of them, then t + 1 (memory in order) */

/* Blocks [first, last) in groups: each group's generator states on the stack, its blocks' rows of
 * one time step read in memory order. Returns 1 if an input byte was not 0/1. */
static int run_groups(Work *wk, StepFn step, const uint8_t *q, const uint8_t *k, const uint8_t *v, uint8_t *out,
                      int64_t t_steps, int64_t blocks, uint32_t seed, int64_t first, int64_t last) {
    uint32_t state[GROUP][2][NMAX + 16];
    int64_t cells = (int64_t)wk->n * wk->dk;
    uint64_t seen = 0;
    for (int64_t b0 = first; b0 < last; b0 += GROUP) {
        int64_t count = last - b0 < GROUP ? last - b0 : GROUP;
        for (int64_t g = 0; g < count; g++) {
            wk->gs = state[g][0];
            wk->ga = state[g][1];
            seed_block(wk, seed, b0 + g);
        }
        for (int64_t t = 0; t < t_steps; t++)
            for (int64_t g = 0; g < count; g++) {
                int64_t off = (t * blocks + b0 + g) * cells;
                wk->gs = state[g][0];
                wk->ga = state[g][1];
                seen |= step(wk, q + off, k + off, v + off, out + off);
            }
    }
    return (seen & 0xFEFEFEFEFEFEFEFEull) != 0;
}

/* ------------------------------------------------------------------ AVX2 path */
#if SSA_HAVE_AVX2_PATH

SSA_AVX2 static uint64_t pack_avx2(Work *wk, const uint8_t *x, int64_t count) {
    __m256i seen = _mm256_setzero_si256();
    int64_t p = 0;
    char *s32 = (char *)wk->stream; /* 32-bit halves of the little-endian words */
    for (; p + 32 <= count; p += 32) {
        __m256i c = _mm256_loadu_si256((const __m256i *)(x + p));
        seen = _mm256_or_si256(seen, c);
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(c, 7));
        memcpy(s32 + 4 * (p >> 5), &m, 4);
    }
    uint64_t tail = 0, seen_tail = 0;
    for (int m = 0; p < count; p++, m++) {
        seen_tail |= x[p];
        tail |= (uint64_t)(x[p] & 1) << m;
    }
    int64_t words = (count + 63) / 64;
    if ((count & 63) && (count & 63) <= 32) wk->stream[words - 1] &= 0xFFFFFFFFull; /* stale upper half */
    if (count & 31) {
        uint32_t m = (uint32_t)tail;
        memcpy(s32 + 4 * (count >> 5), &m, 4);
    }
    wk->stream[words] = 0;
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, seen);
    return lanes[0] | lanes[1] | lanes[2] | lanes[3] | seen_tail;
}

SSA_AVX2 static inline __m256i spread32(uint32_t bits) {
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i x = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    return _mm256_min_epu8(_mm256_and_si256(x, bit), _mm256_set1_epi8(1));
}

SSA_AVX2 static void unpack_avx2(const Work *wk, uint8_t *out, int64_t count) {
    const char *s32 = (const char *)wk->stream;
    int64_t p = 0;
    for (; p + 32 <= count; p += 32) {
        uint32_t bits;
        memcpy(&bits, s32 + 4 * (p >> 5), 4);
        _mm256_storeu_si256((__m256i *)(out + p), spread32(bits));
    }
    for (; p < count; p++) out[p] = (uint8_t)((wk->stream[p >> 6] >> (p & 63)) & 1);
}

/* Rows of one N x D matrix into rows[w][i]; returns the OR of all bytes. Rows of a multiple of 32
 * spikes are packed in place, others through the bit stream. */
SSA_AVX2 static uint64_t pack_rows_avx2(Work *wk, const uint8_t *x, uint64_t rows[WMAX][NMAX + 16]) {
    if (wk->dk & 31) {
        uint64_t seen = pack_avx2(wk, x, (int64_t)wk->n * wk->dk);
        rows_from_stream(wk, rows);
        return seen;
    }
    __m256i seen = _mm256_setzero_si256();
    int halves = wk->dk >> 5;
    for (int i = 0; i < wk->n; i++, x += wk->dk)
        for (int c = 0; c < halves; c++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(x + 32 * c));
            seen = _mm256_or_si256(seen, v);
            uint64_t m = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(v, 7));
            if (c & 1) rows[c >> 1][i] |= m << 32;
            else rows[c >> 1][i] = m;
        }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, seen);
    return lanes[0] | lanes[1] | lanes[2] | lanes[3];
}

/* Attn rows ot (bits over d) as bytes into out, N x D. */
SSA_AVX2 static void unpack_rows_avx2(Work *wk, uint8_t *out) {
    int64_t cells = (int64_t)wk->n * wk->dk;
    if (wk->dk & 31) {
        stream_from_rows(wk, cells);
        unpack_avx2(wk, out, cells);
        return;
    }
    int halves = wk->dk >> 5;
    for (int i = 0; i < wk->n; i++, out += wk->dk)
        for (int c = 0; c < halves; c++) _mm256_storeu_si256((__m256i *)(out + 32 * c), spread32(wk->ot[i][c]));
}

#define LOW4 0x0F0F0F0F0F0F0F0Full

SSA_AVX2 static inline __m256i nibble_counts(void) {
    return _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}

/* Byte counts of x & y where xl, xh (yl, yh) are the low and high nibbles of x (y): the AND and the
 * nibble split of a popcount commute, so each operand is split once, not once per pair. */
SSA_AVX2 static inline __m256i and_popcount_bytes(__m256i lut, __m256i xl, __m256i xh, __m256i yl, __m256i yh) {
    return _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(xl, yl)), _mm256_shuffle_epi8(lut, _mm256_and_si256(xh, yh)));
}

/* Low and high nibbles of `count` words. */
SSA_INLINE void split_nibbles(const uint64_t *x, uint64_t *lo, uint64_t *hi, int count) {
    for (int j = 0; j < count; j++) {
        lo[j] = x[j] & LOW4;
        hi[j] = (x[j] >> 4) & LOW4;
    }
}

/* eq. 5, 4 columns j per vector: S bits over j of row i. */
SSA_AVX2 static inline void scores_avx2_w(Work *wk, int words) {
    const __m256i lut = nibble_counts(), zero = _mm256_setzero_si256();
    for (int w = 0; w < words; w++) split_nibbles(wk->kp[w], wk->kl[w], wk->kh[w], wk->n + 4);
    for (int i = 0; i < wk->n; i++) {
        __m256i ql[WMAX], qh[WMAX];
        for (int w = 0; w < words; w++) {
            ql[w] = _mm256_set1_epi64x((long long)(wk->qp[w][i] & LOW4));
            qh[w] = _mm256_set1_epi64x((long long)((wk->qp[w][i] >> 4) & LOW4));
        }
        for (int wn = 0; wn < wk->wn; wn++) {
            int j0 = 64 * wn, jn = wk->n - j0 < 64 ? wk->n - j0 : 64;
            uint64_t acc = 0;
            for (int jj = 0; jj < jn; jj += 4) {
                int j = j0 + jj;
                __m256i c = zero;
                for (int w = 0; w < words; w++)
                    c = _mm256_add_epi8(c, and_popcount_bytes(lut, ql[w], qh[w], _mm256_loadu_si256((const __m256i *)&wk->kl[w][j]),
                                                              _mm256_loadu_si256((const __m256i *)&wk->kh[w][j])));
                __m256i gt = _mm256_cmpgt_epi64(_mm256_sad_epu8(c, zero), _mm256_loadu_si256((const __m256i *)&wk->us[j]));
                acc |= (uint64_t)(uint32_t)_mm256_movemask_pd(_mm256_castsi256_pd(gt)) << jj;
            }
            wk->sp[wn][i] = jn == 64 ? acc : acc & ((1ull << jn) - 1);
        }
    }
}

SSA_AVX2 static void scores_avx2(Work *wk) {
    if (wk->w == 1) scores_avx2_w(wk, 1);
    else scores_avx2_w(wk, wk->w);
}

/* Reverse the bits of every 32-bit lane. */
SSA_AVX2 static inline __m256i reverse_bits32(__m256i x) {
    const __m256i bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    const __m256i rev4 = _mm256_setr_epi8(0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15, 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15);
    const __m256i low = _mm256_set1_epi8(0x0F);
    x = _mm256_shuffle_epi8(x, bswap);
    __m256i lo = _mm256_shuffle_epi8(rev4, _mm256_and_si256(x, low));
    __m256i hi = _mm256_shuffle_epi8(rev4, _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
    return _mm256_or_si256(_mm256_slli_epi16(lo, 4), hi);
}

/* eq. 6 for rows i0..i0+15: the generators of 8 rows in one vector, two vectors interleaved (their
 * xorshift chains are independent), D draws each; Attn bits over d into ot. The lanes compare
 * a << shift with u << 16 = ((r * N) >> 16) << 16, shift = 16 + g (u < a << g; at most 2^28). */
SSA_AVX2 SSA_INLINE void outputs_avx2_w(Work *wk, int words, int shift) { /* inlined: constant words, shift per call */
    const __m256i lut = nibble_counts(), zero = _mm256_setzero_si256(), low = _mm256_set1_epi8(0x0F);
    const __m256i nhi = _mm256_set1_epi32((int)((uint32_t)wk->n << 16));
    for (int wn = 0; wn < words; wn++) split_nibbles(wk->vt[wn], wk->vl[wn], wk->vh[wn], wk->dk);
    for (int i0 = 0; i0 < wk->n; i0 += 16) {
        /* per 8 rows, 64-bit lanes: a = rows +0, +1, +4, +5 and b = +2, +3, +6, +7, so that packing
           their counts to 32 bits gives the 8 rows in order */
        __m256i al[2][WMAX], ah[2][WMAX], bl[2][WMAX], bh[2][WMAX], g[2];
        for (int o = 0; o < 2; o++) {
            for (int wn = 0; wn < words; wn++) {
                __m256i lo = _mm256_loadu_si256((const __m256i *)&wk->sp[wn][i0 + 8 * o]);
                __m256i hi = _mm256_loadu_si256((const __m256i *)&wk->sp[wn][i0 + 8 * o + 4]);
                __m256i a = _mm256_permute2x128_si256(lo, hi, 0x20), b = _mm256_permute2x128_si256(lo, hi, 0x31);
                al[o][wn] = _mm256_and_si256(a, low);
                ah[o][wn] = _mm256_and_si256(_mm256_srli_epi16(a, 4), low);
                bl[o][wn] = _mm256_and_si256(b, low);
                bh[o][wn] = _mm256_and_si256(_mm256_srli_epi16(b, 4), low);
            }
            g[o] = _mm256_loadu_si256((const __m256i *)&wk->ga[i0 + 8 * o]);
        }
        for (int d0 = 0; d0 < wk->dk; d0 += 32) {
            int dn = wk->dk - d0 < 32 ? wk->dk - d0 : 32;
            __m256i acc[2] = {zero, zero}; /* bit 0 = the latest d; reversed at the end */
            for (int d = d0; d < d0 + dn; d++) {
                for (int o = 0; o < 2; o++) {
                    __m256i ca = zero, cb = zero;
                    for (int wn = 0; wn < words; wn++) {
                        __m256i vl = _mm256_set1_epi64x((long long)wk->vl[wn][d]), vh = _mm256_set1_epi64x((long long)wk->vh[wn][d]);
                        ca = _mm256_add_epi8(ca, and_popcount_bytes(lut, al[o][wn], ah[o][wn], vl, vh));
                        cb = _mm256_add_epi8(cb, and_popcount_bytes(lut, bl[o][wn], bh[o][wn], vl, vh));
                    }
                    __m256i a = _mm256_slli_epi32(_mm256_packus_epi32(_mm256_sad_epu8(ca, zero), _mm256_sad_epu8(cb, zero)), shift);
                    __m256i x = g[o];
                    x = _mm256_xor_si256(x, _mm256_slli_epi32(x, 13));
                    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 17));
                    x = _mm256_xor_si256(x, _mm256_slli_epi32(x, 5));
                    g[o] = x;
                    __m256i u = _mm256_mulhi_epu16(x, nhi); /* ((r * N) >> 16) << 16, r the high half of x */
                    acc[o] = _mm256_sub_epi32(_mm256_add_epi32(acc[o], acc[o]), _mm256_cmpgt_epi32(a, u));
                }
            }
            for (int o = 0; o < 2; o++) {
                uint32_t lanes[8];
                _mm256_storeu_si256((__m256i *)lanes, _mm256_srl_epi32(reverse_bits32(acc[o]), _mm_cvtsi32_si128(32 - dn)));
                for (int l = 0; l < 8; l++) wk->ot[i0 + 8 * o + l][d0 >> 5] = lanes[l];
            }
        }
        for (int o = 0; o < 2; o++) _mm256_storeu_si256((__m256i *)&wk->ga[i0 + 8 * o], g[o]);
    }
}

SSA_AVX2 static void outputs_avx2(Work *wk) {
    if (wk->gain) outputs_avx2_w(wk, wk->wn, 16 + wk->gain);
    else if (wk->wn == 1) outputs_avx2_w(wk, 1, 16); /* contract v1: constant shifts */
    else outputs_avx2_w(wk, wk->wn, 16);
}

/* The floor's pair loop: plain AND + nibble-table popcount + compare, 4 pairs per vector, on a
 * 64 x 64 word matrix (no nibble pre-split, nothing around it). */
SSA_AVX2 static uint64_t floor_pairs_avx2(const Work *wk) {
    const __m256i lut = nibble_counts(), zero = _mm256_setzero_si256(), low = _mm256_set1_epi8(0x0F);
    uint64_t sum = 0;
    for (int i = 0; i < 64; i++) {
        __m256i q = _mm256_set1_epi64x((long long)wk->qp[0][i]);
        uint64_t acc = 0;
        for (int j = 0; j < 64; j += 4) {
            __m256i x = _mm256_and_si256(q, _mm256_loadu_si256((const __m256i *)&wk->kp[0][j]));
            __m256i c = _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)),
                                        _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
            __m256i gt = _mm256_cmpgt_epi64(_mm256_sad_epu8(c, zero), _mm256_loadu_si256((const __m256i *)&wk->us[j]));
            acc |= (uint64_t)(uint32_t)_mm256_movemask_pd(_mm256_castsi256_pd(gt)) << j;
        }
        sum += acc;
    }
    return sum;
}

SSA_AVX2 static uint64_t step_avx2(Work *wk, const uint8_t *q, const uint8_t *k, const uint8_t *v, uint8_t *out) {
    uint64_t seen = pack_rows_avx2(wk, q, wk->qp);
    seen |= pack_rows_avx2(wk, k, wk->kp);
    seen |= pack_rows_avx2(wk, v, wk->sp); /* V rows, borrowed buffer */
    columns_of(wk, wk->sp);
    score_thresholds(wk);
    scores_avx2(wk);
    outputs_avx2(wk);
    unpack_rows_avx2(wk, out);
    return seen;
}
#endif

/* ------------------------------------------------------------------ exported API */

/** 1 if path `isa` (0 scalar, 1 AVX2) runs on this CPU. */
SSA_EXPORT int ssa_isa_available(int isa) {
    if (isa == ISA_SCALAR) return 1;
#if SSA_HAVE_AVX2_PATH
    if (isa == ISA_AVX2) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt");
    }
#endif
    return 0;
}

/** Contract version this library implements (docs/spec.md). */
SSA_EXPORT int ssa_contract_version(void) { return CONTRACT_VERSION; }

/** state0(block_seed, stream) of docs/spec.md section 4. */
SSA_EXPORT uint32_t ssa_state0(uint32_t block_seed, uint32_t stream) { return state0(fmix32(block_seed), stream); }

/** One xorshift32 step. */
SSA_EXPORT uint32_t ssa_xorshift32(uint32_t x) { return xorshift32(x); }

/**
 * Attn of blocks [first, last) of spikes q, k, v laid out [T][blocks][N][D] (bytes 0/1) into out
 * (same layout), block b seeded with seed + b, encoders with gain exponent gain_log2. Returns 0,
 * 1 if an input byte was not 0/1 (the output is then meaningless), -1 for sizes or a gain outside
 * the contract or an unavailable path.
 */
SSA_EXPORT int ssa_run(const uint8_t *q, const uint8_t *k, const uint8_t *v, uint8_t *out, int64_t t_steps, int64_t blocks,
                       int64_t n, int64_t dk, uint32_t seed, int gain_log2, int64_t first, int64_t last, int isa) {
    if (n < 1 || n > NMAX || dk < 1 || dk > DMAX || t_steps < 1 || first < 0 || last > blocks || first > last) return -1;
    if (gain_log2 < 0 || gain_log2 > GAIN_MAX) return -1;
    if (!ssa_isa_available(isa)) return -1;
    Work wk;
    wk.n = (int)n;
    wk.dk = (int)dk;
    wk.w = (int)((dk + 63) / 64);
    wk.wn = (int)((n + 63) / 64);
    wk.gain = gain_log2;
    for (int w = 0; w < WMAX; w++) /* padding rows read by the 4- and 8-row vectors */
        for (int i = wk.n; i < wk.n + 16; i++) wk.qp[w][i] = wk.kp[w][i] = wk.sp[w][i] = 0;
    StepFn step = step_scalar;
#if SSA_HAVE_AVX2_PATH
    if (isa == ISA_AVX2) step = step_avx2;
#endif
    return run_groups(&wk, step, q, k, v, out, t_steps, blocks, seed, first, last);
}

/* ------------------------------------------------------------------ spike x weight products */

#define LINEAR_KMAX 8192

/* y[r] = sum over the non-zero x[r, k] of x[r, k] * wt[k] (rows of odim floats), plain C loops. */
static void linear_scalar(const float *x, const float *wt, float *y, int64_t rows, int64_t kdim, int64_t odim) {
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * odim;
        const float *xr = x + r * kdim;
        for (int64_t o = 0; o < odim; o++) yr[o] = 0.0f;
        for (int64_t k = 0; k < kdim; k++) {
            float xv = xr[k];
            if (xv == 0.0f) continue;
            const float *w = wt + k * odim;
            for (int64_t o = 0; o < odim; o++) yr[o] += xv * w[o];
        }
    }
}

#if SSA_HAVE_AVX2_PATH
/* The same sums, 64 outputs held in 8 registers while the row's non-zero inputs stream past. */
SSA_AVX2 static void linear_avx2(const float *x, const float *wt, float *y, int64_t rows, int64_t kdim, int64_t odim) {
    int32_t nz[LINEAR_KMAX];
    float nv[LINEAR_KMAX];
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * kdim;
        int count = 0;
        int64_t k = 0;
        for (; k + 8 <= kdim; k += 8) {
            unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(xr + k), _mm256_setzero_ps(), _CMP_NEQ_UQ));
            while (m) {
                int b = __builtin_ctz(m);
                m &= m - 1;
                nz[count] = (int32_t)(k + b);
                nv[count++] = xr[k + b];
            }
        }
        for (; k < kdim; k++)
            if (xr[k] != 0.0f) {
                nz[count] = (int32_t)k;
                nv[count++] = xr[k];
            }
        for (int64_t o = 0; o < odim; o += 64) {
            __m256 acc[8];
            for (int a = 0; a < 8; a++) acc[a] = _mm256_setzero_ps();
            for (int c = 0; c < count; c++) {
                const float *w = wt + (int64_t)nz[c] * odim + o;
                __m256 xv = _mm256_set1_ps(nv[c]);
                for (int a = 0; a < 8; a++) acc[a] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + 8 * a), acc[a]); /* exact: integers */
            }
            for (int a = 0; a < 8; a++) _mm256_storeu_ps(y + r * odim + o + 8 * a, acc[a]);
        }
    }
}
#endif

/**
 * y = x @ wt for float32 x [rows, kdim] holding small integers (spikes, spike counts) and float32 wt
 * [kdim, odim] holding integers: only non-zero inputs are visited. Every product and partial sum is
 * an integer below 2^24, so the result is exact and equals any other summation order (BLAS).
 * Returns 0, or -1 for sizes the AVX2 path does not take (the caller then uses BLAS).
 */
SSA_EXPORT int ssa_spike_linear(const float *x, const float *wt, float *y, int64_t rows, int64_t kdim, int64_t odim, int isa) {
    if (rows < 0 || kdim < 1 || odim < 1 || !ssa_isa_available(isa)) return -1;
#if SSA_HAVE_AVX2_PATH
    if (isa == ISA_AVX2) {
        if (odim % 64 || kdim > LINEAR_KMAX) return -1;
        linear_avx2(x, wt, y, rows, kdim, odim);
        return 0;
    }
#endif
    linear_scalar(x, wt, y, rows, kdim, odim);
    return 0;
}

/* ------------------------------------------------------------------ multi-step LIF */

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
/* One LIF step on `count` neurons, the float32 operations of ssa.model.coding.lif_multistep in its
 * order: h = v + (x - v) / tau; s = (h - vth >= 0); v = h * (1 - s). */
static void lif_step_scalar(const float *x, float *v, float *s, int64_t count, float tau, float vth) {
    for (int64_t e = 0; e < count; e++) {
        float d = x[e] - v[e];
        float q = d / tau;
        float h = v[e] + q;
        float above = h - vth;
        float spike = above >= 0.0f ? 1.0f : 0.0f;
        float keep = 1.0f - spike;
        s[e] = spike;
        v[e] = h * keep;
    }
}

#if SSA_HAVE_AVX2_PATH
SSA_AVX2 static void lif_step_avx2(const float *x, float *v, float *s, int64_t count, float tau, float vth) {
    const __m256 tv = _mm256_set1_ps(tau), th = _mm256_set1_ps(vth), one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    int64_t e = 0;
    for (; e + 8 <= count; e += 8) {
        __m256 ve = _mm256_loadu_ps(v + e);
        __m256 h = _mm256_add_ps(ve, _mm256_div_ps(_mm256_sub_ps(_mm256_loadu_ps(x + e), ve), tv));
        __m256 spike = _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(h, th), zero, _CMP_GE_OQ), one);
        _mm256_storeu_ps(s + e, spike);
        _mm256_storeu_ps(v + e, _mm256_mul_ps(h, _mm256_sub_ps(one, spike)));
    }
    lif_step_scalar(x + e, v + e, s + e, count - e, tau, vth);
}
#endif
#endif /* plain float32 arithmetic */

/**
 * Multi-step LIF over x [steps, count] (float32) into spikes s (same shape), V starting at 0:
 * the same IEEE float32 operations as ssa.model.coding.lif_multistep. Returns -1 (the caller then
 * uses numpy) where C float arithmetic is not plain float32 (x87 excess precision).
 */
SSA_EXPORT int ssa_lif(const float *x, float *s, int64_t steps, int64_t count, float tau, float vth, int isa) {
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
    (void)x; (void)s; (void)steps; (void)count; (void)tau; (void)vth; (void)isa;
    return -1;
#else
    if (steps < 0 || count < 0 || !ssa_isa_available(isa)) return -1;
    enum { CHUNK = 1024 }; /* neurons per pass: V stays in L1 across the time steps */
    float v[CHUNK];
    for (int64_t c0 = 0; c0 < count; c0 += CHUNK) {
        int64_t n = count - c0 < CHUNK ? count - c0 : CHUNK;
        for (int64_t e = 0; e < n; e++) v[e] = 0.0f;
        for (int64_t t = 0; t < steps; t++) {
            const float *xt = x + t * count + c0;
            float *st = s + t * count + c0;
#if SSA_HAVE_AVX2_PATH
            if (isa == ISA_AVX2) lif_step_avx2(xt, v, st, n, tau, vth);
            else
#endif
                lif_step_scalar(xt, v, st, n, tau, vth);
        }
    }
    return 0;
#endif
}

/* ------------------------------------------------------------------ floor micro-benchmarks */

/**
 * `reps` x 4096 AND + popcount + compare pairs (64 x 64 words in L1, the eq.-5 inner loop
 * without anything around it) on path `isa`; returns a checksum so nothing is optimised away.
 */
SSA_EXPORT uint64_t ssa_floor_pairs(int isa, int64_t reps) {
    Work wk;
    (void)isa; /* unused without the AVX2 path */
    uint32_t x = 12345u;
    wk.n = 64;
    wk.dk = 64;
    wk.w = 1;
    wk.wn = 1;
    wk.gain = 0;
    for (int j = 0; j < 64 + 8; j++) {
        x = xorshift32(x);
        wk.qp[0][j] = ((uint64_t)x << 32) | xorshift32(x ^ 7u);
        x = xorshift32(x);
        wk.kp[0][j] = ((uint64_t)x << 32) | xorshift32(x ^ 9u);
        wk.us[j] = j < 64 ? (x >> 26) : 0x7FFFFFFFFFFFFFFFull;
    }
    uint64_t sum = 0;
    for (int64_t r = 0; r < reps; r++) {
#if SSA_HAVE_AVX2_PATH
        if (isa == ISA_AVX2) sum += floor_pairs_avx2(&wk);
        else
#endif
        {
            scores_scalar(&wk);
            sum += wk.sp[0][r & 63];
        }
        wk.qp[0][r & 63] ^= sum; /* a dependence between repetitions */
    }
    return sum;
}

#if SSA_HAVE_AVX2_PATH
SSA_AVX2 static uint64_t draws_avx2(int64_t reps) {
    __m256i g[4];
    for (int l = 0; l < 4; l++) g[l] = _mm256_setr_epi32(1 + l, 2, 3, 4, 5, 6, 7, 8 + l);
    for (int64_t r = 0; r < reps; r++)
        for (int l = 0; l < 4; l++) {
            g[l] = _mm256_xor_si256(g[l], _mm256_slli_epi32(g[l], 13));
            g[l] = _mm256_xor_si256(g[l], _mm256_srli_epi32(g[l], 17));
            g[l] = _mm256_xor_si256(g[l], _mm256_slli_epi32(g[l], 5));
        }
    uint32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, _mm256_xor_si256(_mm256_xor_si256(g[0], g[1]), _mm256_xor_si256(g[2], g[3])));
    return lanes[0] ^ lanes[7];
}
#endif

/** `reps` x 32 xorshift32 draws (32 independent generators, as wide as path `isa` allows); checksum. */
SSA_EXPORT uint64_t ssa_floor_draws(int isa, int64_t reps) {
    (void)isa;
#if SSA_HAVE_AVX2_PATH
    if (isa == ISA_AVX2) return draws_avx2(reps);
#endif
    uint32_t g[32];
    for (int l = 0; l < 32; l++) g[l] = (uint32_t)l + 1u;
    for (int64_t r = 0; r < reps; r++)
        for (int l = 0; l < 32; l++) g[l] = xorshift32(g[l]);
    uint32_t s = 0;
    for (int l = 0; l < 32; l++) s ^= g[l];
    return s;
}
