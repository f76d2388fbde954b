#pragma once
// NVIDIA GPUs through NVML, loaded at run time with dlopen (no build-time dependency): one
// domain per GPU ("gpu-0"), from the total-energy counter where the GPU has one (Volta and
// later), else power samples; telemetry (SM and memory clocks, temperature, throttle
// reasons, ECC and retired-page counts) and flags for throttling and new errors.
#include <memory>
#include <string>

#include "core/energy/meter.hpp"

namespace converge::core::energy {

struct NvmlOptions {
  /// The library to load: "" means $CONVERGE_NVML_LIBRARY if set (tests point it at a fake
  /// NVML they build), else libnvidia-ml.so.1.
  std::string library;
};

Expected<std::unique_ptr<Meter>> open_nvml(const NvmlOptions& options = {});

}  // namespace converge::core::energy
