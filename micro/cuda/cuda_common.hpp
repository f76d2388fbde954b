#pragma once
// What every CUDA microbenchmark shares: the `device` parameter, choosing and opening the
// device (or skipping with the reason), the stream the work and the event timer use, the
// device's peaks, and notes naming the device. Host code: included by .cu and .cpp files.
#include <cuda_runtime_api.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/benchmark.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/device.hpp"
#include "core/cuda/stream.hpp"
#include "core/gpu_peak.hpp"
#include "core/inventory.hpp"
#include "core/params.hpp"
#include "core/placement.hpp"

namespace converge::micro::cuda {

namespace ccuda = core::cuda;

/// The `device` parameter every CUDA benchmark declares.
inline core::ParamSpec device_param() {
  return {"device", core::ParamType::string, "auto",
          "CUDA device: index, UUID or UUID prefix (auto = local rank modulo the visible devices, so one "
          "process per GPU when the launcher starts one rank per GPU)",
          {}, std::nullopt, std::nullopt};
}

/// Base of the CUDA benchmarks: open_device() in setup, the event timer on stream(), peaks for
/// the device used, and its name, UUID and compute capability in notes().
class CudaBenchmark : public core::Benchmark {
 public:
  std::unique_ptr<core::Timer> make_timer() const override {
    return std::make_unique<ccuda::EventTimer>(stream_->get());
  }

  std::map<std::string, std::string> notes() const override {
    auto n = extra_notes();
    if (gpu_.uuid.empty()) return n;  // skipped before a device was opened
    n["device"] = gpu_.name;
    n["device_uuid"] = gpu_.uuid;
    n["compute_capability"] = std::to_string(gpu_.cc_major) + "." + std::to_string(gpu_.cc_minor);
    return n;
  }

 protected:
  /// Skips with the reason when no device is visible (or the driver cannot serve this
  /// runtime); fails when `device` names none of the visible ones. Then makes the device
  /// current, records the chosen index in `device`, reads its inventory and creates stream().
  core::SetupStatus open_device(core::ParamValues& params) {
    const auto a = ccuda::device_availability();
    if (a.count == 0) return core::SetupStatus::skip(a.reason);
    const auto index = ccuda::resolve_device(params.text("device"), core::detect_placement().local_rank);
    if (!index) return core::SetupStatus::fail(index.error());
    CONVERGE_CUDA_CHECK(cudaSetDevice(*index));
    params.resolve("device", std::to_string(*index));
    gpu_ = ccuda::gpu_inventory(*index);
    stream_ = std::make_unique<ccuda::Stream>();
    return core::SetupStatus::ok();
  }

  /// Peak `id` ("gpu.fp64", "gpu.tensor.bf16", "gpu.mem_bw") for the device in use.
  std::optional<core::Peak> device_peak(const std::string& id, const core::Context& ctx) const {
    return core::gpu_peak(ctx.peaks, gpu_, id);
  }

  /// Notes of the subclass; the device's are added by notes().
  virtual std::map<std::string, std::string> extra_notes() const { return {}; }

  cudaStream_t stream() const { return stream_->get(); }
  const core::GpuInventory& gpu() const { return gpu_; }

 private:
  core::GpuInventory gpu_;
  std::unique_ptr<ccuda::Stream> stream_;
};

}  // namespace converge::micro::cuda
