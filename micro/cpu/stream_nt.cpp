// micro.stream_nt.{copy,scale,add,triad}: the STREAM kernels with explicit non-temporal
// stores (vmovntpd), as likwid-bench's stream_mem_* kernels and compilers' streaming-store
// options do. NT stores bypass the cache and skip the write-allocate read of the target line,
// so these move 2/3 (copy, scale) or 3/4 (add, triad) of the bus traffic of micro.stream.* for
// the same STREAM-counted bytes: a separate benchmark, since it measures something else.
// Each thread ends its block with sfence so its stores are globally visible when run() returns.
#include <immintrin.h>
#include <omp.h>

#include "micro/cpu/stream_common.hpp"

namespace converge::micro {
namespace {

// Blocks start on 64-byte lines (static_block), so aligned loads and NT stores are legal;
// the last block's tail (n not a multiple of the vector) uses ordinary stores.
[[gnu::target("avx2,fma")]] void copy_avx2(double* a, double*, double* c, double, std::size_t n) {
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 4 <= n; i += 4) _mm256_stream_pd(c + i, _mm256_load_pd(a + i));
  for (; i < n; ++i) c[i] = a[i];
}
[[gnu::target("avx2,fma")]] void scale_avx2(double*, double* b, double* c, double s, std::size_t n) {
  const __m256d vs = _mm256_set1_pd(s);
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 4 <= n; i += 4) _mm256_stream_pd(b + i, _mm256_mul_pd(vs, _mm256_load_pd(c + i)));
  for (; i < n; ++i) b[i] = s * c[i];
}
[[gnu::target("avx2,fma")]] void add_avx2(double* a, double* b, double* c, double, std::size_t n) {
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 4 <= n; i += 4) _mm256_stream_pd(c + i, _mm256_add_pd(_mm256_load_pd(a + i), _mm256_load_pd(b + i)));
  for (; i < n; ++i) c[i] = a[i] + b[i];
}
[[gnu::target("avx2,fma")]] void triad_avx2(double* a, double* b, double* c, double s, std::size_t n) {
  const __m256d vs = _mm256_set1_pd(s);
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 4 <= n; i += 4)
    _mm256_stream_pd(a + i, _mm256_fmadd_pd(vs, _mm256_load_pd(c + i), _mm256_load_pd(b + i)));
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}

[[gnu::target("avx512f")]] void copy_avx512(double* a, double*, double* c, double, std::size_t n) {
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 8 <= n; i += 8) _mm512_stream_pd(c + i, _mm512_load_pd(a + i));
  for (; i < n; ++i) c[i] = a[i];
}
[[gnu::target("avx512f")]] void scale_avx512(double*, double* b, double* c, double s, std::size_t n) {
  const __m512d vs = _mm512_set1_pd(s);
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 8 <= n; i += 8) _mm512_stream_pd(b + i, _mm512_mul_pd(vs, _mm512_load_pd(c + i)));
  for (; i < n; ++i) b[i] = s * c[i];
}
[[gnu::target("avx512f")]] void add_avx512(double* a, double* b, double* c, double, std::size_t n) {
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 8 <= n; i += 8) _mm512_stream_pd(c + i, _mm512_add_pd(_mm512_load_pd(a + i), _mm512_load_pd(b + i)));
  for (; i < n; ++i) c[i] = a[i] + b[i];
}
[[gnu::target("avx512f")]] void triad_avx512(double* a, double* b, double* c, double s, std::size_t n) {
  const __m512d vs = _mm512_set1_pd(s);
  std::size_t i = 0;
#pragma GCC unroll 4
  for (; i + 8 <= n; i += 8)
    _mm512_stream_pd(a + i, _mm512_fmadd_pd(vs, _mm512_load_pd(c + i), _mm512_load_pd(b + i)));
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}

using KernelFn = void (*)(double* a, double* b, double* c, double s, std::size_t n);

class StreamNt final : public core::Benchmark {
 public:
  explicit StreamNt(StreamKernel k) : k_(k) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    const int i = int(k_);  // copy, scale, add, triad
    if (__builtin_cpu_supports("avx512f")) {
      constexpr KernelFn fns[] = {copy_avx512, scale_avx512, add_avx512, triad_avx512};
      fn_ = fns[i], isa_ = "avx512f (vmovntpd zmm)";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      constexpr KernelFn fns[] = {copy_avx2, scale_avx2, add_avx2, triad_avx2};
      fn_ = fns[i], isa_ = "avx2+fma (vmovntpd ymm)";
    } else {
      return core::SetupStatus::skip("CPU lacks AVX2+FMA");
    }
    const int threads = resolve_threads(params, ctx);
    arrays_.allocate_and_touch(k_, stream_resolve_n(params, ctx, threads), threads);
    return core::SetupStatus::ok();
  }

  void run() override {
#pragma omp parallel num_threads(arrays_.threads)
    {
      const Range r = static_block(arrays_.n, omp_get_thread_num(), arrays_.threads);
      fn_(arrays_.a.data() + r.begin, arrays_.b.data() + r.begin, arrays_.c.data() + r.begin,
          kStreamScalar, r.size());
      _mm_sfence();  // NT stores are weakly ordered: drain them before the timer stops
    }
  }

  core::Verification verify() override { return arrays_.verify(k_, 0); }
  core::WorkModel work() const override { return stream_work(k_, arrays_.n); }

  std::map<std::string, std::string> notes() const override {
    auto notes = arrays_.notes();
    notes["isa"] = isa_;
    notes["kernel"] = "intrinsics, 4x unrolled, non-temporal stores + sfence per thread";
    notes["stores"] = "non-temporal (no write-allocate; bytes counted as STREAM counts them)";
    return notes;
  }

 private:
  StreamKernel k_;
  KernelFn fn_ = nullptr;
  std::string isa_;
  StreamArrays arrays_;
};

core::BenchmarkSpec spec(StreamKernel k) {
  const std::string name(to_string(k));
  return stream_spec("micro.stream_nt." + name,
                     "STREAM " + name + " with non-temporal stores (likwid stream_mem-like), double, OpenMP",
                     [k] { return std::make_unique<StreamNt>(k); });
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(stream_nt_copy, spec(StreamKernel::copy));
CONVERGE_REGISTER_BENCHMARK(stream_nt_scale, spec(StreamKernel::scale));
CONVERGE_REGISTER_BENCHMARK(stream_nt_add, spec(StreamKernel::add));
CONVERGE_REGISTER_BENCHMARK(stream_nt_triad, spec(StreamKernel::triad));

}  // namespace converge::micro
