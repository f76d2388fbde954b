// micro.gpu_launch.{latency,roundtrip}: what a kernel launch costs as the host sees it.
// latency: `launches` launches of a one-thread kernel back to back, then one synchronisation;
// roundtrip: each launch followed by cudaStreamSynchronize. Both are timed with the host clock,
// since the host's calls are what they measure. Each launch adds one to a device counter, so
// verify() knows that every launch ran.
#include "core/cuda/device_memory.hpp"
#include "micro/cuda/cuda_common.hpp"
#include "micro/cuda/peakflops_kernels.hpp"

namespace converge::micro::cuda {
namespace {

// One thread; launches on one stream run in order, so a plain increment counts them exactly.
__global__ void count_launch(unsigned long long* counter) { *counter += 1; }

class GpuLaunch final : public CudaBenchmark {
 public:
  explicit GpuLaunch(bool roundtrip) : roundtrip_(roundtrip) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context&) override {
    if (auto st = open_device(params); st.kind != core::SetupStatus::Kind::ok) return st;
    launches_ = std::uint64_t(params.integer("launches"));
    counter_ = ccuda::DeviceBuffer<unsigned long long>(1);
    CONVERGE_CUDA_CHECK(cudaMemsetAsync(counter_.data(), 0, counter_.bytes(), stream()));
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    return core::SetupStatus::ok();
  }

  std::unique_ptr<core::Timer> make_timer() const override { return std::make_unique<core::HostTimer>(); }

  void run() override {
    ++runs_;
    for (std::uint64_t i = 0; i < launches_; ++i) {
      count_launch<<<1, 1, 0, stream()>>>(counter_.data());
      if (roundtrip_) {
        CONVERGE_CUDA_CHECK(cudaGetLastError());
        CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
      }
    }
    if (!roundtrip_) {
      // A failed launch stays the last error until it is read, so one check after the batch
      // sees a failure in any launch without adding a call to each one.
      CONVERGE_CUDA_CHECK(cudaGetLastError());
      CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    }
  }

  core::Verification verify() override {
    unsigned long long counter = 0;
    CONVERGE_CUDA_CHECK(cudaMemcpyAsync(&counter, counter_.data(), sizeof counter, cudaMemcpyDeviceToHost, stream()));
    CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream()));
    return gpu_fma::check_launch_count(counter, runs_, launches_);
  }

  core::WorkModel work() const override { return {0, 0, double(launches_)}; }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    if (launches_ == 0) return {};  // skipped
    return {{"timer", "host steady clock around run() (includes the host's launch and synchronise calls)"},
            {"kernel", "<<<1, 1>>> on the benchmark's stream, adding one to a device counter"},
            {"item", roundtrip_ ? "one launch followed by cudaStreamSynchronize: launch to completion as the host "
                                  "sees it"
                                : "one launch in a batch of `launches` back to back, then one cudaStreamSynchronize "
                                  "(amortised over the batch): the host's enqueue cost, or the device's launch "
                                  "throughput where that is slower"}};
  }

 private:
  bool roundtrip_;
  std::uint64_t launches_ = 0, runs_ = 0;
  ccuda::DeviceBuffer<unsigned long long> counter_;
};

core::BenchmarkSpec spec(bool roundtrip) {
  return {std::string("micro.gpu_launch.") + (roundtrip ? "roundtrip" : "latency"), "micro", "cuda",
          roundtrip ? "empty kernel launch + cudaStreamSynchronize, host-timed, per launch"
                    : "empty kernel launches back to back, host-timed, per launch",
          {device_param(),
           {"launches", core::ParamType::integer, "1000", "kernel launches per repetition", {}, 1.0, std::nullopt}},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better}},
          [roundtrip] { return std::make_unique<GpuLaunch>(roundtrip); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(gpu_launch_latency, spec(false));
CONVERGE_REGISTER_BENCHMARK(gpu_launch_roundtrip, spec(true));

}  // namespace converge::micro::cuda
