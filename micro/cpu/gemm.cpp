// micro.gemm.{dgemm,sgemm}: the linked BLAS's GEMM, C = A * B on square row-major matrices,
// the usual way to see how close real code gets to the FMA peak (cf. micro.peakflops.*).
#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/blas/blas_info.hpp"
#include "micro/cpu/cpu_common.hpp"
#include "micro/cpu/work_models.hpp"

namespace converge::micro {
namespace {

// The CPU worker links BLAS through this file, so this is where its inventory probe lives.
[[maybe_unused]] const bool blas_probe_registered = core::register_inventory_probe(&core::blas::fill_inventory);

constexpr int kSamples = 64;

/// Sets OpenBLAS's thread count so that its threads can run on the cores the benchmark's
/// OpenMP threads own. OpenBLAS (pthreads build) starts worker threads from the calling thread
/// and they inherit its CPU mask; the worker binds the OpenMP master to one core
/// (OMP_PROC_BIND), so without this every BLAS thread would share that one core. The caller
/// widens its mask to the union of the OpenMP threads' masks while the threads start.
/// Returns that union as a CPU list for notes().
std::string set_blas_threads(int threads) {
  cpu_set_t mine, cores;
  CPU_ZERO(&cores);
  pthread_getaffinity_np(pthread_self(), sizeof mine, &mine);
#pragma omp parallel num_threads(threads)
  {
    cpu_set_t m;
    if (pthread_getaffinity_np(pthread_self(), sizeof m, &m) == 0) {
#pragma omp critical
      CPU_OR(&cores, &cores, &m);
    }
  }
  const bool widened = CPU_COUNT(&cores) > 0 && pthread_setaffinity_np(pthread_self(), sizeof cores, &cores) == 0;
  openblas_set_num_threads(threads);
  if (widened) pthread_setaffinity_np(pthread_self(), sizeof mine, &mine);
  std::string list;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &cores)) list.append(list.empty() ? "" : ",").append(std::to_string(c));
  return list;
}

template <typename T>
class Gemm final : public core::Benchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    threads_ = resolve_threads(params, ctx);
    n_ = std::size_t(params.integer("n"));
    seed_ = std::uint64_t(params.integer("seed"));
    a_ = Buffer<T>(n_ * n_), b_ = Buffer<T>(n_ * n_), c_ = Buffer<T>(n_ * n_);
    // Row r of A and B comes from its own engine, so the matrices depend on the seed only,
    // not on the thread count, and first touch is parallel.
#pragma omp parallel for schedule(static) num_threads(threads_)
    for (std::size_t r = 0; r < n_; ++r) {
      std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + r);
      std::uniform_real_distribution<T> u(T(-1), T(1));
      for (std::size_t k = 0; k < n_; ++k) a_[r * n_ + k] = u(rng);
      for (std::size_t k = 0; k < n_; ++k) b_[r * n_ + k] = u(rng);
      for (std::size_t k = 0; k < n_; ++k) c_[r * n_ + k] = T(0);
    }
    blas_cpus_ = set_blas_threads(threads_);
    return core::SetupStatus::ok();
  }

  void run() override {
    const int n = int(n_);
    if constexpr (std::is_same_v<T, double>)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a_.data(), n, b_.data(), n, 0.0,
                  c_.data(), n);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a_.data(), n, b_.data(), n, 0.0f,
                  c_.data(), n);
  }

  /// 64 seeded (i, j) against a long double dot product. Bound: the classic forward error of
  /// a dot product, |c - ref| <= gamma_n sum|a_ik||b_kj| with gamma_n ~ n u; 2 n u allows for
  /// blocked summation orders. Reported error is relative to sum|a_ik||b_kj|.
  core::Verification verify() override {
    const double u = std::numeric_limits<T>::epsilon() / 2;  // unit roundoff
    const double tol = 2.0 * double(n_) * u;
    const std::string method = std::to_string(kSamples) + " sampled entries vs long double dot; |c - ref| <= 2 n u " +
                               "sum|a_ik b_kj| (u = " + (sizeof(T) == 8 ? "2^-53" : "2^-24") + ")";
    std::mt19937_64 rng(seed_ + 1);
    std::uniform_int_distribution<std::size_t> pick(0, n_ - 1);
    double max_err = 0;
    for (int s = 0; s < kSamples; ++s) {
      const std::size_t i = pick(rng), j = pick(rng);
      long double ref = 0, scale = 0;
      for (std::size_t k = 0; k < n_; ++k) {
        ref += (long double)a_[i * n_ + k] * b_[k * n_ + j];
        scale += std::fabs((long double)a_[i * n_ + k] * b_[k * n_ + j]);
      }
      const double got = double(c_[i * n_ + j]);
      const double err = double(std::fabs(got - ref) / (scale > 0 ? scale : 1));
      max_err = std::max(max_err, std::isnan(got) ? INFINITY : err);
      if (!(err <= tol)) {
        return core::Verification::failed(method, "C[" + std::to_string(i) + "][" + std::to_string(j) + "] = " +
                                                      std::to_string(got) + ", reference " +
                                                      std::to_string(double(ref)), max_err, tol);
      }
    }
    return core::Verification::passed(method, max_err, tol);
  }

  core::WorkModel work() const override { return gemm_work(n_, sizeof(T)); }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    return peak_for_threads(ctx, sizeof(T) == 8 ? "cpu.fp64" : "cpu.fp32", threads_);
  }

  std::map<std::string, std::string> notes() const override {
    const core::BlasInventory blas = core::blas::blas_inventory();
    return {{"blas", blas.library + " " + blas.version},
            {"blas_corename", blas.corename},
            {"threads", std::to_string(threads_) + " (openblas_set_num_threads, on CPUs " + blas_cpus_ + ")"},
            {"layout", "row-major, no transpose, alpha = 1, beta = 0"},
            {"matrix_bytes", std::to_string(n_ * n_ * sizeof(T))}};
  }

 private:
  int threads_ = 1;
  std::size_t n_ = 0;
  std::uint64_t seed_ = 0;
  std::string blas_cpus_;
  Buffer<T> a_, b_, c_;
};

template <typename T>
core::BenchmarkSpec spec(const std::string& name) {
  return {"micro.gemm." + name, "micro", "cpu",
          std::string(sizeof(T) == 8 ? "double" : "single") + " precision GEMM through the linked CBLAS, square n",
          {{"n", core::ParamType::integer, "4096", "matrix order (A, B, C are n x n)", {}, 1.0, std::nullopt},
           threads_param(),
           {"seed", core::ParamType::integer, "42", "seed of the uniform [-1, 1] inputs", {}, 0.0, std::nullopt}},
          {{"flop_rate", "FLOP/s", core::MetricKind::rate, core::Quantity::flops, core::Direction::higher_is_better}},
          [] { return std::make_unique<Gemm<T>>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(gemm_dgemm, spec<double>("dgemm"));
CONVERGE_REGISTER_BENCHMARK(gemm_sgemm, spec<float>("sgemm"));

}  // namespace converge::micro
