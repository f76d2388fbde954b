#pragma once
// micro.gpu_transfer.*: the work model of each transfer kind, the seeded source pattern
// (CONVERGE_HD: filled on the host and by a device kernel from the same code) and the check of
// a destination, all host-testable without a device.
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/benchmark.hpp"
#include "core/cuda/host_device.hpp"

namespace converge::micro::cuda {

/// Host to device, device to host, within one device, device to a peer device.
enum class TransferKind { h2d, d2h, d2d, p2p };

constexpr const char* to_string(TransferKind k) {
  switch (k) {
    case TransferKind::h2d: return "h2d";
    case TransferKind::d2h: return "d2h";
    case TransferKind::d2d: return "d2d";
    case TransferKind::p2p: return "p2p";
  }
  return "?";
}

/// Bytes counted for one copy of `size` bytes: size, except d2d, which reads and writes the
/// same device's memory and counts 2 x size (as NVIDIA's bandwidthTest counts D2D), so that it
/// compares with STREAM-style copy figures (read + write) of the same memory.
constexpr double transfer_bytes_counted(TransferKind k, std::uint64_t size) {
  return (k == TransferKind::d2d ? 2.0 : 1.0) * double(size);
}

/// One repetition: one copy of `size` bytes (items = 1 copy).
constexpr core::WorkModel transfer_work(TransferKind k, std::uint64_t size) {
  return {0, transfer_bytes_counted(k, size), 1};
}

/// 64-bit words that hold `size` bytes (the last one partly used when size % 8 != 0).
constexpr std::uint64_t transfer_words(std::uint64_t size) { return (size + 7) / 8; }

/// Word `index` of the source pattern for `seed`: splitmix64's finaliser of
/// seed + (index + 1) x golden ratio. The finaliser is a bijection and the odd multiplier makes
/// the argument distinct for every index below 2^64, so no two words of a buffer are equal and
/// a shifted or repeated block shows.
CONVERGE_HD std::uint64_t transfer_word(std::uint64_t index, std::uint64_t seed) {
  std::uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Writes words first..first+count-1 of the pattern to p[0..count): the source's content, or
/// its complement (every bit flipped: the destination's initial content, so that any byte the
/// copy misses differs).
CONVERGE_HD void transfer_fill(std::uint64_t* p, std::uint64_t first, std::uint64_t count, std::uint64_t seed,
                               bool complement) {
  const std::uint64_t flip = complement ? ~std::uint64_t(0) : 0;
  for (std::uint64_t j = 0; j < count; ++j) p[j] = transfer_word(first + j, seed) ^ flip;
}

/// What a destination word must hold after a copy of `size` bytes: the pattern in the bytes
/// below size, the complement (untouched initial content) in the bytes past it. Bytes of a
/// word are in little-endian order in memory, as on x86-64, Arm and NVIDIA GPUs.
CONVERGE_HD std::uint64_t transfer_expected(std::uint64_t index, std::uint64_t size, std::uint64_t seed) {
  const std::uint64_t w = transfer_word(index, seed);
  const std::uint64_t copied = size > 8 * index ? size - 8 * index : 0;  // bytes of this word below size
  if (copied >= 8) return w;
  const std::uint64_t mask = (std::uint64_t(1) << (8 * copied)) - 1;
  return (w & mask) | (~w & ~mask);
}

/// Mismatches found so far by transfer_check (over chunks).
struct TransferCheck {
  std::uint64_t bad_words = 0;
  std::uint64_t first_offset = 0;  ///< byte offset of the first differing byte
  unsigned got = 0, want = 0;      ///< that byte's value and the expected one
};

/// Compares count words of a destination, starting at word `first` (p[0] is word first), with
/// transfer_expected, adding what differs to acc.
inline void transfer_check(const std::uint64_t* p, std::uint64_t first, std::uint64_t count, std::uint64_t size,
                           std::uint64_t seed, TransferCheck& acc) {
  for (std::uint64_t j = 0; j < count; ++j) {
    const std::uint64_t want = transfer_expected(first + j, size, seed), got = p[j];
    if (got == want) continue;
    if (acc.bad_words++ == 0) {
      const unsigned byte = unsigned(__builtin_ctzll(got ^ want) / 8);
      acc.first_offset = 8 * (first + j) + byte;
      acc.got = unsigned(got >> (8 * byte)) & 0xff;
      acc.want = unsigned(want >> (8 * byte)) & 0xff;
    }
  }
}

/// The verdict once transfer_check has seen every word of the destination (`where` names it).
inline core::Verification transfer_verification(const TransferCheck& acc, std::uint64_t size,
                                                const std::string& where) {
  const std::string method =
      "every byte of the " + where + " exact: the source's seeded pattern (splitmix64 of word index and seed) "
      "below size, its complement (the initial content) in the bytes of the last word past size";
  if (acc.bad_words == 0) return core::Verification::passed(method);
  char bytes[64];
  std::snprintf(bytes, sizeof bytes, " = 0x%02x, expected 0x%02x", acc.got, acc.want);
  const std::string past = acc.first_offset >= size ? " (past the copied size)" : "";
  return core::Verification::failed(method, "byte offset " + std::to_string(acc.first_offset) + past + bytes + " (" +
                                                std::to_string(acc.bad_words) + " of " +
                                                std::to_string(transfer_words(size)) + " words differ)");
}

}  // namespace converge::micro::cuda
