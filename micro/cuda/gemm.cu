// micro.gpu_gemm.{fp16,bf16,tf32,fp8,int8,fp64}: Tensor Core throughput through cuBLASLt,
// D = A B on square n x n matrices ("TN", column-major), the heuristic's best algorithm. A and
// B are generated on the device by a counter-based hash (gemm_verify.hpp), so verify() reads
// back 64 sampled entries of D and the host regenerates the inputs each one needs.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cuda/cublas.hpp"
#include "core/cuda/device_memory.hpp"
#include "micro/cuda/cuda_common.hpp"
#include "micro/cuda/gemm_lt.hpp"
#include "micro/cuda/gemm_verify.hpp"

namespace converge::micro::cuda {
namespace {

using gemm::Precision;

// Every generated value is representable in T, so each conversion is exact.
template <typename T>
__device__ T to_input(double v) {
  return T(v);  // float, double, int8_t
}
template <>
__device__ __half to_input<__half>(double v) {
  return __float2half_rn(float(v));
}
template <>
__device__ __nv_bfloat16 to_input<__nv_bfloat16>(double v) {
  return __float2bfloat16_rn(float(v));
}
template <>
__device__ __nv_fp8_e4m3 to_input<__nv_fp8_e4m3>(double v) {
  return __nv_fp8_e4m3(float(v));
}

template <typename T>
__global__ void fill_inputs(T* out, std::uint64_t count, std::uint64_t seed, int matrix, int bits, int min_exp) {
  const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
  for (std::uint64_t i = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    out[i] = to_input<T>(gemm::input_value(seed, matrix, i, bits, min_exp));
}

template <typename T>
void launch_fill(void* out, std::uint64_t count, std::uint64_t seed, int matrix, const gemm::Traits& t, int sms,
                 cudaStream_t stream) {
  const std::uint64_t blocks = std::min<std::uint64_t>((count + 255) / 256, std::uint64_t(sms > 0 ? sms : 1) * 32);
  fill_inputs<T><<<unsigned(blocks), 256, 0, stream>>>(static_cast<T*>(out), count, seed, matrix, t.input_bits,
                                                         t.input_min_exp);
  CONVERGE_CUDA_CHECK(cudaGetLastError());
}

class GpuGemm final : public CudaBenchmark {
 public:
  explicit GpuGemm(Precision p) : p_(p), t_(gemm::traits(p)) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context&) override {
    if (auto st = open_device(params); st.kind != core::SetupStatus::Kind::ok) return st;
    if (auto why = gemm::unsupported_reason(p_, gpu().cc_major, gpu().cc_minor)) return core::SetupStatus::skip(*why);
    n_ = std::uint64_t(params.integer("n"));
    seed_ = std::uint64_t(params.integer("seed"));
    if (auto why = gemm::layout_problem(p_, n_)) return core::SetupStatus::fail(*why);
    const std::uint64_t nn = n_ * n_, workspace = params.size("workspace");
    a_ = ccuda::DeviceBuffer<unsigned char>(nn * t_.in_bytes);
    b_ = ccuda::DeviceBuffer<unsigned char>(nn * t_.in_bytes);
    d_ = ccuda::DeviceBuffer<unsigned char>(nn * t_.out_bytes);
    if (workspace > 0) workspace_ = ccuda::DeviceBuffer<unsigned char>(workspace);
    fill(a_.data(), 0);
    fill(b_.data(), 1);
    // 0x7F bytes are NaN (fp16) or about 3e38 / 1e306 / 2139062143 elsewhere, never a result:
    // an entry the GEMM did not write fails verification.
    CONVERGE_CUDA_CHECK(cudaMemsetAsync(d_.data(), 0x7F, d_.bytes(), stream()));
    lt_ = std::make_unique<ccuda::LtHandle>();
    auto plan = gemm::LtGemm::plan(lt_->get(), p_, n_, workspace);
    if (!plan) return core::SetupStatus::fail(plan.error());
    plan_ = std::move(*plan);
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    return core::SetupStatus::ok();
  }

  void run() override { plan_->enqueue(stream(), a_.data(), b_.data(), d_.data(), workspace_.data()); }

  core::Verification verify() override {
    const auto positions = gemm::sample_positions(seed_, n_);
    const std::size_t bytes = std::size_t(t_.out_bytes);
    std::vector<unsigned char> raw(positions.size() * bytes);
    for (std::size_t s = 0; s < positions.size(); ++s) {
      const std::uint64_t at = gemm::d_index(n_, positions[s].i, positions[s].j) * bytes;
      CONVERGE_CUDA_CHECK(
          cudaMemcpyAsync(raw.data() + s * bytes, d_.data() + at, bytes, cudaMemcpyDeviceToHost, stream()));
    }
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    std::vector<double> got;
    for (std::size_t s = 0; s < positions.size(); ++s) got.push_back(gemm::decode_output(p_, raw.data() + s * bytes));
    return gemm::check_entries(p_, seed_, n_, positions, got, plan_->split());
  }

  void teardown() override {
    plan_.reset();
    lt_.reset();
    a_ = {}, b_ = {}, d_ = {}, workspace_ = {};
  }

  core::WorkModel work() const override { return gemm::gemm_work(p_, n_); }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    if (p_ != Precision::fp64) return device_peak(std::string("gpu.tensor.") + t_.name, ctx);
    if (auto tensor = device_peak("gpu.tensor.fp64", ctx)) return tensor;
    return device_peak("gpu.fp64", ctx);  // no FP64 Tensor Cores: the FP64 units run it
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    std::map<std::string, std::string> n = {
        {"cublas", ccuda::cublas_version_text()},
        {"layout", "TN, column-major: D (n x n, ldd = n) = op(A) B, op(A) = A^T; A and B stored k-contiguous "
                   "(lda = ldb = n); alpha = 1, beta = 0, C = D"},
        {"types", t_.types},
        {"compute_type", t_.compute},
        {"inputs", std::string("generated on the device, splitmix64(seed, matrix, index) -> ") +
                       (p_ == Precision::int8 ? "uniform integers in [-64, 63]"
                                              : "uniform in [-1, 1) rounded to " + std::to_string(t_.input_bits) +
                                                    " significant bits (exact in the input type)") +
                       (p_ == Precision::tf32 ? "; the Tensor Cores use 10 of the 23 stored mantissa bits" : "")},
        {"matrix_bytes", std::to_string(n_ * n_ * std::uint64_t(t_.in_bytes)) + " (A; B the same)"}};
    if (plan_) {
      n["algo"] = plan_->algo_text();
      n["workspace"] = std::to_string(workspace_.bytes()) + " B offered (cuBLAS recommends 32 MiB on Hopper, "
                       "4 MiB before), " + std::to_string(plan_->workspace_used()) + " B used by the algorithm";
    }
    if (p_ == Precision::fp64) n["fp64_units"] = gemm::fp64_units(gpu().cc_major, gpu().cc_minor);
    if (p_ == Precision::fp8) n["fp8_fast_accum"] = "off (CUBLASLT_MATMUL_DESC_FAST_ACCUM = 0: partial sums promoted to fp32)";
    return n;
  }

 private:
  void fill(unsigned char* out, int matrix) {
    const std::uint64_t count = n_ * n_;
    const int sms = gpu().sm_count;
    switch (p_) {
      case Precision::fp16: return launch_fill<__half>(out, count, seed_, matrix, t_, sms, stream());
      case Precision::bf16: return launch_fill<__nv_bfloat16>(out, count, seed_, matrix, t_, sms, stream());
      case Precision::tf32: return launch_fill<float>(out, count, seed_, matrix, t_, sms, stream());
      case Precision::fp8: return launch_fill<__nv_fp8_e4m3>(out, count, seed_, matrix, t_, sms, stream());
      case Precision::int8: return launch_fill<std::int8_t>(out, count, seed_, matrix, t_, sms, stream());
      case Precision::fp64: return launch_fill<double>(out, count, seed_, matrix, t_, sms, stream());
    }
  }

  Precision p_;
  const gemm::Traits& t_;
  std::uint64_t n_ = 0, seed_ = 0;
  ccuda::DeviceBuffer<unsigned char> a_, b_, d_, workspace_;
  std::unique_ptr<ccuda::LtHandle> lt_;
  std::unique_ptr<gemm::LtGemm> plan_;
};

core::BenchmarkSpec spec(Precision p) {
  const gemm::Traits& t = gemm::traits(p);
  const core::MetricSpec metric =
      p == Precision::int8
          ? core::MetricSpec{"op_rate", "OP/s", core::MetricKind::rate, core::Quantity::items,
                             core::Direction::higher_is_better}
          : core::MetricSpec{"flop_rate", "FLOP/s", core::MetricKind::rate, core::Quantity::flops,
                             core::Direction::higher_is_better};
  return {std::string("micro.gpu_gemm.") + t.name, "micro", "cuda",
          std::string(t.name) + (p == Precision::fp64 ? " GEMM (FP64 Tensor Cores where the device has them)" : " Tensor Core GEMM") +
              " through cublasLtMatmul (" + t.compute + "), square n, TN, best heuristic algorithm",
          {{"n", core::ParamType::integer, "8192", "matrix order: A, B, D are n x n (fp8: a multiple of 16, int8: of 4)",
            {}, 1.0, 131072.0},
           {"seed", core::ParamType::integer, "42", "seed of the inputs, hashed with (matrix, index) on the device", {},
            0.0, std::nullopt},
           {"workspace", core::ParamType::size, "32MiB", "cuBLASLt workspace offered to the heuristic and the matmul",
            {}, 0.0, std::nullopt},
           device_param()},
          {metric},
          [p] { return std::make_unique<GpuGemm>(p); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(gpu_gemm_fp16, spec(Precision::fp16));
CONVERGE_REGISTER_BENCHMARK(gpu_gemm_bf16, spec(Precision::bf16));
CONVERGE_REGISTER_BENCHMARK(gpu_gemm_tf32, spec(Precision::tf32));
CONVERGE_REGISTER_BENCHMARK(gpu_gemm_fp8, spec(Precision::fp8));
CONVERGE_REGISTER_BENCHMARK(gpu_gemm_int8, spec(Precision::int8));
CONVERGE_REGISTER_BENCHMARK(gpu_gemm_fp64, spec(Precision::fp64));

}  // namespace converge::micro::cuda
