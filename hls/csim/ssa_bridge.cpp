// C-simulation bridge: an extern "C" entry point that ctypes (host/ssa/backends/csim.py) calls to run
// ssa_top once, exactly as the board would: words and TLAST flags in, words and TLAST flags out,
// status and info back. Built only for C-simulation, never given to Vitis HLS.
//
// ssa_top runs on its own thread whose stack holds the block buffers of large builds (the kernel
// keeps them as local arrays, as HLS wants; the default 8 MiB stack is too small for some maxima).
#include <pthread.h>

#include <cstdint>
#include <exception>

#include "../ssa_top.h"

namespace {

// Return codes of ssa_csim_call (mirrored in host/ssa/backends/csim.py).
constexpr int OK = 0;
constexpr int INPUT_EXHAUSTED = 1;  // the kernel read past the last input word (DMA stall)
constexpr int OUTPUT_OVERFLOW = 2;  // the kernel wrote more words than the caller's buffer holds
constexpr int THREAD_FAILED = 3;    // no thread with a large enough stack could be started
constexpr int KERNEL_EXCEPTION = 4; // anything else thrown inside the kernel

struct Call {
  ssa::axis_t* in;
  ssa::axis_t* out;
  uint32_t n, dk, t_steps, seed, blocks, gain_log2;
  ssa::reg_t status, info, tile;
  int result;
};

void* run_kernel(void* arg) {
  Call& call = *static_cast<Call*>(arg);
  try {
    ssa_top(*call.in, *call.out, call.n, call.dk, call.t_steps, call.seed, call.blocks,
            &call.status, &call.info, &call.tile, call.gain_log2);
    call.result = OK;
  } catch (const hls::csim::empty_stream_read&) {
    call.result = INPUT_EXHAUSTED;
  } catch (const std::exception&) {
    call.result = KERNEL_EXCEPTION;
  }
  return nullptr;
}

constexpr std::size_t block_buffer_bytes() {
  return sizeof(ssa::half_t) * std::size_t(ssa::MATRICES + 1) * ssa::PAIRS * ssa::PAIR_DEPTH;
}

}  // namespace

extern "C" {

/// Run ssa_top on n_in input words (TLAST flags in last_in); copy at most capacity_out output words
/// to words_out/last_out. *n_out is the number the kernel wrote, *n_read the input words it read;
/// *status, *info and *tile are the output registers; n ... gain_log2 the input registers.
int ssa_csim_call(const uint64_t* words_in, const uint8_t* last_in, uint64_t n_in,
                  uint64_t* words_out, uint8_t* last_out, uint64_t capacity_out, uint64_t* n_out,
                  uint64_t* n_read, uint32_t n, uint32_t dk, uint32_t t_steps, uint32_t seed,
                  uint32_t blocks, uint32_t gain_log2, uint32_t* status, uint32_t* info,
                  uint32_t* tile) {
  ssa::axis_t in("in_stream"), out("out_stream");
  for (uint64_t i = 0; i < n_in; ++i) {
    ssa::beat_t beat;
    beat.data = words_in[i];
    beat.keep = -1;
    beat.strb = -1;
    beat.last = last_in[i] ? 1 : 0;
    in.write(beat);
  }
  Call call = {&in, &out, n, dk, t_steps, seed, blocks, gain_log2, 0, 0, 0, THREAD_FAILED};
  pthread_attr_t attr;
  pthread_t thread;
  const std::size_t stack = 2 * block_buffer_bytes() + (std::size_t(16) << 20);
  if (pthread_attr_init(&attr) == 0) {
    if (pthread_attr_setstacksize(&attr, stack) == 0 &&
        pthread_create(&thread, &attr, run_kernel, &call) == 0) {
      pthread_join(thread, nullptr);
    }
    pthread_attr_destroy(&attr);
  }
  *status = call.status.to_uint();
  *info = call.info.to_uint();
  *tile = call.tile.to_uint();
  *n_read = n_in - in.size();
  *n_out = out.size();
  for (uint64_t i = 0; i < capacity_out && !out.empty(); ++i) {
    const ssa::beat_t beat = out.read();
    words_out[i] = beat.data.to_uint64();
    last_out[i] = beat.last ? 1 : 0;
  }
  if (call.result == OK && *n_out > capacity_out) return OUTPUT_OVERFLOW;
  return call.result;
}

}  // extern "C"
