#include "core/huge_pages.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

namespace converge::core {

namespace {
constexpr std::size_t kHuge = std::size_t(2) << 20, kGuard = 4096;

std::string size_text(std::size_t b) {
  return b >= (std::size_t(1) << 20) ? std::to_string(b >> 20) + " MiB" : std::to_string(b >> 10) + " KiB";
}
}  // namespace

std::string thp_mode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(f, line);
  const auto b = line.find('['), e = line.find(']');
  return b != std::string::npos && e > b ? line.substr(b + 1, e - b - 1) : "unknown";
}

std::size_t huge_page_bytes(const void* p, std::size_t bytes) {
  std::ifstream smaps("/proc/self/smaps");
  const auto lo = reinterpret_cast<std::uintptr_t>(p), hi = lo + bytes;
  std::string line;
  bool overlaps = false;
  std::size_t total = 0;
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2 && line.find(':') > line.find(' ')) {
      overlaps = start < hi && lo < end;  // a mapping header: "start-end perms offset ..."
    } else if (overlaps && line.rfind("AnonHugePages:", 0) == 0) {
      total += std::strtoull(line.c_str() + 14, nullptr, 10) * 1024;
    }
  }
  return std::min(total, bytes);
}

std::string huge_page_note(const std::string& advice, std::size_t huge_bytes, std::size_t bytes) {
  return advice + "; " + size_text(huge_bytes) + " of " + size_text(bytes) + " in huge pages; thp=" + thp_mode();
}

std::string huge_page_note(bool advised, std::size_t huge_bytes, std::size_t bytes) {
  const std::string advice = advised ? "madvise(MADV_HUGEPAGE)" : "not advised (below 2 MiB)";
  return huge_page_note(advice, huge_bytes, bytes);
}

void Mapping::Unmap::operator()(unsigned char* p) const { ::munmap(p - kGuard, length); }

Mapping::Mapping(std::size_t bytes, bool huge) : data_(nullptr, Unmap{0}), huge_(huge) {
  bytes_ = (std::max<std::size_t>(bytes, 1) + kHuge - 1) / kHuge * kHuge;
  // Reserve enough to place a 2 MiB-aligned start with a guard page before it, then give back
  // what lies outside [start - guard, start + bytes + guard).
  const std::size_t reserve = bytes_ + kHuge + 2 * kGuard;
  void* r = ::mmap(nullptr, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<std::uintptr_t>(r);
  const std::uintptr_t start = (base + kGuard + kHuge - 1) / kHuge * kHuge;
  const std::uintptr_t lo = start - kGuard, hi = start + bytes_ + kGuard;
  if (lo > base) ::munmap(r, lo - base);
  if (base + reserve > hi) ::munmap(reinterpret_cast<void*>(hi), base + reserve - hi);
  auto* p = reinterpret_cast<unsigned char*>(start);
  data_ = std::unique_ptr<unsigned char, Unmap>(p, Unmap{hi - lo});
  if (::mprotect(p, bytes_, PROT_READ | PROT_WRITE) != 0) throw std::bad_alloc();
  advised_ = ::madvise(p, bytes_, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) == 0;
  std::memset(p, 0, bytes_);  // fault every page in now, outside any timing
}

std::string Mapping::note() const {
  const std::string advice = huge_ ? "madvise(MADV_HUGEPAGE)" : "madvise(MADV_NOHUGEPAGE)";
  return huge_page_note(advised_ ? advice : advice + " refused", huge_page_bytes(data(), bytes_), bytes_);
}

}  // namespace converge::core
