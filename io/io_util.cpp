// The IO benchmarks' small utilities (scratch.hpp): whole-buffer pread/pwrite, and the data
// pattern every IO benchmark writes and checks. Named errno texts, and the space and filesystem
// of a path, are core's (core/filesystem.cpp).
#include "io/scratch.hpp"

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

namespace converge::io {

// ---- data transfer and the pattern -------------------------------------------------------

core::Expected<void> write_all(int fd, const void* data, std::size_t bytes, off_t offset, const std::string& what) {
  auto p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::pwrite(fd, p, bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return core::make_error(io_error(n < 0 ? errno : EIO, what + " at offset " + std::to_string(offset)));
    p += n;
    bytes -= std::size_t(n);
    offset += n;
  }
  return {};
}

core::Expected<void> read_all(int fd, void* data, std::size_t bytes, off_t offset, const std::string& what) {
  auto p = static_cast<char*>(data);
  while (bytes > 0) {
    ssize_t n = ::pread(fd, p, bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::make_error(io_error(errno, what + " at offset " + std::to_string(offset)));
    if (n == 0)
      return core::make_error("short read: end of file at offset " + std::to_string(offset) + ", " +
                              std::to_string(bytes) + " bytes missing: " + what);
    p += n;
    bytes -= std::size_t(n);
    offset += n;
  }
  return {};
}

namespace {

static_assert(std::endian::native == std::endian::little, "the pattern's bytes are laid out little-endian");

inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t file_id, std::uint64_t w) {
  std::uint64_t x = (seed ^ file_id * 0x9E3779B97F4A7C15ull ^ w) + 0x9E3779B97F4A7C15ull;  // splitmix64
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Byte `offset` of the file: byte (offset % 8) of word (offset / 8), little-endian, so that
// any range, aligned or not, reads the same bytes.
inline unsigned char pattern_byte(std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset) {
  return static_cast<unsigned char>(pattern_word(seed, file_id, offset / 8) >> (8 * (offset % 8)));
}

}  // namespace

void fill_pattern(void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset) {
  auto out = static_cast<unsigned char*>(buffer);
  std::size_t i = 0;
  for (; i < bytes && (offset + i) % 8 != 0; ++i) out[i] = pattern_byte(seed, file_id, offset + i);
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w = pattern_word(seed, file_id, (offset + i) / 8);
    std::memcpy(out + i, &w, 8);
  }
  for (; i < bytes; ++i) out[i] = pattern_byte(seed, file_id, offset + i);
}

std::int64_t check_pattern(const void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id,
                           std::uint64_t offset) {
  auto in = static_cast<const unsigned char*>(buffer);
  std::size_t i = 0;
  for (; i < bytes && (offset + i) % 8 != 0; ++i)
    if (in[i] != pattern_byte(seed, file_id, offset + i)) return std::int64_t(i);
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, in + i, 8);
    if (std::uint64_t diff = w ^ pattern_word(seed, file_id, (offset + i) / 8))
      return std::int64_t(i) + __builtin_ctzll(diff) / 8;
  }
  for (; i < bytes; ++i)
    if (in[i] != pattern_byte(seed, file_id, offset + i)) return std::int64_t(i);
  return -1;
}

}  // namespace converge::io
