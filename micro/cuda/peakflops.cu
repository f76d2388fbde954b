// micro.gpu_peakflops.{fp64,fp32,fp16,bf16}: FMA throughput on the CUDA cores. One full wave of
// 256-thread blocks (SMs x resident blocks per SM), every thread running kChains independent
// register chains acc = fma(acc, b, c), b and c kernel arguments (through device memory). Thread
// 0 of each block stamps clock64(), %globaltimer and %smid around the block's work, so the result
// states the SM clock it ran at and verify() can bound the work each SM did by its cycles.
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/cuda/device_memory.hpp"
#include "micro/cuda/cuda_common.hpp"
#include "micro/cuda/peakflops_kernels.hpp"

namespace converge::micro::cuda {
namespace {

using namespace gpu_fma;

template <class T>
__global__ void __launch_bounds__(kBlockThreads) fma_chains(T* out, BlockTimes* times, const Operands<T>* ops, unsigned trips) {
  constexpr int L = info(Dev<T>::p).lanes;
  const std::uint64_t tid = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::uint64_t threads = std::uint64_t(gridDim.x) * blockDim.x;
  // Operands from memory, so that they sit in registers for the whole loop: from the parameter
  // bank ptxas re-reads them inside it (LDC on sm_90).
  const T b = ops->b;
  T acc[kChains], c[kChains];
#pragma unroll
  for (int k = 0; k < kChains; ++k) c[k] = ops->c[k];
#pragma unroll
  for (int k = 0; k < kChains; ++k)
    acc[k] = Dev<T>::make(initial_value(tid, k * L, kChains * L), initial_value(tid, k * L + 1, kChains * L));
  // The barriers put every FMA of the block between the stamps (the cycle check relies on it).
  std::uint64_t clock0 = 0, ns0 = 0;
  if (threadIdx.x == 0) clock0 = std::uint64_t(clock64()), ns0 = global_ns();
  __syncthreads();
  for (unsigned i = 0; i < trips; ++i) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
#pragma unroll
      for (int k = 0; k < kChains; ++k) acc[k] = Dev<T>::fma(acc[k], b, c[k]);
  }
  __syncthreads();
  if (threadIdx.x == 0) times[blockIdx.x] = BlockTimes{clock0, std::uint64_t(clock64()), ns0, global_ns(), sm_id(), 0};
#pragma unroll
  for (int k = 0; k < kChains; ++k) out[k * threads + tid] = acc[k];  // coalesced; keeps every chain live
}

/// The host's T holding lane values lo (and hi for the paired types), from their bit patterns.
template <class T> T pack(Precision p, double lo, double hi) {
  std::uint64_t bits = element_bits(p, lo);
  if (info(p).lanes == 2) bits |= element_bits(p, hi) << 16;
  T v;
  std::memcpy(static_cast<void*>(&v), &bits, sizeof(T));  // little endian: .x is the low half
  return v;
}

std::string number(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

template <class T>
class GpuPeakFlops final : public CudaBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open_device(params); st.kind != core::SetupStatus::Kind::ok) return st;
    const auto in = info(p_);
    if (gpu().cc_major < in.min_cc_major)
      return core::SetupStatus::skip(std::string(in.name) + " FMA on CUDA cores (" + in.instruction +
                                     ") needs compute capability >= " + std::to_string(in.min_cc_major) +
                                     ".0; the device has " + std::to_string(gpu().cc_major) + "." +
                                     std::to_string(gpu().cc_minor));
    CONVERGE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_, fma_chains<T>, kBlockThreads, 0));
    if (per_sm_ < 1) return core::SetupStatus::fail("the kernel does not fit on one SM");
    blocks_ = gpu().sm_count * per_sm_;
    threads_ = std::uint64_t(blocks_) * kBlockThreads;
    out_ = ccuda::DeviceBuffer<T>(kChains * threads_);
    times_ = ccuda::DeviceBuffer<BlockTimes>(std::size_t(blocks_));
    // 0 is no lane's result, so a thread that never writes fails the check.
    CONVERGE_CUDA_CHECK(cudaMemsetAsync(out_.data(), 0, out_.bytes(), stream()));
    CONVERGE_CUDA_CHECK(cudaMemsetAsync(times_.data(), 0, times_.bytes(), stream()));
    Operands<T> ops;
    ops.b = pack<T>(p_, op_b(p_), op_b(p_));
    for (int k = 0; k < kChains; ++k) ops.c[k] = pack<T>(p_, op_c(p_, k * in.lanes), op_c(p_, k * in.lanes + 1));
    ops_ = ccuda::DeviceBuffer<Operands<T>>(1);
    CONVERGE_CUDA_CHECK(cudaMemcpyAsync(ops_.data(), &ops, sizeof ops, cudaMemcpyHostToDevice, stream()));
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));  // `ops` leaves scope
    per_clock_ = core::gpu_ops_per_clock_per_sm(gpu().cc_major, gpu().cc_minor, "core", in.name).value_or(0);
    const auto peak = device_peak(std::string("gpu.") + in.name, ctx);
    peak_flops_ = peak ? peak->value : 0;
    const double per_iteration = gpu_fma::work(p_, kChains, 1, threads_).flops;
    if (!params.is_auto("iterations")) {
      iterations_ = round_iterations(std::uint64_t(params.integer("iterations")));
    } else if (peak_flops_ > 0) {
      iterations_ = auto_iterations(peak_flops_, per_iteration, 0.02);
      auto_how_ = "20 ms at the peak " + number("%.4g", peak_flops_) + " FLOP/s";
    } else {  // no peak for this device: time doubling runs until one takes >= 5 ms, then scale
      ccuda::EventTimer timer(stream());
      std::uint64_t it = 1024;
      double t = 0;
      for (;; it *= 2) {
        timer.start(), launch(it), t = timer.stop();
        if (t >= 0.005 || it >= (1ull << 30)) break;
      }
      iterations_ = round_iterations(std::uint64_t(double(it) * 0.02 / t));
      auto_how_ = "calibrated in setup to about 20 ms (no peak known for the device)";
    }
    params.resolve("iterations", std::to_string(iterations_));
    return core::SetupStatus::ok();
  }

  void run() override { launch(iterations_); }

  core::Verification verify() override {
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    std::vector<unsigned char> out(out_.bytes());
    std::vector<BlockTimes> times(static_cast<std::size_t>(blocks_));
    CONVERGE_CUDA_CHECK(cudaMemcpy(out.data(), out_.data(), out_.bytes(), cudaMemcpyDeviceToHost));
    CONVERGE_CUDA_CHECK(cudaMemcpy(times.data(), times_.data(), times_.bytes(), cudaMemcpyDeviceToHost));
    clock_mhz_ = effective_clock_mhz(times);
    auto v = check_output(p_, out.data(), threads_, kChains, iterations_);
    if (v.status != core::VerifyStatus::passed) return v;
    v.method += per_clock_ > 0 ? "; and on every SM, cycles from its first block's start to its last block's end >= its "
                                 "blocks' FLOPs / (" + number("%g", kCycleMargin) + " x " + number("%g", per_clock_) +
                                     " FLOP/clock/SM, the model's table)"
                               : "; every block stamped its interval (no table entry: no cycle bound)";
    const std::string slow = check_cycles(times, gpu_fma::work(p_, kChains, iterations_, kBlockThreads).flops, per_clock_);
    if (!slow.empty()) return core::Verification::failed(v.method, slow);
    return v;
  }

  core::WorkModel work() const override { return gpu_fma::work(p_, kChains, iterations_, threads_); }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    return device_peak(std::string("gpu.") + info(p_).name, ctx);
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    if (blocks_ == 0) return {};  // skipped before the grid was known
    std::map<std::string, std::string> n = {
        {"grid", grid_text(blocks_, kBlockThreads, per_sm_)},
        {"chains_per_thread", std::to_string(kChains)},
        {"instruction", info(p_).instruction},
        {"iterations_auto", auto_how_}};
    if (clock_mhz_ > 0) {
      n["sm_clock_measured_mhz"] = number("%.0f", clock_mhz_);
      if (peak_flops_ > 0 && gpu().max_sm_mhz > 0)
        n["peak_at_measured_clock"] = number("%.6g", peak_flops_ * clock_mhz_ / gpu().max_sm_mhz);
    }
    return n;
  }

 private:
  void launch(std::uint64_t iterations) {
    fma_chains<T><<<blocks_, kBlockThreads, 0, stream()>>>(out_.data(), times_.data(), ops_.data(),
                                                           unsigned(iterations / kUnroll));
    CONVERGE_CUDA_CHECK(cudaGetLastError());
  }

  static constexpr Precision p_ = Dev<T>::p;
  int per_sm_ = 0, blocks_ = 0;
  std::uint64_t threads_ = 0, iterations_ = 0;
  double peak_flops_ = 0, clock_mhz_ = 0, per_clock_ = 0;
  std::string auto_how_ = "not used (given)";
  ccuda::DeviceBuffer<Operands<T>> ops_;
  ccuda::DeviceBuffer<T> out_;
  ccuda::DeviceBuffer<BlockTimes> times_;
};

template <class T> core::BenchmarkSpec spec() {
  const std::string n = info(Dev<T>::p).name;
  return {"micro.gpu_peakflops." + n, "micro", "cuda",
          n + " FMA throughput on the CUDA cores (" + info(Dev<T>::p).instruction +
              "), independent register chains, one full wave",
          {device_param(),
           {"iterations", core::ParamType::integer, "auto",
            "FMAs per chain per repetition, rounded up to a multiple of 8 (auto = ~20 ms at the device's peak)",
            {}, 1.0, 4294967296.0}},
          {{"flop_rate", "FLOP/s", core::MetricKind::rate, core::Quantity::flops, core::Direction::higher_is_better}},
          [] { return std::make_unique<GpuPeakFlops<T>>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(gpu_peakflops_fp64, spec<double>());
CONVERGE_REGISTER_BENCHMARK(gpu_peakflops_fp32, spec<float>());
CONVERGE_REGISTER_BENCHMARK(gpu_peakflops_fp16, spec<__half2>());
CONVERGE_REGISTER_BENCHMARK(gpu_peakflops_bf16, spec<__nv_bfloat162>());

}  // namespace converge::micro::cuda
