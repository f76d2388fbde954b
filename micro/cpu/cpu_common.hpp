#pragma once
// Helpers shared by the CPU microbenchmarks: the threads parameter, the static partition
// used for first touch and compute alike, aligned buffers with transparent huge pages, the
// ISA that run-time dispatch picks, and peaks scaled to the threads a benchmark used.
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/benchmark.hpp"
#include "core/huge_pages.hpp"
#include "core/inventory.hpp"
#include "core/params.hpp"
#include "core/peak.hpp"

namespace converge::micro {

/// The `threads` parameter every multi-threaded CPU benchmark declares.
inline core::ParamSpec threads_param() {
  return {"threads", core::ParamType::integer, "auto",
          "OpenMP threads (auto = the worker's threads, one per core; 1 = single-core variant)",
          {}, 1.0, std::nullopt};
}

/// Resolves `threads` ("auto" = ctx.threads) and records the value that will run.
inline int resolve_threads(core::ParamValues& params, const core::Context& ctx) {
  int t = params.is_auto("threads") ? ctx.threads : int(params.integer("threads"));
  t = std::max(t, 1);
  params.resolve("threads", std::to_string(t));
  return t;
}

/// A half-open range of element indices.
struct Range {
  std::size_t begin = 0, end = 0;
  std::size_t size() const { return end - begin; }
};

/// The block of [0, n) that thread `tid` of `nthreads` owns: contiguous, sizes equal to within
/// `align` elements, every non-empty block starting at a multiple of `align` (8 doubles = one
/// cache line, so no two threads write the same line). First touch and the kernels both use
/// it, so each page is placed on the NUMA node of the thread that later streams it: the
/// guarantee STREAM gets from two identical `schedule(static)` loops, here by construction.
inline Range static_block(std::size_t n, int tid, int nthreads, std::size_t align = 8) {
  const std::size_t units = (n + align - 1) / align;  // the last one may be partial
  const std::size_t nt = std::size_t(nthreads), t = std::size_t(tid);
  const std::size_t q = units / nt, big = nt - units % nt;  // threads >= big get q + 1 units,
  const std::size_t b = (t * q + (t > big ? t - big : 0)) * align;  // so the partial unit
  const std::size_t e = b + (q + (t >= big ? 1 : 0)) * align;      // lands in a big block
  return {std::min(b, n), std::min(e, n)};
}

/// Uninitialised memory for `count` elements of T: 64-byte aligned, and from 2 MiB up 2 MiB
/// aligned with madvise(MADV_HUGEPAGE), so that transparent huge pages in "madvise" mode back
/// it and TLB misses stay out of bandwidth figures. Nothing is touched here: the benchmark's
/// first touch decides where the pages land.
template <typename T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t count) : count_(count) {
    constexpr std::size_t huge = std::size_t(2) << 20;
    const std::size_t bytes = std::max<std::size_t>(count * sizeof(T), 64);
    const std::size_t align = bytes >= huge ? huge : 64;
    const std::size_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc's rule
    void* p = std::aligned_alloc(align, rounded);
    if (p == nullptr) throw std::bad_alloc();
    ptr_.reset(static_cast<T*>(p));
    huge_ = align == huge && madvise(p, rounded, MADV_HUGEPAGE) == 0;
  }
  T* data() const { return ptr_.get(); }
  T& operator[](std::size_t i) const { return ptr_.get()[i]; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }
  /// True when madvise(MADV_HUGEPAGE) was applied and accepted (the kernel may still fall
  /// back to 4 KiB pages when it cannot find free 2 MiB pages).
  bool huge_pages_advised() const { return huge_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> ptr_;
  std::size_t count_ = 0;
  bool huge_ = false;
};

using core::huge_page_bytes;
using core::huge_page_note;
/// The note for a benchmark's buffers together.
template <typename... T>
std::string huge_page_note(const Buffer<T>&... bufs) {
  return huge_page_note((bufs.huge_pages_advised() && ...), (huge_page_bytes(bufs.data(), bufs.bytes()) + ...),
                        (bufs.bytes() + ...));
}

/// The clone GCC's target_clones("avx512f", "avx2", "default") dispatch picks on this CPU.
inline std::string clone_isa() {
  if (__builtin_cpu_supports("avx512f")) return "avx512f";
  if (__builtin_cpu_supports("avx2")) return "avx2";
  return "x86-64 baseline (sse2)";
}

/// The one-core peak `<id>.core` scaled to the cores `threads` occupy (a benchmark's ceiling
/// is the cores it used, not the machine's; more threads than cores add no FMA pipes), or
/// nothing when the peak model lacks it.
inline std::optional<core::Peak> peak_for_threads(const core::Context& ctx, const std::string& id,
                                                  int threads) {
  if (ctx.peaks == nullptr) return std::nullopt;
  auto p = ctx.peaks->get(id + ".core");
  if (!p) return std::nullopt;
  const int cores = ctx.inventory && ctx.inventory->cpu.cores > 0 ? std::min(threads, ctx.inventory->cpu.cores)
                                                                  : threads;
  p->value *= cores;
  p->assumptions = "(" + p->assumptions + ") x " + std::to_string(cores) + " cores used";
  return p;
}

}  // namespace converge::micro
