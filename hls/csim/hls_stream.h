// Minimal stand-in for Vitis HLS's hls::stream, used ONLY for C-simulation with plain g++.
//
// hls/csim/ comes first on the g++ include path (host/ssa/backends/csim.py, tests); Vitis HLS never sees this
// directory (run_hls.tcl does not add it), so synthesis and Vitis C-simulation use the real header.
// Only what the kernel and its testbench use is modelled: an unbounded FIFO. Reading an empty stream
// throws hls::csim::empty_stream_read instead of blocking: on hardware that read would stall forever
// (a DMA that sent fewer words than the registers announce); here the C bridge turns it into an
// error code that Python raises as ssa.errors.StreamError.
#ifndef SSA_CSIM_HLS_STREAM_H
#define SSA_CSIM_HLS_STREAM_H

#include <cstddef>
#include <deque>
#include <stdexcept>
#include <string>

namespace hls {
namespace csim {

/// Thrown by stream::read() on an empty stream (a hardware read that would never complete).
class empty_stream_read : public std::runtime_error {
 public:
  explicit empty_stream_read(const std::string& name)
      : std::runtime_error("read from empty hls::stream '" + name + "'") {}
};

}  // namespace csim

template <typename T>
class stream {
 public:
  stream() : name_("unnamed") {}
  explicit stream(const char* name) : name_(name) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  /// Remove and return the oldest element; throws csim::empty_stream_read when there is none.
  T read() {
    if (fifo_.empty()) throw csim::empty_stream_read(name_);
    T value = fifo_.front();
    fifo_.pop_front();
    return value;
  }
  void read(T& value) { value = read(); }
  void write(const T& value) { fifo_.push_back(value); }
  bool empty() const { return fifo_.empty(); }
  bool full() const { return false; }
  std::size_t size() const { return fifo_.size(); }
  stream& operator>>(T& value) { value = read(); return *this; }
  stream& operator<<(const T& value) { write(value); return *this; }

 private:
  std::string name_;
  std::deque<T> fifo_;
};

}  // namespace hls

#endif  // SSA_CSIM_HLS_STREAM_H
