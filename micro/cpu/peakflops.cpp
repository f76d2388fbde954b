// micro.peakflops.{fp64,fp32,fp16,bf16}: FMA throughput per precision, all operands in
// registers (fma_kernels.hpp), every thread running independent chains. The widest vector ISA
// the CPU has is chosen at run time; fp16 and bf16 need AVX-512 extensions and skip without.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include "micro/cpu/cpu_common.hpp"
#include "micro/cpu/fma_kernels.hpp"
#include "micro/cpu/work_models.hpp"

namespace converge::micro {
namespace {

using fma::Precision;
constexpr const char* kNames[] = {"fp64", "fp32", "fp16", "bf16"};
const char* name(Precision p) { return kNames[int(p)]; }

// Operands of acc = acc * b + c: b = 15/16 and c = (1 + lane/64) / 16, so every lane
// contracts to its own fixed point 1 + lane/64 (finite, normal, exact in half precision).
double op_b(int) { return 15.0 / 16; }
double op_c(int lane) { return (1.0 + lane / 64.0) / 16; }
// Initial value of accumulator lane j (flat index over threads): in [0.5, 1), a multiple of 2^-10.
double initial(std::size_t j) { return 0.5 + double(j % 512) / 1024; }
// bf16 operands per lane: x = (2, 1/2); up = (u, v); down = (-2u, 4u - v). up and down cancel
// (2u + v/2 - 4u + 2u - v/2 = 0) but neither half alone does, so a dropped product shows.
// Every value has <= 8 significant bits (exact in bf16) and every sum is exact in fp32.
double bf16_u(int lane) { return (16.0 + lane) / 128; }
constexpr double bf16_v = 1.0 / 32;
float bf16_p(int lane) { return float(2 * bf16_u(lane) + 0.5 * bf16_v); }
std::uint16_t to_bf16(float f) {  // truncation is exact for values with <= 8 significant bits
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return std::uint16_t(u >> 16);
}

class PeakFlops final : public core::Benchmark {
 public:
  explicit PeakFlops(Precision p) : prec_(p) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    std::string why_not;
    k_ = fma::select_kernel(prec_, why_not);
    if (k_.fn == nullptr) return core::SetupStatus::skip(why_not);
    threads_ = resolve_threads(params, ctx);
    per_thread_ = std::size_t(k_.accs) * k_.lanes * k_.elem_bytes;  // a multiple of 64 B
    in_ = Buffer<char>(per_thread_ * threads_), out_ = Buffer<char>(per_thread_ * threads_);
    std::memset(out_.data(), 0, out_.bytes());  // 0 is no lane's result: an unwritten lane fails
    ops_ = Buffer<char>(3 * 64);  // b, c (bf16: x, up, down), one vector each
    const int L = k_.lanes;
    for (std::size_t j = 0; j < per_thread_ * threads_ / k_.elem_bytes; ++j) {
      switch (prec_) {
        case Precision::fp64: put<double>(in_, j, initial(j)); break;
        case Precision::fp16: put<_Float16>(in_, j, initial(j)); break;
        default: put<float>(in_, j, initial(j));
      }
    }
    for (int l = 0; l < L; ++l) {
      switch (prec_) {
        case Precision::fp64: put<double>(ops_, l, op_b(l)), put<double>(ops_, L + l, op_c(l)); break;
        case Precision::fp32: put<float>(ops_, l, op_b(l)), put<float>(ops_, L + l, op_c(l)); break;
        case Precision::fp16: put<_Float16>(ops_, l, op_b(l)), put<_Float16>(ops_, L + l, op_c(l)); break;
        case Precision::bf16:
          const float u = float(bf16_u(l)), v = float(bf16_v);
          const float pairs[6] = {2.0f, 0.5f, u, v, -2 * u, 4 * u - v};  // x, up, down
          for (int h = 0; h < 6; ++h) put<std::uint16_t>(ops_, 32 * (h / 2) + 2 * l + h % 2, to_bf16(pairs[h]));
      }
    }
    iterations_ = params.is_auto("iterations") ? auto_iterations(ctx, 0.02) : params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    return core::SetupStatus::ok();
  }

  void run() override { run_with(iterations_); }

  core::Verification verify() override {
    const std::string lanes = "every lane of every accumulator of every thread == ";
    const std::string recurrence_of = "the scalar recurrence acc = acc * b + c ";
    const auto recur = [this](std::size_t j, auto x) { return recurrence(j, x); };
    switch (prec_) {
      case Precision::fp64: return check<double>(lanes + recurrence_of + "by std::fma (tolerance 0)", recur);
      case Precision::fp32: return check<float>(lanes + recurrence_of + "by std::fma (tolerance 0)", recur);
      case Precision::fp16:
        return check<_Float16>(lanes + recurrence_of + "exact in double, rounded once to half (= the fused "
                                                       "result; tolerance 0)", recur);
      case Precision::bf16:  // exact operands: any internal order gives input + p per lane
        return check<float>(lanes + "input + p: dyadic bf16 operands make every product and partial sum "
                                    "exact in fp32 (tolerance 0)",
                            [](std::size_t j, float x) { return x + bf16_p(int(j % 16)); });
    }
    return core::Verification::failed("none", "unknown precision");
  }

  core::WorkModel work() const override {
    const double per_instruction = fma_flops_per_instruction(k_.lanes, k_.products_per_lane);
    const auto w = peakflops_work(per_instruction, k_.instructions_per_iteration, iterations_, threads_);
    const double extra = double(k_.final_instructions) * threads_;  // bf16's closing +p
    return {w.flops + per_instruction * extra, 0, w.items + extra};
  }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    return peak_for_threads(ctx, std::string("cpu.") + name(prec_), threads_);
  }

  std::map<std::string, std::string> notes() const override {
    return {{"isa", k_.isa}, {"threads", std::to_string(threads_)}, {"kernel", k_.instruction},
            {"accumulators", std::to_string(k_.accs) + " independent vectors per thread"},
            {"lanes", std::to_string(k_.lanes)}, {"iterations_auto", auto_how_}};
  }

 private:
  template <typename T>
  static void put(Buffer<char>& buf, std::size_t index, T value) {
    reinterpret_cast<T*>(buf.data())[index] = value;
  }

  void run_with(std::uint64_t iterations) {
#pragma omp parallel num_threads(threads_)
    {
      const std::size_t off = per_thread_ * omp_get_thread_num();
      k_.fn(in_.data() + off, out_.data() + off, ops_.data(), iterations);
    }
  }

  /// Iterations for about `seconds` per repetition at the model's one-core peak: the same
  /// value on every run of a machine, so runs compare like for like. Without a peak, a
  /// calibration in setup: double until a run takes >= seconds/4, then keep the faster of
  /// two runs at that size, since a busy core only ever makes a run slower.
  std::uint64_t auto_iterations(const core::Context& ctx, double seconds) {
    const auto peak = ctx.peaks ? ctx.peaks->get(std::string("cpu.") + name(prec_) + ".core") : std::nullopt;
    const double per_iteration =
        fma_flops_per_instruction(k_.lanes, k_.products_per_lane) * k_.instructions_per_iteration;
    if (peak && peak->value > 0) {
      auto_how_ = "20 ms at the model's one-core peak (" + std::to_string(peak->value / 1e9) + " GFLOP/s)";
      return std::max<std::uint64_t>(1000, std::uint64_t(seconds * peak->value / per_iteration));
    }
    auto_how_ = "calibrated in setup to about 20 ms (no peak in the model)";
    const auto time = [this](std::uint64_t it) {
      const auto t0 = std::chrono::steady_clock::now();
      run_with(it);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    time(1024);  // starts the OpenMP threads
    std::uint64_t it = 1024;
    while (time(it) < seconds / 4 && it < (1ull << 40)) it *= 2;
    return std::max<std::uint64_t>(1000, std::uint64_t(double(it) * seconds / std::min(time(it), time(it))));
  }

  /// The expected output of lane j from its input x: the scalar recurrence in precision T.
  /// x -> fma(x, b, c) is monotone with 0 < b < 1, so each lane reaches a fixed point within
  /// ~500 steps; once f(x) == x every later step is x, which keeps the check exact and cheap.
  template <typename T>
  T recurrence(std::size_t j, T x) const {
    const T* ops = reinterpret_cast<const T*>(ops_.data());
    const T b = ops[j % k_.lanes], c = ops[k_.lanes + j % k_.lanes];
    for (std::uint64_t i = 0; i < iterations_; ++i) {
      T y;
      if constexpr (std::is_same_v<T, _Float16>) y = T(double(x) * double(b) + double(c));  // exact, one rounding
      else y = std::fma(x, b, c);
      if (y == x) break;
      x = y;
    }
    return x;
  }

  /// Compares every lane of `out_` with expected(j, in_[j]) bit for bit (== on values).
  template <typename T, typename Expected>
  core::Verification check(const std::string& method, Expected expected) const {
    const T* in = reinterpret_cast<const T*>(in_.data());
    const T* out = reinterpret_cast<const T*>(out_.data());
    const std::size_t n = per_thread_ * threads_ / sizeof(T), per_thread = n / threads_;
    std::size_t bad = 0;
    double max_err = 0;
    std::string first;
    for (std::size_t j = 0; j < n; ++j) {
      const T want = expected(j, in[j]);
      if (out[j] == want) continue;
      max_err = std::max(max_err, std::fabs(double(out[j]) - double(want)) / std::fabs(double(want)));
      if (bad++ == 0)
        first = "thread " + std::to_string(j / per_thread) + " lane " + std::to_string(j % per_thread) + ": " +
                std::to_string(double(out[j])) + " != " + std::to_string(double(want));
    }
    if (bad) return core::Verification::failed(method, std::to_string(bad) + " lanes differ, first " + first, max_err);
    return core::Verification::passed(method);
  }

  Precision prec_;
  fma::Kernel k_;
  int threads_ = 1;
  std::uint64_t iterations_ = 0;
  std::size_t per_thread_ = 0;
  std::string auto_how_ = "not used (given)";
  Buffer<char> in_, out_, ops_;
};

core::BenchmarkSpec spec(Precision p) {
  const std::string n = name(p);
  return {"micro.peakflops." + n, "micro", "cpu",
          n + " FMA throughput, independent chains in registers, widest vector ISA at run time",
          {threads_param(),
           {"iterations", core::ParamType::integer, "auto",
            "loop trips per repetition (auto = ~20 ms at the model's one-core peak)", {}, 1.0, std::nullopt}},
          {{"flop_rate", "FLOP/s", core::MetricKind::rate, core::Quantity::flops, core::Direction::higher_is_better}},
          [p] { return std::make_unique<PeakFlops>(p); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(peakflops_fp64, spec(Precision::fp64));
CONVERGE_REGISTER_BENCHMARK(peakflops_fp32, spec(Precision::fp32));
CONVERGE_REGISTER_BENCHMARK(peakflops_fp16, spec(Precision::fp16));
CONVERGE_REGISTER_BENCHMARK(peakflops_bf16, spec(Precision::bf16));

}  // namespace converge::micro
