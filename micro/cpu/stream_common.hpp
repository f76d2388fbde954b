#pragma once
// What micro.stream.* and micro.stream_nt.* share: the arrays, their sizing, parallel first
// touch, initial values, the exact check, the spec. The kernels themselves live in stream.cpp
// (compiler-vectorised loops) and stream_nt.cpp (intrinsics with non-temporal stores).
#include <omp.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/inventory.hpp"
#include "micro/cpu/cpu_common.hpp"
#include "micro/cpu/work_models.hpp"

namespace converge::micro {

inline constexpr double kStreamScalar = 3.0;  // STREAM's scalar

/// Values every element of a, b, c holds after any number of repetitions of kernel k.
/// Inputs start as in STREAM (a = 1, b = 2) except c = 1: STREAM's c = 0 would make scale's
/// and triad's multiply vanish from the check (STREAM itself runs copy, c = a, before them).
/// The output array starts at 0, so a kernel that skips stores fails the check.
struct StreamValues {
  double a, b, c;
};
constexpr StreamValues stream_initial(StreamKernel k) {
  switch (k) {
    case StreamKernel::copy: return {1, 2, 0};
    case StreamKernel::scale: return {1, 0, 1};
    case StreamKernel::add: return {1, 2, 0};
    case StreamKernel::triad: return {0, 2, 1};
    case StreamKernel::dot: return {1, 2, 1};
  }
  return {0, 0, 0};
}
/// One application of the kernel to the initial values (it is idempotent on them).
constexpr StreamValues stream_expected(StreamKernel k) {
  StreamValues v = stream_initial(k);
  const double s = kStreamScalar;
  switch (k) {
    case StreamKernel::copy: v.c = v.a; break;
    case StreamKernel::scale: v.b = s * v.c; break;
    case StreamKernel::add: v.c = v.a + v.b; break;
    case StreamKernel::triad: v.a = v.b + s * v.c; break;
    case StreamKernel::dot: break;  // no output array; the sum is 2 n
  }
  return v;
}

/// The three STREAM arrays, placed by parallel first touch with the kernels' partition.
struct StreamArrays {
  Buffer<double> a, b, c;
  std::size_t n = 0;
  int threads = 1;

  void allocate_and_touch(StreamKernel k, std::size_t elements, int nthreads) {
    n = elements, threads = nthreads;
    a = Buffer<double>(n), b = Buffer<double>(n), c = Buffer<double>(n);
    const StreamValues v = stream_initial(k);
#pragma omp parallel num_threads(threads)
    {
      const Range r = static_block(n, omp_get_thread_num(), threads);
      for (std::size_t i = r.begin; i < r.end; ++i) a[i] = v.a, b[i] = v.b, c[i] = v.c;
    }
  }

  /// Every element of every array exact; dot exact too: each partial sum is an integer
  /// below 2^53, so any summation order gives 2n (tolerance 0, not n * eps).
  core::Verification verify(StreamKernel k, double dot) const {
    const StreamValues want = stream_expected(k);
    std::string method = "every element of a, b, c exact (a=" + fmt(want.a) + ", b=" + fmt(want.b) +
                         ", c=" + fmt(want.c) + ")";
    if (k == StreamKernel::dot) method += "; dot == 2n exactly (integer partial sums)";
    const struct { char name; const Buffer<double>& x; double want; } arrays[3] = {
        {'a', a, want.a}, {'b', b, want.b}, {'c', c, want.c}};
    for (const auto& arr : arrays)
      for (std::size_t i = 0; i < n; ++i)
        if (!(arr.x[i] == arr.want))
          return core::Verification::failed(
              method, std::string(1, arr.name) + "[" + std::to_string(i) + "] = " + fmt(arr.x[i]) +
                          ", expected " + fmt(arr.want),
              std::fabs(arr.x[i] - arr.want) / std::max(1.0, std::fabs(arr.want)));
    if (k == StreamKernel::dot && dot != 2.0 * double(n))
      return core::Verification::failed(method, "dot = " + fmt(dot) + ", expected " + fmt(2.0 * double(n)),
                                        std::fabs(dot - 2.0 * double(n)) / (2.0 * double(n)));
    return core::Verification::passed(method);
  }

  std::map<std::string, std::string> notes() const {
    return {{"threads", std::to_string(threads)},
            {"array_bytes", std::to_string(n * sizeof(double))},
            {"huge_pages", huge_page_note(a, b, c)},
            {"first_touch", "parallel, same static partition as the kernels"}};
  }

  static std::string fmt(double x) {  // shortest round-trip form
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
  }
};

/// Resolves `n`: "auto" = STREAM's rule (stream_auto_elements) from the inventory.
inline std::size_t stream_resolve_n(core::ParamValues& params, const core::Context& ctx, int threads) {
  std::uint64_t n;
  if (params.is_auto("n")) {
    const std::uint64_t llc = ctx.inventory ? core::last_level_cache_bytes(*ctx.inventory) : 0;
    const std::uint64_t avail = ctx.inventory ? ctx.inventory->memory.available_bytes : 0;
    n = stream_auto_elements(llc, avail);
  } else {
    n = std::uint64_t(params.integer("n"));
  }
  n = std::max<std::uint64_t>(n, std::uint64_t(threads));
  params.resolve("n", std::to_string(n));
  return n;
}

/// The spec of one STREAM-style kernel (bandwidth in B/s, STREAM's byte counting).
inline core::BenchmarkSpec stream_spec(std::string id, std::string summary,
                                       std::function<std::unique_ptr<core::Benchmark>()> make) {
  return {std::move(id), "micro", "cpu", std::move(summary),
          {{"n", core::ParamType::integer, "auto",
            "elements per array (auto = each array >= 4x the last-level cache, <= 1/2 of free memory for all three)",
            {}, 1.0, std::nullopt},
           threads_param()},
          {{"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better}},
          std::move(make)};
}

}  // namespace converge::micro
