// C-simulation testbench of ssa_top: runs golden vectors (tests/vectors/*.txt, written by
// host/ssa/contract/vectors.py from the reference emulator) and compares every output word and TLAST flag.
//
// Usage: tb_ssa VECTOR.txt [VECTOR.txt ...]   or   SSA_VECTORS=a.txt:b.txt tb_ssa
// Prints one line per vector: PASS, SKIP (the vector needs larger maxima than this build; rebuild
// with -DSSA_N_TILE/-DSSA_N_LIMIT/-DSSA_DK_MAX/-DSSA_T_MAX) or FAIL, then a summary. Exit status 0 only when no
// vector failed and at least one passed. A probe call (blocks = 0) and the refusal of an
// out-of-range gain (status bit 7, no stream traffic) are checked first. A vector's config line
// may end in `gain=<g>` (contract v2); without it (a v1 vector) g = 0.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ssa_top.h"

namespace {

struct GoldenVector {
  std::string name;
  uint32_t n = 0, dk = 0, t = 0, seed = 0, blocks = 0, gain = 0;
  std::vector<uint64_t> words_in, words_out;
};

enum class Outcome { pass, skip, fail };

/// Next line that is neither blank nor a '#' comment; false at end of file.
bool next_line(std::istream& in, std::string& line) {
  while (std::getline(in, line)) {
    const std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start, line.find_last_not_of(" \t\r") - start + 1);
    return true;
  }
  return false;
}

/// The text after `key ` on the next line, or an error.
bool expect(std::istream& in, const std::string& key, std::string& rest, std::string& error) {
  std::string line;
  if (!next_line(in, line) || line.compare(0, key.size() + 1, key + " ") != 0) {
    error = "expected a '" + key + "' line";
    return false;
  }
  rest = line.substr(key.size() + 1);
  return true;
}

bool read_words(std::istream& in, const std::string& key, std::vector<uint64_t>& words,
                std::string& error) {
  std::string rest, line;
  if (!expect(in, key, rest, error)) return false;
  const unsigned long count = std::strtoul(rest.c_str(), nullptr, 10);
  for (unsigned long i = 0; i < count; ++i) {
    if (!next_line(in, line)) {
      error = "file ends inside the '" + key + "' words";
      return false;
    }
    words.push_back(std::strtoull(line.c_str(), nullptr, 16));
  }
  return true;
}

/// `n=.. dk=.. t=.. seed=.. blocks=..`, optionally followed by ` gain=..` (absent: 0), nothing else.
bool parse_config(const std::string& config, GoldenVector& vec) {
  int used = 0;
  if (std::sscanf(config.c_str(), "n=%u dk=%u t=%u seed=%u blocks=%u%n", &vec.n, &vec.dk, &vec.t,
                  &vec.seed, &vec.blocks, &used) != 5) {
    return false;
  }
  const std::string rest = config.substr(std::size_t(used));
  if (rest.empty()) return true;
  int tail = 0;
  return std::sscanf(rest.c_str(), " gain=%u%n", &vec.gain, &tail) == 1 &&
         std::size_t(tail) == rest.size();
}

bool read_vector(const std::string& path, GoldenVector& vec, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  std::string config, end;
  if (!expect(in, "name", vec.name, error) || !expect(in, "config", config, error)) return false;
  if (!parse_config(config, vec)) {
    error = "malformed config line '" + config + "'";
    return false;
  }
  if (vec.gain > unsigned(ssa::GAIN_LOG2_MAX)) {
    error = "gain=" + std::to_string(vec.gain) + " is outside the contract's 0.." +
            std::to_string(ssa::GAIN_LOG2_MAX);
    return false;
  }
  if (!read_words(in, "in", vec.words_in, error) || !read_words(in, "out", vec.words_out, error))
    return false;
  if (!next_line(in, end) || end != "end") {
    error = "missing 'end' line";
    return false;
  }
  return true;
}

/// Why this build cannot hold the vector, or "" when it can.
std::string does_not_fit(const GoldenVector& vec) {
  std::ostringstream why;
  if (vec.n > unsigned(ssa::N_LIMIT)) why << " needs N_LIMIT >= " << vec.n << ";";
  if (vec.dk > unsigned(ssa::DK_MAX)) why << " needs DK_MAX >= " << vec.dk << ";";
  if (vec.t > unsigned(ssa::T_MAX)) why << " needs T_MAX >= " << vec.t << ";";
  return why.str();
}

Outcome run_vector(const GoldenVector& vec, std::string& why) {
  why = does_not_fit(vec);
  if (!why.empty()) return Outcome::skip;
  ssa::axis_t in("in_stream"), out("out_stream");
  for (std::size_t i = 0; i < vec.words_in.size(); ++i) {
    ssa::beat_t beat;
    beat.data = vec.words_in[i];
    beat.keep = -1;
    beat.strb = -1;
    beat.last = i + 1 == vec.words_in.size() ? 1 : 0;
    in.write(beat);
  }
  ssa::reg_t status = 0xFFFFFFFFu, info = 0, tile = 0;
  ssa_top(in, out, vec.n, vec.dk, vec.t, vec.seed, vec.blocks, &status, &info, &tile, vec.gain);
  std::ostringstream err;
  if (status != 0) err << " status=0x" << std::hex << status.to_uint() << std::dec;
  if (info != ssa::INFO_WORD) err << " info=0x" << std::hex << info.to_uint() << std::dec;
  if (tile != ssa::TILE_WORD) err << " tile=" << tile.to_uint();
  if (!in.empty()) err << " " << in.size() << " input words left unread";
  if (out.size() != vec.words_out.size())
    err << " " << out.size() << " output words, expected " << vec.words_out.size();
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < vec.words_out.size() && !out.empty(); ++i) {
    const ssa::beat_t beat = out.read();
    const bool final_word = i + 1 == vec.words_out.size();
    if (beat.data.to_uint64() != vec.words_out[i]) {
      if (mismatches++ == 0) err << " first mismatch at output word " << i;
    }
    if ((beat.last != 0) != final_word) err << " TLAST wrong on output word " << i;
  }
  if (mismatches) err << " (" << mismatches << " words differ)";
  why = err.str();
  return why.empty() ? Outcome::pass : Outcome::fail;
}

/// blocks = 0: no stream traffic, status 0, info and tile describe this build.
bool probe_ok() {
  ssa::axis_t in("in_stream"), out("out_stream");
  ssa::reg_t status = 0xFFFFFFFFu, info = 0, tile = 0;
  ssa_top(in, out, 1, 1, 1, 0, 0, &status, &info, &tile, 0);
  return status == 0 && info == ssa::INFO_WORD && tile == ssa::TILE_WORD && out.empty();
}

/// gain_log2 = GAIN_LOG2_MAX + 1 on an otherwise valid one-block call: status bit 7 alone, no
/// stream word read (the input stays empty: in g++ C-simulation a read would throw, and nothing is
/// left over for co-simulation) and none written.
bool gain_range_ok() {
  ssa::axis_t in("in_stream"), out("out_stream");
  ssa::reg_t status = 0, info = 0, tile = 0;
  ssa_top(in, out, 1, 1, 1, 0, 1, &status, &info, &tile, ssa::GAIN_LOG2_MAX + 1);
  return status == ssa::STATUS_BAD_GAIN && info == ssa::INFO_WORD && out.empty();
}

std::vector<std::string> vector_paths(int argc, char** argv) {
  std::vector<std::string> paths(argv + 1, argv + argc);
  const char* env = std::getenv("SSA_VECTORS");
  if (paths.empty() && env != nullptr) {
    std::stringstream list(env);
    std::string path;
    while (std::getline(list, path, ':')) {
      if (!path.empty()) paths.push_back(path);
    }
  }
  return paths;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> paths = vector_paths(argc, argv);
  if (paths.empty()) {
    std::fprintf(stderr, "usage: %s VECTOR.txt [...]  (or set SSA_VECTORS=a.txt:b.txt)\n", argv[0]);
    return 2;
  }
  std::printf("build N_TILE=%d N_LIMIT=%d DK_MAX=%d T_MAX=%d BUFFER_BRAM36=%d PINGPONG=%d\n", ssa::N_TILE,
              ssa::N_LIMIT, ssa::DK_MAX, ssa::T_MAX, SSA_BUFFER_BRAM36, int(SSA_PINGPONG));
  int passed = 0, skipped = 0, failed = 0;
  if (probe_ok()) {
    std::printf("PASS probe\n");
  } else {
    std::printf("FAIL probe: blocks=0 must give status 0, this build's info and no output\n");
    ++failed;
  }
  if (gain_range_ok()) {
    std::printf("PASS gain_range\n");
  } else {
    std::printf("FAIL gain_range: gain_log2=%d must give status 0x%x and no stream traffic\n",
                ssa::GAIN_LOG2_MAX + 1, ssa::STATUS_BAD_GAIN);
    ++failed;
  }
  for (const std::string& path : paths) {
    GoldenVector vec;
    std::string why;
    if (!read_vector(path, vec, why)) {
      std::printf("FAIL %s: %s\n", path.c_str(), why.c_str());
      ++failed;
      continue;
    }
    switch (run_vector(vec, why)) {
      case Outcome::pass:
        std::printf("PASS %s\n", vec.name.c_str());
        ++passed;
        break;
      case Outcome::skip:
        std::printf("SKIP %s:%s\n", vec.name.c_str(), why.c_str());
        ++skipped;
        break;
      case Outcome::fail:
        std::printf("FAIL %s:%s\n", vec.name.c_str(), why.c_str());
        ++failed;
        break;
    }
  }
  std::printf("%d passed, %d skipped, %d failed\n", passed, skipped, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
