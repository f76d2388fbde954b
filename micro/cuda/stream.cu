// micro.gpu_stream.{copy,mul,add,triad,dot}: device-memory (HBM) bandwidth with BabelStream's
// kernels on double arrays, one kernel per benchmark, repeated on the same inputs so that every
// element's value is known exactly (stream_kernels.hpp). Bytes are counted as BabelStream does.
//
// Launch shape (why): copy/mul/add/triad run one element per thread in `block`-thread blocks
// (default 1024, BabelStream's CUDA TBSIZE): no loop, each thread issues its loads at once. At
// full occupancy (2048 threads per SM on sm_80/sm_90, these kernels need < 32 registers) an
// H100 has 132 x 2048 threads x 16 B = 4.3 MB of loads in flight, about twice what Little's law
// asks of HBM3 (3.35 TB/s x ~0.6 us); a grid-stride loop would keep no more bytes in flight
// (each iteration's loads wait on nothing but are issued one iteration at a time) and adds
// loop overhead. dot needs a fixed grid for its partial sums: exactly one full wave (blocks
// per SM at full occupancy x SMs), so no block waits for a second wave.
#include <cuda_runtime.h>

#include <vector>

#include "core/cuda/device_memory.hpp"
#include "micro/cuda/cuda_common.hpp"
#include "micro/cuda/stream_kernels.hpp"

namespace converge::micro::cuda {
namespace {

using K = GpuStreamKernel;

__global__ void init_kernel(K k, double* a, double* b, double* c, std::size_t n) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += stride) {
    a[i] = gpu_stream_initial(k, 0, i);
    b[i] = gpu_stream_initial(k, 1, i);
    c[i] = gpu_stream_initial(k, 2, i);
  }
}

template <K Kernel>
__global__ void array_kernel(double* a, double* b, double* c, std::size_t n) {
  const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (i < n) gpu_stream_element<Kernel>(a, b, c, i);
}

// Shared-memory tree over the block (blockDim.x a power of 2); the sum is returned to thread 0
// only: the others would read smem[0] while thread 0 writes it in the last step (a race).
__device__ double block_sum(double v) {
  extern __shared__ double smem[];
  smem[threadIdx.x] = v;
  for (unsigned offset = blockDim.x / 2; offset > 0; offset /= 2) {
    __syncthreads();
    if (threadIdx.x < offset) smem[threadIdx.x] += smem[threadIdx.x + offset];
  }
  return threadIdx.x == 0 ? smem[0] : 0.0;
}

__global__ void dot_kernel(const double* a, const double* b, double* partial, std::size_t n) {
  const double s = gpu_stream_dot_thread(a, b, n, blockIdx.x * std::size_t(blockDim.x) + threadIdx.x,
                                         std::size_t(gridDim.x) * blockDim.x);
  const double total = block_sum(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// One block sums the per-block partial sums, in the timed region (no host round trip).
__global__ void dot_final_kernel(const double* partial, unsigned count, double* result) {
  double s = 0;
  for (unsigned i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  const double total = block_sum(s);
  if (threadIdx.x == 0) *result = total;
}

class GpuStream final : public CudaBenchmark {
 public:
  explicit GpuStream(K k) : k_(k) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context&) override {
    if (auto st = open_device(params); st.kind != core::SetupStatus::Kind::ok) return st;
    if (params.is_auto("n")) {
      n_ = gpu_stream_auto_elements(gpu().l2_bytes, gpu().memory_bytes);
      n_how_ = "auto: max(2^25, 4 x L2 = " + std::to_string(4 * gpu().l2_bytes) +
               " B) rounded up to 2^20 elements, three arrays <= 1/2 of device memory";
    } else {
      n_ = std::uint64_t(params.integer("n"));
    }
    params.resolve("n", std::to_string(n_));
    block_ = unsigned(std::stoul(params.text("block")));
    if (grid() > 0x7fffffffu)
      return core::SetupStatus::fail("n = " + std::to_string(n_) + " needs more than 2^31 - 1 blocks");
    if (3 * 8 * n_ > gpu().memory_bytes)
      return core::SetupStatus::fail("n = " + std::to_string(n_) + " needs " + std::to_string(3 * 8 * n_) +
                                     " B for three arrays; the device has " + std::to_string(gpu().memory_bytes));
    a_ = ccuda::DeviceBuffer<double>(n_), b_ = ccuda::DeviceBuffer<double>(n_), c_ = ccuda::DeviceBuffer<double>(n_);
    init_kernel<<<unsigned(std::min<std::uint64_t>(grid(), 65536)), block_, 0, stream()>>>(k_, a_.data(), b_.data(),
                                                                                           c_.data(), n_);
    CONVERGE_CUDA_CHECK(cudaGetLastError());
    if (k_ == K::dot) {
      int per_sm = 0;
      CONVERGE_CUDA_CHECK(
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, dot_kernel, int(block_), smem_bytes()));
      if (per_sm < 1)
        return core::SetupStatus::fail("dot_kernel cannot run with " + std::to_string(block_) + " threads");
      dot_per_sm_ = unsigned(per_sm);
      dot_blocks_ = dot_per_sm_ * unsigned(gpu().sm_count);
      partial_ = ccuda::DeviceBuffer<double>(dot_blocks_);
      result_ = ccuda::DeviceBuffer<double>(1);
      CONVERGE_CUDA_CHECK(cudaMemsetAsync(result_.data(), 0, sizeof(double), stream()));  // 0: no n's dot
    }
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    ready_ = true;
    return core::SetupStatus::ok();
  }

  void run() override {
    double *a = a_.data(), *b = b_.data(), *c = c_.data();
    const unsigned g = unsigned(grid());
    switch (k_) {
      case K::copy: array_kernel<K::copy><<<g, block_, 0, stream()>>>(a, b, c, n_); break;
      case K::mul: array_kernel<K::mul><<<g, block_, 0, stream()>>>(a, b, c, n_); break;
      case K::add: array_kernel<K::add><<<g, block_, 0, stream()>>>(a, b, c, n_); break;
      case K::triad: array_kernel<K::triad><<<g, block_, 0, stream()>>>(a, b, c, n_); break;
      case K::dot:
        dot_kernel<<<dot_blocks_, block_, smem_bytes(), stream()>>>(a, b, partial_.data(), n_);
        CONVERGE_CUDA_CHECK(cudaGetLastError());
        dot_final_kernel<<<1, block_, smem_bytes(), stream()>>>(partial_.data(), dot_blocks_, result_.data());
        break;
    }
    CONVERGE_CUDA_CHECK(cudaGetLastError());
  }

  /// Copies a, b, c back in chunks (host memory stays bounded) and checks every element.
  core::Verification verify() override {
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));  // cudaMemcpy does not wait for a non-blocking stream
    const std::uint64_t chunk = std::min<std::uint64_t>(n_, std::uint64_t(1) << 24);
    std::vector<double> host(chunk);
    GpuStreamCheck acc;
    const double* arrays[3] = {a_.data(), b_.data(), c_.data()};
    for (int x = 0; x < 3; ++x)
      for (std::uint64_t first = 0; first < n_; first += chunk) {
        const std::uint64_t count = std::min(chunk, n_ - first);
        CONVERGE_CUDA_CHECK(cudaMemcpy(host.data(), arrays[x] + first, count * sizeof(double), cudaMemcpyDeviceToHost));
        gpu_stream_check(k_, x, host.data(), first, count, acc);
      }
    double dot = 0;
    if (k_ == K::dot) CONVERGE_CUDA_CHECK(cudaMemcpy(&dot, result_.data(), sizeof dot, cudaMemcpyDeviceToHost));
    return gpu_stream_verification(k_, n_, acc, dot);
  }

  void teardown() override {
    a_ = {};
    b_ = {};
    c_ = {};
    partial_ = {};
    result_ = {};
  }

  core::WorkModel work() const override { return gpu_stream_work(k_, n_); }

  std::optional<core::Peak> peak(const std::string&, const core::Context& ctx) const override {
    return device_peak("gpu.mem_bw", ctx);
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    if (!ready_) return {};  // setup skipped or failed
    std::map<std::string, std::string> n = {
        {"array_bytes", std::to_string(n_ * sizeof(double))},
        {"n_auto", n_how_},
        {"scalar", "0.4"},
        {"bytes_counted", "BabelStream: 8 B read per input array and 8 B written per output array per element"}};
    if (k_ == K::dot)
      n["kernel"] = "grid-stride sum on " + std::to_string(dot_blocks_) + " blocks x " + std::to_string(block_) +
                    " threads (" + std::to_string(dot_per_sm_) + " per SM at full occupancy x " +
                    std::to_string(gpu().sm_count) + " SMs: one wave), shared-memory tree per block, partial sums "
                    "added on the device by a one-block kernel (timed)";
    else
      n["kernel"] = "one element per thread, " + std::to_string(grid()) + " blocks x " + std::to_string(block_) +
                    " threads";
    return n;
  }

 private:
  std::uint64_t grid() const { return (n_ + block_ - 1) / block_; }
  std::size_t smem_bytes() const { return std::size_t(block_) * sizeof(double); }

  K k_;
  std::uint64_t n_ = 0;
  unsigned block_ = 1024, dot_blocks_ = 0, dot_per_sm_ = 0;
  std::string n_how_ = "given";
  bool ready_ = false;
  ccuda::DeviceBuffer<double> a_, b_, c_, partial_, result_;
};

core::BenchmarkSpec spec(K k) {
  const std::string name = to_string(k);
  return {"micro.gpu_stream." + name, "micro", "cuda",
          "BabelStream " + name + " on double arrays in device memory (HBM bandwidth)",
          {{"n", core::ParamType::integer, "auto",
            "elements per array (auto = max(2^25, 4 x L2) rounded up to 2^20, three arrays <= 1/2 of device memory)",
            {}, 1.0, std::nullopt},
           {"block", core::ParamType::choice, "1024", "threads per block (dot: also the reduction width)",
            {"64", "128", "256", "512", "1024"}, std::nullopt, std::nullopt},
           device_param()},
          {{"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better}},
          [k] { return std::make_unique<GpuStream>(k); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(gpu_stream_copy, spec(K::copy));
CONVERGE_REGISTER_BENCHMARK(gpu_stream_mul, spec(K::mul));
CONVERGE_REGISTER_BENCHMARK(gpu_stream_add, spec(K::add));
CONVERGE_REGISTER_BENCHMARK(gpu_stream_triad, spec(K::triad));
CONVERGE_REGISTER_BENCHMARK(gpu_stream_dot, spec(K::dot));

}  // namespace converge::micro::cuda
