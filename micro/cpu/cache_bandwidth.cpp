// micro.cachebw.{read,write}: bandwidth of the level of the memory hierarchy a working set
// fits in (likwid-bench load_avx / store_avx style). Each thread streams its own buffer of
// `size` bytes, first touched by itself, `passes` times per repetition; sweeping size from
// 16 KiB to 256 MiB walks through L1, L2, L3 and DRAM.
#include <immintrin.h>
#include <omp.h>

#include <vector>

#include "micro/cpu/cpu_common.hpp"
#include "micro/cpu/work_models.hpp"

namespace converge::micro {
namespace {

// Both kernels process 8 vectors per step, so sizes are whole multiples of 8 zmm = 512 B.
// Eight independent accumulators cover add latency (3-4 cycles) x 2 loads per cycle. The
// empty asm between passes is a compiler barrier (no instruction): it keeps a pass's stores
// from being removed as dead because the next pass overwrites them.
constexpr std::size_t kStepBytes = 512;
inline void pass_barrier() { asm volatile("" ::: "memory"); }

[[gnu::target("avx2")]] double read_avx2(const double* p, std::size_t n, std::uint64_t passes) {
  __m256d acc[8] = {};
  for (std::uint64_t pass = 0; pass < passes; ++pass) {
    for (std::size_t i = 0; i < n; i += 32) {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) acc[k] = _mm256_add_pd(acc[k], _mm256_load_pd(p + i + 4 * k));
    }
    pass_barrier();
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}
[[gnu::target("avx512f")]] double read_avx512(const double* p, std::size_t n, std::uint64_t passes) {
  __m512d acc[8] = {};
  for (std::uint64_t pass = 0; pass < passes; ++pass) {
    for (std::size_t i = 0; i < n; i += 64) {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) acc[k] = _mm512_add_pd(acc[k], _mm512_load_pd(p + i + 8 * k));
    }
    pass_barrier();
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}
// Writes value first + pass in pass `pass`, so the buffer ends holding first + passes - 1.
[[gnu::target("avx2")]] void write_avx2(double* p, std::size_t n, std::uint64_t passes, double first) {
  for (std::uint64_t pass = 0; pass < passes; ++pass) {
    const __m256d v = _mm256_set1_pd(first + double(pass));
    for (std::size_t i = 0; i < n; i += 32) {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) _mm256_store_pd(p + i + 4 * k, v);
    }
    pass_barrier();
  }
}
[[gnu::target("avx512f")]] void write_avx512(double* p, std::size_t n, std::uint64_t passes, double first) {
  for (std::uint64_t pass = 0; pass < passes; ++pass) {
    const __m512d v = _mm512_set1_pd(first + double(pass));
    for (std::size_t i = 0; i < n; i += 64) {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) _mm512_store_pd(p + i + 8 * k, v);
    }
    pass_barrier();
  }
}

class CacheBandwidth final : public core::Benchmark {
 public:
  explicit CacheBandwidth(bool writes) : writes_(writes) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    const bool avx512 = __builtin_cpu_supports("avx512f");
    if (!avx512 && !__builtin_cpu_supports("avx2")) return core::SetupStatus::skip("CPU lacks AVX2");
    isa_ = avx512 ? "avx512f (zmm)" : "avx2 (ymm)";
    read_fn_ = avx512 ? read_avx512 : read_avx2;
    write_fn_ = avx512 ? write_avx512 : write_avx2;
    threads_ = resolve_threads(params, ctx);
    const std::size_t bytes = (params.size("size") + kStepBytes - 1) / kStepBytes * kStepBytes;
    params.resolve("size", std::to_string(bytes));
    n_ = bytes / sizeof(double);
    passes_ = params.is_auto("passes") ? cachebw_auto_passes(bytes) : std::uint64_t(params.integer("passes"));
    params.resolve("passes", std::to_string(passes_));
    bufs_.resize(threads_);
    sums_.assign(std::size_t(threads_) * 8, 0.0);
#pragma omp parallel num_threads(threads_)
    {  // each thread allocates and first-touches its own buffer: local NUMA node, own pages
      Buffer<double> buf(n_);
      for (std::size_t i = 0; i < n_; ++i) buf[i] = double(i % 7 + 1);  // small integers: exact sums
      bufs_[omp_get_thread_num()] = std::move(buf);
    }
    return core::SetupStatus::ok();
  }

  void run() override {
    const double first = next_value_;
#pragma omp parallel num_threads(threads_)
    {
      const int t = omp_get_thread_num();
      if (writes_) write_fn_(bufs_[t].data(), n_, passes_, first);
      else sums_[std::size_t(t) * 8] = read_fn_(bufs_[t].data(), n_, passes_);
    }
    next_value_ += double(passes_);
  }

  core::Verification verify() override {
    const std::string method = writes_ ? "every element of every thread's buffer == the last pass's value"
                                       : "each thread's sum == passes x the buffer's sum, exact (integers < 2^53)";
    const double want = writes_ ? next_value_ - 1 : expected_pass_sum() * double(passes_);
    const auto where = [&](int t, std::string what, double got) {
      return core::Verification::failed(method, "thread " + std::to_string(t) + " " + what + " = " +
                                                    std::to_string(got) + ", expected " + std::to_string(want));
    };
    for (int t = 0; t < threads_; ++t) {
      if (!writes_ && sums_[std::size_t(t) * 8] != want) return where(t, "sum", sums_[std::size_t(t) * 8]);
      for (std::size_t i = 0; writes_ && i < n_; ++i)
        if (bufs_[t][i] != want) return where(t, "element " + std::to_string(i), bufs_[t][i]);
    }
    return core::Verification::passed(method);
  }

  core::WorkModel work() const override { return cachebw_work(n_ * sizeof(double), threads_, passes_); }

  std::map<std::string, std::string> notes() const override {
    return {{"isa", isa_},
            {"threads", std::to_string(threads_)},
            {"kernel", writes_ ? "aligned vector stores, 8 per step (write-allocate traffic not counted)"
                              : "aligned vector loads into 8 independent add chains"},
            {"buffer", "one per thread, first touched by its thread"},
            {"huge_pages", huge_pages()}};
  }

 private:
  std::string huge_pages() const {  // over all threads' buffers
    bool advised = true;
    std::size_t huge = 0, bytes = 0;
    for (const auto& b : bufs_)
      advised = advised && b.huge_pages_advised(), huge += huge_page_bytes(b.data(), b.bytes()), bytes += b.bytes();
    return huge_page_note(advised, huge, bytes);
  }

  double expected_pass_sum() const {  // sum of (i % 7 + 1) over i < n
    const double full = double(n_ / 7) * 28;
    const std::size_t rest = n_ % 7;
    return full + double(rest * (rest + 1) / 2);
  }

  bool writes_;
  std::string isa_;
  double (*read_fn_)(const double*, std::size_t, std::uint64_t) = nullptr;
  void (*write_fn_)(double*, std::size_t, std::uint64_t, double) = nullptr;
  int threads_ = 1;
  std::size_t n_ = 0;
  std::uint64_t passes_ = 1;
  std::vector<Buffer<double>> bufs_;
  std::vector<double> sums_;  // one cache line per thread
  double next_value_ = 1;
};

core::BenchmarkSpec spec(bool write) {
  const std::string name = write ? "write" : "read";
  return {"micro.cachebw." + name, "micro", "cpu",
          "per-thread " + name + " bandwidth of a working set (sweep size for L1, L2, L3, DRAM)",
          {{"size", core::ParamType::size, "16KiB", "working set per thread in bytes (rounded up to 512 B)", {},
            512.0, std::nullopt},
           {"passes", core::ParamType::integer, "auto", "passes over the buffer per repetition (auto: >= 32 MiB per thread)",
            {}, 1.0, std::nullopt},
           threads_param()},
          {{"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better}},
          [write] { return std::make_unique<CacheBandwidth>(write); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(cachebw_read, spec(false));
CONVERGE_REGISTER_BENCHMARK(cachebw_write, spec(true));

}  // namespace converge::micro
