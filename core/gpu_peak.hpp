#pragma once
// GPU peak model: dense operations per clock per SM, per architecture and precision, on the
// CUDA cores and on the Tensor Cores; peaks = SM count x that figure x the SM clock, and the
// memory peak = 2 (double data rate) x memory clock x bus width. Pure data and arithmetic, so
// it is unit-tested without a GPU.
#include <optional>
#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/peak.hpp"

namespace converge::core {

/// The precisions the GPU table knows, as they appear in peak ids: "gpu.<p>" (CUDA cores:
/// fp64, fp32, fp16, bf16) and "gpu.tensor.<p>" (fp64, tf32, fp16, bf16, fp8, int8).
const std::vector<std::string>& gpu_core_precisions();
const std::vector<std::string>& gpu_tensor_precisions();

/// Dense operations per clock per SM (an FMA counts 2) for compute capability major.minor on
/// `unit` ("core" or "tensor"); nullopt when the architecture lacks the precision there or the
/// table has no entry for it (the peak is then absent, never guessed).
std::optional<double> gpu_ops_per_clock_per_sm(int cc_major, int cc_minor, const std::string& unit,
                                               const std::string& precision);

/// The architecture's name for a compute capability ("Hopper"), "" when unknown.
std::string gpu_architecture_name(int cc_major, int cc_minor);

/// Adds "gpu.*" peaks for one device: every precision the table has, at `sm_mhz` (0: the
/// device's maximum SM clock), and "gpu.mem_bw" from the memory clock and bus width. Each
/// peak's assumptions name the device, the factors and the clock.
void add_gpu_peaks(PeakModel& model, const GpuInventory& gpu, double sm_mhz = 0);

/// The peak with `id` for device `gpu`: the run's model figure (ctx.peaks) when it describes
/// the same GPU model or was set in the site config, else computed for this device.
std::optional<Peak> gpu_peak(const PeakModel* model, const GpuInventory& gpu, const std::string& id);

}  // namespace converge::core
