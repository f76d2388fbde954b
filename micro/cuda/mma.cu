// micro.gpu_mma.{fp16,bf16,int8,fp8}: raw Tensor Core throughput, no memory traffic in the loop.
// Each warp (mma.sync) or warpgroup (wgmma, Hopper: mma_wgmma.cu) loads its A and B once and
// then issues the architecture's matrix instruction `iterations` times into the same
// accumulators: +A then -A per trip, so they return exactly to their start C0, and one closing
// +A, so the result is C0 + A B, checked exactly for every element of every accumulator.
#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/cuda/device_memory.hpp"
#include "micro/cuda/cuda_common.hpp"
#include "micro/cuda/mma_kernels.hpp"

#define CONVERGE_MMA_SYNC(instr, c, acc, a, b)                                            \
  asm volatile(instr " {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n" \
               : c(acc[0]), c(acc[1]), c(acc[2]), c(acc[3])                               \
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]))

namespace converge::micro::cuda {
namespace {

using mma::Precision;
constexpr int kAccs = 8, kWarps = 8, kThreads = 32 * kWarps;  // accumulator tiles per warp, warps per block
const char* const kNames[] = {"fp16", "bf16", "int8", "fp8"};
template <Precision P>
using Acc = std::conditional_t<P == Precision::int8, int, float>;

__device__ __forceinline__ long long global_ns() {
  long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

/// acc = A B + acc for one m16n8kK tile. The #if keeps each instruction out of PTX targets that
/// lack it; the kernel reports such an image and the host skips.
template <Precision P, int K>
__device__ __forceinline__ void mma_sync(Acc<P> (&acc)[4], const std::uint32_t* a, const std::uint32_t* b) {
#if defined(__CUDA_ARCH__)
  if constexpr (K == 8) {
#if __CUDA_ARCH__ >= 750
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, {%0, %1, %2, %3};\n"
        : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
        : "r"(a[0]), "r"(a[1]), "r"(b[0]));
#endif
  } else if constexpr (P == Precision::fp16) {
#if __CUDA_ARCH__ >= 800
    CONVERGE_MMA_SYNC("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", "+f", acc, a, b);
#endif
  } else if constexpr (P == Precision::bf16) {
#if __CUDA_ARCH__ >= 800
    CONVERGE_MMA_SYNC("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", "+f", acc, a, b);
#endif
  } else if constexpr (P == Precision::int8) {
#if __CUDA_ARCH__ >= 800
    CONVERGE_MMA_SYNC("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32", "+r", acc, a, b);
#endif
  } else {
#if __CUDA_ARCH__ >= 890
    CONVERGE_MMA_SYNC("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32", "+f", acc, a, b);
#endif
  }
#endif
}

template <Precision P, int K>
__global__ void __launch_bounds__(kThreads)
    mma_sync_kernel(std::uint32_t seed, std::uint32_t iterations, void* out, long long* clk, long long* ns, int* arch) {
#if defined(__CUDA_ARCH__)
  constexpr bool have = __CUDA_ARCH__ >= mma::sync_min_arch(P, K);
  if constexpr (have) {
    constexpr int bytes = mma::element_bytes(P), ar = K * bytes / 8, br = K * bytes / 16;  // registers per A, B
    const int lane = threadIdx.x & 31;
    const std::uint32_t unit = blockIdx.x * kWarps + threadIdx.x / 32;
    std::uint32_t a[ar], na[ar], b[kAccs][br];
    Acc<P> c[kAccs][4];
#pragma unroll
    for (int r = 0; r < ar; ++r) {
      a[r] = mma::sync_pack_a(P, seed, unit, lane, r, false);
      na[r] = mma::sync_pack_a(P, seed, unit, lane, r, true);
    }
#pragma unroll
    for (int j = 0; j < kAccs; ++j) {
#pragma unroll
      for (int r = 0; r < br; ++r) b[j][r] = mma::sync_pack_b(P, seed, j, lane, r);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const mma::Coord z = mma::sync_c(lane, i);
        c[j][i] = Acc<P>(mma::c_init_value(P, seed, unit, j, z.row, z.col));
      }
    }
    // Every thread reads the clocks (thread 0's are kept): no divergent branch before mma.sync.
    const long long c0 = clock64(), g0 = global_ns();
    for (std::uint32_t it = 0; it < iterations; ++it) {  // kAccs independent chains between dependent pairs
#pragma unroll
      for (int j = 0; j < kAccs; ++j) mma_sync<P, K>(c[j], a, b[j]);
#pragma unroll
      for (int j = 0; j < kAccs; ++j) mma_sync<P, K>(c[j], na, b[j]);
    }
#pragma unroll
    for (int j = 0; j < kAccs; ++j) mma_sync<P, K>(c[j], a, b[j]);
    Acc<P>* o = static_cast<Acc<P>*>(out);
#pragma unroll
    for (int j = 0; j < kAccs; ++j)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const mma::Coord z = mma::sync_c(lane, i);
        o[((std::size_t(unit) * kAccs + j) * 16 + z.row) * 8 + z.col] = c[j][i];
      }
    if (threadIdx.x == 0) {
      clk[blockIdx.x] = clock64() - c0, ns[blockIdx.x] = global_ns() - g0;
      if (blockIdx.x == 0) *arch = __CUDA_ARCH__;
    }
  } else if (threadIdx.x == 0 && blockIdx.x == 0) {
    *arch = -__CUDA_ARCH__;  // this image lacks the instruction: setup() skips
  }
#endif
}

using SyncKernel = void (*)(std::uint32_t, std::uint32_t, void*, long long*, long long*, int*);
SyncKernel sync_kernel(Precision p, int k) {
  switch (p) {
    case Precision::fp16: return k == 8 ? mma_sync_kernel<Precision::fp16, 8> : mma_sync_kernel<Precision::fp16, 16>;
    case Precision::bf16: return mma_sync_kernel<Precision::bf16, 16>;
    case Precision::int8: return mma_sync_kernel<Precision::int8, 32>;
    case Precision::fp8: break;
  }
  return mma_sync_kernel<Precision::fp8, 32>;
}

class GpuMma final : public CudaBenchmark {
 public:
  explicit GpuMma(Precision p) : p_(p) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open_device(params); st.kind != core::SetupStatus::Kind::ok) return st;
    seed_ = std::uint32_t(params.integer("seed"));
    if (auto st = choose_kernel(params.text("kernel"), gpu().cc_major * 10 + gpu().cc_minor);
        st.kind != core::SetupStatus::Kind::ok)
      return st;
    g_ = wgmma_ ? mma::Geometry{p_, seed_, 0, 1, mma::kWgmmaM, mma::kWgmmaN, mma::kWgmmaKBytes / mma::element_bytes(p_)}
                : mma::Geometry{p_, seed_, 0, kAccs, 16, 8, k_};
    blocks_ = gpu().sm_count * blocks_per_sm_;
    g_.units = std::uint64_t(blocks_) * (wgmma_ ? 1 : kWarps);
    out_ = ccuda::DeviceBuffer<std::uint32_t>(g_.units * g_.tiles * g_.m * g_.n);
    clk_ = ccuda::DeviceBuffer<long long>(blocks_), ns_ = ccuda::DeviceBuffer<long long>(blocks_);
    arch_ = ccuda::DeviceBuffer<int>(1);
    launch(1);  // which image loaded: does it have the instruction?
    CONVERGE_CUDA_CHECK(cudaMemcpyAsync(&cuda_arch_, arch_.data(), sizeof(int), cudaMemcpyDeviceToHost, stream()));
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    if (cuda_arch_ <= 0)  // e.g. Ada (8.9) runs the sm_80 image, which has no e4m3 mma.sync
      return core::SetupStatus::skip("the kernel image loaded for this device (__CUDA_ARCH__ " +
                                     std::to_string(-cuda_arch_) + ") lacks " + instruction() + ": add " +
                                     std::to_string(gpu().cc_major * 10 + gpu().cc_minor) +
                                     " to CONVERGE_CUDA_ARCHITECTURES");
    iterations_ = params.is_auto("iterations") ? auto_iterations(ctx) : std::uint32_t(params.integer("iterations"));
    params.resolve("iterations", std::to_string(iterations_));
    // Outputs start as a value no element can have, so an element no run writes fails verify().
    CONVERGE_CUDA_CHECK(cudaMemsetAsync(out_.data(), 0x7F, out_.bytes(), stream()));
    return core::SetupStatus::ok();
  }

  void run() override { launch(iterations_); }

  core::Verification verify() override {
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    std::vector<long long> clk(blocks_), ns(blocks_);
    CONVERGE_CUDA_CHECK(cudaMemcpy(clk.data(), clk_.data(), clk_.bytes(), cudaMemcpyDeviceToHost));
    CONVERGE_CUDA_CHECK(cudaMemcpy(ns.data(), ns_.data(), ns_.bytes(), cudaMemcpyDeviceToHost));
    clock_mhz_ = mma::measured_mhz(clk, ns);
    const std::string method = mma::verify_method(p_, wgmma_);
    const auto result = mma::integer_accumulator(p_) ? check<int>() : check<float>();
    if (result.wrong == 0)
      return core::Verification::passed(method + "; " + std::to_string(result.checked) + " elements");
    return core::Verification::failed(method,
                                      std::to_string(result.wrong) + " of " + std::to_string(result.checked) +
                                          " elements wrong, first " + result.first,
                                      result.max_abs_error, 0);
  }

  void teardown() override { out_ = {}, clk_ = {}, ns_ = {}, arch_ = {}; }

  core::WorkModel work() const override {
    const double instructions = mma::instructions_per_unit(g_.tiles, iterations_) * double(g_.units);
    return {mma::mma_work(g_.m, g_.n, g_.k, g_.tiles, iterations_, g_.units), 0, instructions};
  }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    return device_peak(std::string("gpu.tensor.") + kNames[int(p_)], ctx);
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    if (blocks_ == 0) {  // skipped before the kernel was chosen or launched
      if (k_ == 0 && !wgmma_) return {};
      if (cuda_arch_ == 0) return {{"instruction", instruction()}};
      return {{"instruction", instruction()}, {"cuda_arch", std::to_string(cuda_arch_)}};
    }
    std::map<std::string, std::string> n = {
        {"instruction", instruction()},
        {"grid", std::to_string(blocks_) + " blocks x " + std::to_string(wgmma_ ? mma::kWgmmaThreads : kThreads) +
                     " threads (" + std::to_string(blocks_per_sm_) + " per SM, occupancy limit)"},
        {"warps_per_sm", std::to_string(blocks_per_sm_ * (wgmma_ ? mma::kWgmmaThreads : kThreads) / 32)},
        {"accumulators", wgmma_ ? "1 m64n256 tile per warpgroup (128 registers per thread), wgmma asynchronous, "
                                  "wait_group 1 per trip"
                                : std::to_string(kAccs) + " independent m16n8 tiles per warp"},
        {"iterations_auto", auto_how_},
        {"cuda_arch", std::to_string(cuda_arch_)}};
    if (clock_mhz_ > 0) n["sm_clock_measured_mhz"] = std::to_string(int(clock_mhz_ + 0.5));
    if (!path_note_.empty()) n["instruction_note"] = path_note_;
    return n;
  }

 private:
  std::string instruction() const { return wgmma_ ? mma::wgmma_instruction(p_) : mma::sync_instruction(p_, k_); }

  core::SetupStatus choose_kernel(const std::string& kernel, int cc) {
    const auto info = cc == 90 ? mma::wgmma_kernel_info(p_) : mma::WgmmaKernelInfo{};
    const auto choice = mma::choose_kernel(p_, cc, kernel, info.loadable, info.why);
    wgmma_ = choice.wgmma, k_ = choice.k, path_note_ = choice.note;
    if (!choice.skip.empty()) return core::SetupStatus::skip(choice.skip);
    if (wgmma_) blocks_per_sm_ = info.blocks_per_sm;
    else
      CONVERGE_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
          &blocks_per_sm_, reinterpret_cast<const void*>(sync_kernel(p_, k_)), kThreads, 0));
    return blocks_per_sm_ > 0 ? core::SetupStatus::ok() : core::SetupStatus::fail("no block of the kernel fits on an SM");
  }

  void launch(std::uint32_t iterations) {
    if (wgmma_)
      return mma::launch_wgmma(p_, blocks_, seed_, iterations, out_.data(), clk_.data(), ns_.data(), arch_.data(),
                               stream());
    const SyncKernel kernel = sync_kernel(p_, k_);
    kernel<<<blocks_, kThreads, 0, stream()>>>(seed_, iterations, out_.data(), clk_.data(), ns_.data(), arch_.data());
    CONVERGE_CUDA_CHECK(cudaGetLastError());
  }

  /// About 20 ms per repetition at the device's Tensor Core peak (the same value on every run of
  /// a device); without a peak (architectures not in the table), calibrated: the faster of two
  /// timed runs of 256 trips, scaled.
  std::uint32_t auto_iterations(const core::Context& ctx) {
    const double per_trip =
        mma::mma_work(g_.m, g_.n, g_.k, g_.tiles, 1, g_.units) - mma::mma_work(g_.m, g_.n, g_.k, g_.tiles, 0, g_.units);
    double trips;
    if (const auto pk = peak("", ctx); pk && pk->value > 0) {
      trips = 0.02 * pk->value / per_trip;
      auto_how_ = "20 ms at the modelled peak (" + std::to_string(pk->value / 1e12) + " T" + pk->unit + ")";
    } else {
      ccuda::EventTimer timer(stream());
      double best = 1e30;
      for (int r = 0; r < 2; ++r) timer.start(), launch(256), best = std::min(best, timer.stop());
      trips = 256 * 0.02 / best;
      auto_how_ = "calibrated in setup to about 20 ms (no modelled peak for this device)";
    }
    return std::uint32_t(std::clamp(trips, 1.0, 2147483647.0));
  }

  template <typename T>
  mma::CheckResult check() const {
    std::vector<T> host(out_.size());
    CONVERGE_CUDA_CHECK(cudaMemcpy(host.data(), out_.data(), out_.bytes(), cudaMemcpyDeviceToHost));
    return mma::check_tiles(g_, host.data(), [this](std::uint64_t u, int tile, int row, int col) {
      return mma::owner_text(wgmma_, kWarps, u, tile, row, col);
    });
  }

  Precision p_;
  std::uint32_t seed_ = 0, iterations_ = 0;
  bool wgmma_ = false;
  int k_ = 0, blocks_per_sm_ = 0, blocks_ = 0, cuda_arch_ = 0;
  double clock_mhz_ = 0;
  mma::Geometry g_{};
  std::string auto_how_ = "not used (given)", path_note_;
  ccuda::DeviceBuffer<std::uint32_t> out_;
  ccuda::DeviceBuffer<long long> clk_, ns_;
  ccuda::DeviceBuffer<int> arch_;
};

core::BenchmarkSpec spec(Precision p) {
  const std::string n = kNames[int(p)];
  const bool ops = p == Precision::int8;
  // clang-format off
  return {"micro.gpu_mma." + n, "micro", "cuda",
          n + " Tensor Core throughput, operands in registers/shared memory: mma.sync, wgmma on Hopper",
          {device_param(),
           {"iterations", core::ParamType::integer, "auto", "loop trips per repetition, each +A then -A into every "
            "accumulator (auto = ~20 ms at the Tensor Core peak)", {}, 1.0, 2147483647.0},
           {"kernel", core::ParamType::choice, "auto", "auto = wgmma on compute capability 9.0, mma.sync elsewhere",
            {"auto", "mma.sync", "wgmma"}, std::nullopt, std::nullopt},
           {"seed", core::ParamType::integer, "42", "seed of the input patterns", {}, 0.0, 4294967295.0}},
          {{ops ? "op_rate" : "flop_rate", ops ? "OP/s" : "FLOP/s", core::MetricKind::rate, core::Quantity::flops,
            core::Direction::higher_is_better}},
          [p] { return std::make_unique<GpuMma>(p); }};
  // clang-format on
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(gpu_mma_fp16, spec(Precision::fp16));
CONVERGE_REGISTER_BENCHMARK(gpu_mma_bf16, spec(Precision::bf16));
CONVERGE_REGISTER_BENCHMARK(gpu_mma_int8, spec(Precision::int8));
CONVERGE_REGISTER_BENCHMARK(gpu_mma_fp8, spec(Precision::fp8));

}  // namespace converge::micro::cuda
