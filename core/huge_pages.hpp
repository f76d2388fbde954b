#pragma once
// Transparent huge pages: the system's mode, how much of a buffer the kernel backs with them
// right now (/proc/self/smaps), the note benchmarks record, and an isolated 2 MiB-aligned
// mapping advised for or against them. micro/cpu's buffers use them against TLB misses; the
// IO bandwidth buffers use them so that a transfer's scatter list (its physical pieces) does
// not depend on what the process allocated before (io/README.md, "Buffers").
#include <cstddef>
#include <memory>
#include <string>

namespace converge::core {

/// The transparent huge page mode ("always", "madvise", "never"), or "unknown".
std::string thp_mode();

/// Bytes of [p, p + bytes) that the kernel backs with transparent huge pages right now: the
/// AnonHugePages of the mappings that overlap the range, at most `bytes`. Tells whether madvise
/// was honoured, not just accepted.
std::size_t huge_page_bytes(const void* p, std::size_t bytes);

/// "madvise(MADV_HUGEPAGE); 256 MiB of 256 MiB in huge pages; thp=madvise".
std::string huge_page_note(bool advised, std::size_t huge_bytes, std::size_t bytes);
/// The same with the advice given: "madvise(MADV_NOHUGEPAGE); 0 KiB of 1 MiB in huge pages; ...".
std::string huge_page_note(const std::string& advice, std::size_t huge_bytes, std::size_t bytes);

/// `bytes` (rounded up to 2 MiB) of zeroed, touched anonymous memory, 2 MiB aligned, in a
/// mapping of its own (PROT_NONE guard pages on both sides keep the kernel from merging it with
/// a neighbour, so huge_page_bytes() counts this buffer alone), with madvise(MADV_HUGEPAGE)
/// when `huge`, else madvise(MADV_NOHUGEPAGE). Throws std::bad_alloc when mmap fails.
class Mapping {
 public:
  Mapping(std::size_t bytes, bool huge);
  unsigned char* data() const { return data_.get(); }
  std::size_t bytes() const { return bytes_; }
  /// "madvise(MADV_HUGEPAGE); 1024 MiB of 1024 MiB in huge pages; thp=madvise", measured now.
  std::string note() const;

 private:
  struct Unmap {
    std::size_t length;
    void operator()(unsigned char* p) const;
  };
  std::unique_ptr<unsigned char, Unmap> data_;
  std::size_t bytes_ = 0;
  bool huge_ = false, advised_ = false;
};

}  // namespace converge::core
