// The IO benchmarks' small utilities (scratch.hpp): whole-buffer pread/pwrite, and the data
// pattern every IO benchmark writes and checks. Named errno texts, and the space and filesystem
// of a path, are core's (core/filesystem.cpp).
#include "io/scratch.hpp"

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>

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

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline std::uint64_t file_key(std::uint64_t seed, std::uint64_t file_id) {
  return splitmix64(seed ^ file_id * 0x9E3779B97F4A7C15ull);
}

// The word at byte p (a multiple of 8) of the file: a stamp at every sector start, else the
// period's random word.
inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t file_id, std::uint64_t p, std::uint64_t period) {
  if (p % kPatternSector == 0) return file_key(seed, file_id) ^ p;
  return splitmix64(seed ^ file_id * 0x9E3779B97F4A7C15ull ^ (p % period) / 8);
}

// Byte `offset` of the file: byte (offset % 8) of the word at offset - offset % 8,
// little-endian, so that any range, aligned or not, reads the same bytes.
inline unsigned char pattern_byte(std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset,
                                  std::uint64_t period) {
  return static_cast<unsigned char>(pattern_word(seed, file_id, offset - offset % 8, period) >> (8 * (offset % 8)));
}

void check_period(std::uint64_t period) {
  if (period == 0 || period % kPatternSector != 0)
    throw std::invalid_argument("the pattern's period must be a positive multiple of 512 bytes");
}

}  // namespace

void fill_pattern(void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset,
                  std::uint64_t period) {
  check_period(period);
  auto out = static_cast<unsigned char*>(buffer);
  std::size_t i = 0;
  for (; i < bytes && (offset + i) % 8 != 0; ++i) out[i] = pattern_byte(seed, file_id, offset + i, period);
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w = pattern_word(seed, file_id, offset + i, period);
    std::memcpy(out + i, &w, 8);
  }
  for (; i < bytes; ++i) out[i] = pattern_byte(seed, file_id, offset + i, period);
}

void stamp_pattern(void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id, std::uint64_t offset) {
  auto out = static_cast<unsigned char*>(buffer);
  const std::uint64_t key = file_key(seed, file_id);
  for (std::uint64_t i = (kPatternSector - offset % kPatternSector) % kPatternSector; i + 8 <= bytes;
       i += kPatternSector) {
    const std::uint64_t w = key ^ (offset + i);
    std::memcpy(out + i, &w, 8);
  }
}

std::int64_t check_pattern(const void* buffer, std::size_t bytes, std::uint64_t seed, std::uint64_t file_id,
                           std::uint64_t offset, std::uint64_t period) {
  check_period(period);
  auto in = static_cast<const unsigned char*>(buffer);
  std::size_t i = 0;
  for (; i < bytes && (offset + i) % 8 != 0; ++i)
    if (in[i] != pattern_byte(seed, file_id, offset + i, period)) return std::int64_t(i);
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, in + i, 8);
    if (std::uint64_t diff = w ^ pattern_word(seed, file_id, offset + i, period))
      return std::int64_t(i) + __builtin_ctzll(diff) / 8;
  }
  for (; i < bytes; ++i)
    if (in[i] != pattern_byte(seed, file_id, offset + i, period)) return std::int64_t(i);
  return -1;
}

}  // namespace converge::io
