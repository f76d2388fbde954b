// A tiny driver of the IO safety layer for tests/io/faults.sh (tmpfs tiers: full, read-only,
// interrupted, with a planted link). Errors go to stderr as the Scratch words them; exit 0
// when the scenario went as asked, 1 on an error, 2 on bad usage.
//   scratch_tool write TIER BYTES_NEEDED BYTES [loop]   one file f.0, 1 MiB writes; "loop"
//                                                        rewrites it until a signal arrives
//   scratch_tool symlink TIER TARGET                     plants f.0 -> TARGET in the scratch
//                                                        directory, then tries to create and
//                                                        open f.0 (both must be refused)
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/scratch.hpp"

namespace io = converge::io;

namespace {

std::uint64_t parse_size(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  std::string unit = end ? end : "";
  double m = unit == "K" ? 1024.0 : unit == "M" ? 1048576.0 : unit == "G" ? 1073741824.0 : 1.0;
  return std::uint64_t(v * m);
}

int write_scenario(const std::string& tier, std::uint64_t needed, std::uint64_t bytes, bool loop) {
  auto s = io::Scratch::create(tier, needed);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().c_str());
    return 1;
  }
  auto fd = (*s)->create_file("f.0", O_WRONLY);
  if (!fd) {
    std::fprintf(stderr, "%s\n", fd.error().c_str());
    return 1;
  }
  std::vector<char> block(1 << 20);
  io::fill_pattern(block.data(), block.size(), 1, 0, 0);
  std::printf("writing %s/f.0\n", (*s)->path().c_str());
  std::fflush(stdout);
  do {
    for (std::uint64_t off = 0; off < bytes; off += block.size()) {
      auto n = std::size_t(std::min<std::uint64_t>(block.size(), bytes - off));
      auto w = io::write_all(*fd, block.data(), n, off_t(off), "writing " + (*s)->path() + "/f.0");
      if (!w) {
        std::fprintf(stderr, "%s\n", w.error().c_str());
        ::close(*fd);
        return 1;  // the Scratch goes with `s`
      }
    }
    if (::fsync(*fd) != 0) {
      std::fprintf(stderr, "%s\n", io::io_error(errno, "fsync " + (*s)->path() + "/f.0").c_str());
      ::close(*fd);
      return 1;
    }
  } while (loop);
  ::close(*fd);
  return 0;
}

int symlink_scenario(const std::string& tier, const std::string& target) {
  auto s = io::Scratch::create(tier, 1 << 20);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().c_str());
    return 1;
  }
  // Someone else's link, under the very name the benchmark is about to use.
  if (::symlinkat(target.c_str(), (*s)->dirfd(), "f.0") != 0) {
    std::perror("symlinkat");
    return 1;
  }
  auto created = (*s)->create_file("f.0", O_WRONLY | O_TRUNC);
  auto opened = (*s)->open_file("f.0", O_WRONLY | O_TRUNC);
  for (auto* r : {&created, &opened}) {
    if (*r) {
      std::fprintf(stderr, "the planted link was opened\n");
      ::close(**r);
      return 1;
    }
    std::printf("%s\n", r->error().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "write" && (argc == 5 || argc == 6))
    return write_scenario(argv[2], parse_size(argv[3]), parse_size(argv[4]), argc == 6);
  if (mode == "symlink" && argc == 4) return symlink_scenario(argv[2], argv[3]);
  std::fprintf(stderr, "usage: %s write TIER BYTES_NEEDED BYTES [loop] | symlink TIER TARGET\n", argv[0]);
  return 2;
}
