// micro.stream.{copy,scale,add,triad,dot}: McCalpin's STREAM kernels on double arrays, one
// kernel per benchmark. Plain loops the compiler vectorises, cloned per ISA and dispatched at
// run time (target_clones); stores are ordinary (write-allocate happens, STREAM does not count
// it). CMake builds this file with -fno-tree-loop-distribute-patterns so copy stays a loop and
// never becomes memcpy (whose non-temporal path would measure something else).
#include <omp.h>

#include "micro/cpu/stream_common.hpp"

namespace converge::micro {
namespace {

// One thread's block each (blocks start on cache lines: static_block).
#define CONVERGE_STREAM_CLONES gnu::target_clones("avx512f", "avx2", "default")
using Ptr = double* __restrict;
using CPtr = const double* __restrict;

[[CONVERGE_STREAM_CLONES]] void copy_block(CPtr a, Ptr c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) c[i] = a[i];
}
[[CONVERGE_STREAM_CLONES]] void scale_block(Ptr b, CPtr c, double s, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) b[i] = s * c[i];
}
[[CONVERGE_STREAM_CLONES]] void add_block(CPtr a, CPtr b, Ptr c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
}
[[CONVERGE_STREAM_CLONES]] void triad_block(Ptr a, CPtr b, CPtr c, double s, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}
// `omp simd reduction` allows the reassociation a vectorised sum needs (no -ffast-math).
[[CONVERGE_STREAM_CLONES]] double dot_block(CPtr a, CPtr b, std::size_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}
#undef CONVERGE_STREAM_CLONES

class Stream final : public core::Benchmark {
 public:
  explicit Stream(StreamKernel k) : k_(k) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    const int threads = resolve_threads(params, ctx);
    arrays_.allocate_and_touch(k_, stream_resolve_n(params, ctx, threads), threads);
    partial_.assign(std::size_t(threads) * 8, 0.0);  // one cache line per thread
    return core::SetupStatus::ok();
  }

  void run() override {
    double* a = arrays_.a.data();
    double* b = arrays_.b.data();
    double* c = arrays_.c.data();
    const double s = kStreamScalar;
#pragma omp parallel num_threads(arrays_.threads)
    {
      const int t = omp_get_thread_num();
      const Range r = static_block(arrays_.n, t, arrays_.threads);
      const std::size_t i = r.begin, m = r.size();
      switch (k_) {
        case StreamKernel::copy: copy_block(a + i, c + i, m); break;
        case StreamKernel::scale: scale_block(b + i, c + i, s, m); break;
        case StreamKernel::add: add_block(a + i, b + i, c + i, m); break;
        case StreamKernel::triad: triad_block(a + i, b + i, c + i, s, m); break;
        case StreamKernel::dot: partial_[std::size_t(t) * 8] = dot_block(a + i, b + i, m); break;
      }
    }
    if (k_ == StreamKernel::dot) {  // fixed order: the same sum every repetition
      dot_ = 0;
      for (std::size_t t = 0; t < partial_.size(); t += 8) dot_ += partial_[t];
    }
  }

  core::Verification verify() override { return arrays_.verify(k_, dot_); }
  core::WorkModel work() const override { return stream_work(k_, arrays_.n); }

  std::map<std::string, std::string> notes() const override {
    auto notes = arrays_.notes();
    notes["isa"] = clone_isa() + " (target_clones)";
    notes["kernel"] = k_ == StreamKernel::copy ? "loop (memcpy substitution disabled)" : "loop";
    notes["stores"] = "regular (write-allocate traffic not counted)";
    return notes;
  }

 private:
  StreamKernel k_;
  StreamArrays arrays_;
  std::vector<double> partial_;
  double dot_ = 0;
};

core::BenchmarkSpec spec(StreamKernel k) {
  const std::string name(to_string(k));
  return stream_spec("micro.stream." + name, "STREAM " + name + " (McCalpin), double, OpenMP static blocks",
                     [k] { return std::make_unique<Stream>(k); });
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(stream_copy, spec(StreamKernel::copy));
CONVERGE_REGISTER_BENCHMARK(stream_scale, spec(StreamKernel::scale));
CONVERGE_REGISTER_BENCHMARK(stream_add, spec(StreamKernel::add));
CONVERGE_REGISTER_BENCHMARK(stream_triad, spec(StreamKernel::triad));
CONVERGE_REGISTER_BENCHMARK(stream_dot, spec(StreamKernel::dot));

}  // namespace converge::micro
