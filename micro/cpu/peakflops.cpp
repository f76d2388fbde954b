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

enum class Precision { fp64, fp32, fp16, bf16 };
const char* name(Precision p) {
  constexpr const char* names[] = {"fp64", "fp32", "fp16", "bf16"};
  return names[int(p)];
}

/// One ISA's kernel for one precision and the facts its work model needs.
struct Variant {
  std::string isa;
  fma::KernelFn fn = nullptr;
  int accs = 0, lanes = 0;              // accumulator vectors, lanes per vector
  int elem_bytes = 0;                   // bytes per accumulator lane
  int instructions_per_iteration = 0;   // per thread
  int final_instructions = 0;           // after the loop (bf16's closing +p)
  int products_per_lane = 1;            // 2 for vdpbf16ps
  std::string kernel;
};

/// The widest kernel this CPU runs, or the reason there is none.
Variant select(Precision p, std::string& why_not) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  using namespace fma;
  switch (p) {
    case Precision::fp64:
      if (avx512) return {"avx512f", fp64_avx512, kAccAvx512, 8, 8, kAccAvx512, 0, 1, "vfmadd231pd zmm"};
      if (avx2) return {"avx2+fma", fp64_avx2, kAccAvx2, 4, 8, kAccAvx2, 0, 1, "vfmadd231pd ymm"};
      break;
    case Precision::fp32:
      if (avx512) return {"avx512f", fp32_avx512, kAccAvx512, 16, 4, kAccAvx512, 0, 1, "vfmadd231ps zmm"};
      if (avx2) return {"avx2+fma", fp32_avx2, kAccAvx2, 8, 4, kAccAvx2, 0, 1, "vfmadd231ps ymm"};
      break;
    case Precision::fp16:
      if (__builtin_cpu_supports("avx512fp16"))
        return {"avx512fp16", fp16_avx512, kAccAvx512, 32, 2, kAccAvx512, 0, 1, "vfmadd231ph zmm"};
      why_not = "CPU lacks AVX512_FP16";
      return {};
    case Precision::bf16:
      if (__builtin_cpu_supports("avx512bf16"))
        return {"avx512bf16", bf16_avx512, kAccAvx512, 16, 4, 2 * kAccAvx512, kAccAvx512, 2,
                "vdpbf16ps zmm (+p, -p per iteration)"};
      why_not = "CPU lacks AVX512_BF16";
      return {};
  }
  why_not = "CPU lacks AVX2+FMA";
  return {};
}

// Operands of acc = acc * b + c: b = 15/16 and c = (1 + lane/64) / 16, so every lane
// contracts to its own fixed point 1 + lane/64 (finite, normal, exact in half precision).
double op_b(int) { return 15.0 / 16; }
double op_c(int lane) { return (1.0 + lane / 64.0) / 16; }
// Initial accumulator j of all threads (j = flat index): in [0.5, 1), a multiple of 2^-10.
double initial(std::size_t j) { return 0.5 + double(j % 512) / 1024; }
// bf16 operands per lane: x = (2, 1/2); up = (u, v); down = (-2u, 4u - v). up and down cancel
// (2u + v/2 - 4u + 2u - v/2 = 0) but neither half alone does, so a dropped product shows.
// Every value has <= 8 significant bits (exact in bf16) and every sum is exact in fp32.
double bf16_u(int lane) { return (16.0 + lane) / 128; }
constexpr double bf16_v = 1.0 / 32;
double bf16_p(int lane) { return 2 * bf16_u(lane) + 0.5 * bf16_v; }
std::uint16_t to_bf16(float f) {  // truncation is exact for values with <= 8 significant bits
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return std::uint16_t(u >> 16);
}

template <typename T>
void fill(void* dst, std::size_t count, double (*value)(std::size_t)) {
  for (std::size_t j = 0; j < count; ++j) static_cast<T*>(dst)[j] = T(value(j));
}

class PeakFlops final : public core::Benchmark {
 public:
  explicit PeakFlops(Precision p) : prec_(p) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    std::string why_not;
    v_ = select(prec_, why_not);
    if (v_.fn == nullptr) return core::SetupStatus::skip(why_not);
    threads_ = resolve_threads(params, ctx);
    per_thread_ = std::size_t(v_.accs) * v_.lanes * v_.elem_bytes;  // a multiple of 64 B
    in_ = Buffer<char>(per_thread_ * threads_);
    out_ = Buffer<char>(per_thread_ * threads_);
    const std::size_t n = per_thread_ * threads_ / v_.elem_bytes;
    switch (prec_) {
      case Precision::fp64: fill<double>(in_.data(), n, initial); break;
      case Precision::fp32: case Precision::bf16: fill<float>(in_.data(), n, initial); break;
      case Precision::fp16: fill<_Float16>(in_.data(), n, initial); break;
    }
    ops_ = Buffer<char>(3 * 64);  // b then c (or x, up, down for bf16), one vector each
    const int L = v_.lanes;
    for (int l = 0; l < L; ++l) {
      switch (prec_) {
        case Precision::fp64: set<double>(l, op_b(l)), set<double>(L + l, op_c(l)); break;
        case Precision::fp32: set<float>(l, op_b(l)), set<float>(L + l, op_c(l)); break;
        case Precision::fp16: set<_Float16>(l, op_b(l)), set<_Float16>(L + l, op_c(l)); break;
        case Precision::bf16: {
          const float u = float(bf16_u(l)), v = float(bf16_v);
          const float lanes[6] = {2.0f, 0.5f, u, v, -2 * u, 4 * u - v};  // x, up, down pairs
          for (int h = 0; h < 3; ++h)
            for (int e = 0; e < 2; ++e) set<std::uint16_t>(32 * h + 2 * l + e, to_bf16(lanes[2 * h + e]));
        }
      }
    }
    iterations_ = params.is_auto("iterations") ? auto_iterations(ctx, 0.02) : params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    return core::SetupStatus::ok();
  }

  void run() override { run_with(iterations_); }

  core::Verification verify() override {
    switch (prec_) {
      case Precision::fp64: return check_recurrence<double>([](double x, double b, double c) { return std::fma(x, b, c); });
      case Precision::fp32: return check_recurrence<float>([](float x, float b, float c) { return std::fma(x, b, c); });
      case Precision::fp16:  // the exact double result rounded once is the fused result
        return check_recurrence<_Float16>([](_Float16 x, _Float16 b, _Float16 c) {
          return _Float16(double(x) * double(b) + double(c));
        });
      case Precision::bf16: return check_bf16();
    }
    return core::Verification::failed("none", "unknown precision");
  }

  core::WorkModel work() const override {
    const double per_instr = fma_flops_per_instruction(v_.lanes, v_.products_per_lane);
    auto w = peakflops_work(per_instr, v_.instructions_per_iteration, iterations_, threads_);
    const double extra = double(v_.final_instructions) * threads_;  // bf16's closing +p
    return {w.flops + per_instr * extra, 0, w.items + extra};
  }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    return peak_for_threads(ctx, std::string("cpu.") + name(prec_), threads_);
  }

  std::map<std::string, std::string> notes() const override {
    return {{"isa", v_.isa}, {"threads", std::to_string(threads_)}, {"kernel", v_.kernel},
            {"accumulators", std::to_string(v_.accs) + " independent vectors per thread"},
            {"lanes", std::to_string(v_.lanes)},
            {"iterations_auto", auto_how_}};
  }

 private:
  template <typename T>
  void set(int index, T value) { reinterpret_cast<T*>(ops_.data())[index] = value; }

  void run_with(std::uint64_t iterations) {
#pragma omp parallel num_threads(threads_)
    {
      const std::size_t off = per_thread_ * omp_get_thread_num();
      v_.fn(in_.data() + off, out_.data() + off, ops_.data(), iterations);
    }
  }

  /// Iterations for about `seconds` per repetition at the model's one-core peak: the same
  /// value on every run of a machine, so runs compare like for like. Without a peak, calibrate.
  std::uint64_t auto_iterations(const core::Context& ctx, double seconds) {
    const auto peak = ctx.peaks ? ctx.peaks->get(std::string("cpu.") + name(prec_) + ".core") : std::nullopt;
    const double flops_per_iteration =
        fma_flops_per_instruction(v_.lanes, v_.products_per_lane) * v_.instructions_per_iteration;
    if (peak && peak->value > 0) {
      auto_how_ = "20 ms at the model's one-core peak (" + std::to_string(peak->value / 1e9) + " GFLOP/s)";
      return std::max<std::uint64_t>(1000, std::uint64_t(seconds * peak->value / flops_per_iteration));
    }
    auto_how_ = "calibrated in setup to about 20 ms (no peak in the model)";
    return calibrate(seconds);
  }

  /// Iterations for about `seconds` per repetition, from a calibration in setup (the timed
  /// repetitions are the harness's): double until a run takes >= seconds/4, then take the
  /// faster of two runs at that size, since a busy core only ever makes a run slower.
  std::uint64_t calibrate(double seconds) {
    const auto time = [this](std::uint64_t it) {
      const auto t0 = std::chrono::steady_clock::now();
      run_with(it);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    time(1024);  // starts the OpenMP threads
    std::uint64_t it = 1024;
    while (time(it) < seconds / 4 && it < (1ull << 40)) it *= 2;
    const double dt = std::min(time(it), time(it));
    return std::max<std::uint64_t>(1000, std::uint64_t(double(it) * seconds / dt));
  }

  /// Every lane of every accumulator of every thread against the scalar recurrence. The map
  /// x -> fma(x, b, c) is monotone with 0 < b < 1, so each lane reaches a fixed point within
  /// ~1000 steps; once f(x) == x all later steps are x, which keeps the check exact and cheap.
  template <typename T, typename Step>
  core::Verification check_recurrence(Step step) const {
    const auto* in = reinterpret_cast<const T*>(in_.data());
    const auto* out = reinterpret_cast<const T*>(out_.data());
    const auto* ops = reinterpret_cast<const T*>(ops_.data());
    const std::size_t n = per_thread_ * threads_ / sizeof(T);
    std::size_t bad = 0;
    double max_err = 0;
    std::string first;
    for (std::size_t j = 0; j < n; ++j) {
      const int lane = int(j % v_.lanes);
      T x = in[j];
      for (std::uint64_t i = 0; i < iterations_; ++i) {
        const T y = step(x, ops[lane], ops[v_.lanes + lane]);
        if (y == x) break;
        x = y;
      }
      if (!(out[j] == x)) {
        max_err = std::max(max_err, std::fabs(double(out[j]) - double(x)) / std::fabs(double(x)));
        if (bad++ == 0)
          first = "thread " + std::to_string(j / (n / threads_)) + " element " +
                  std::to_string(j % (n / threads_)) + ": " + std::to_string(double(out[j])) + " != " + std::to_string(double(x));
      }
    }
    const std::string method = "every lane of every accumulator of every thread equals the scalar "
                               "recurrence acc = fma(acc, b, c) exactly";
    if (bad) return core::Verification::failed(method, std::to_string(bad) + " lanes differ; first: " + first, max_err);
    return core::Verification::passed(method);
  }

  /// bf16: all products are exact in fp32 and every partial sum is exact, so whatever order
  /// the hardware adds in, each lane must end at exactly its input + p.
  core::Verification check_bf16() const {
    const auto* in = reinterpret_cast<const float*>(in_.data());
    const auto* out = reinterpret_cast<const float*>(out_.data());
    const std::size_t n = per_thread_ * threads_ / 4;
    std::size_t bad = 0;
    std::string first;
    for (std::size_t j = 0; j < n; ++j) {
      const float want = in[j] + float(bf16_p(int(j % 16)));
      if (!(out[j] == want) && bad++ == 0)
        first = "element " + std::to_string(j) + ": " + std::to_string(out[j]) + " != " + std::to_string(want);
    }
    const std::string method = "every fp32 lane exact: dyadic bf16 operands make every product and "
                               "partial sum exact, so the result is order-independent (tolerance 0)";
    if (bad) return core::Verification::failed(method, std::to_string(bad) + " lanes differ; first: " + first);
    return core::Verification::passed(method);
  }

  Precision prec_;
  Variant v_;
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
            "loop trips per repetition (auto = calibrated to ~20 ms)", {}, 1.0, std::nullopt}},
          {{"flop_rate", "FLOP/s", core::MetricKind::rate, core::Quantity::flops,
            core::Direction::higher_is_better}},
          [p] { return std::make_unique<PeakFlops>(p); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(peakflops_fp64, spec(Precision::fp64));
CONVERGE_REGISTER_BENCHMARK(peakflops_fp32, spec(Precision::fp32));
CONVERGE_REGISTER_BENCHMARK(peakflops_fp16, spec(Precision::fp16));
CONVERGE_REGISTER_BENCHMARK(peakflops_bf16, spec(Precision::bf16));

}  // namespace converge::micro
