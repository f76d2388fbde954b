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

/// What NVML says about one GPU for the inventory; a figure NVML cannot give stays 0 or "".
struct NvmlDeviceFacts {
  double sm_mhz = 0, mem_mhz = 0;   ///< current clocks
  double power_limit_w = 0;         ///< enforced power limit
  std::string ecc;                  ///< current ECC mode: "on", "off" or "" (not supported)
  std::string driver_version;       ///< "580.65.06"
};

/// Facts for the GPU with this UUID ("GPU-..."), or why NVML cannot give them.
Expected<NvmlDeviceFacts> nvml_device_facts(const std::string& uuid, const NvmlOptions& options = {});

}  // namespace converge::core::energy
