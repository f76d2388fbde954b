#pragma once
// Energy meters (DESIGN.md, concept: energy meter): sources of energy or power readings,
// each with named domains ("package-0", "dram-0", "gpu-0", "node"). The harness reads them
// around a benchmark's timed region (core/energy/recorder.hpp); a meter that cannot be read
// says why, and the figure is "not measured" with that reason, never invented.
//
// RAPL reads sysfs, NVML is loaded with dlopen, IPMI runs ipmitool: none needs an SDK at
// build time; likwid links Debian's likwid library where it is found (else it reports "built
// without likwid"). Each lives in its own file here and is listed in meter.cpp's table.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.hpp"

namespace converge::core::energy {

class Meter {
 public:
  virtual ~Meter() = default;
  /// "rapl", "nvml", "ipmi", "likwid".
  virtual std::string name() const = 0;
  /// Domain names, in the order read() returns them: "package-0", "dram-0", "gpu-0", "node".
  virtual std::vector<std::string> domains() const = 0;
  /// true: read() returns cumulative joules per domain, from an arbitrary origin, with counter
  /// wraparound already unfolded by the meter (it must be read at least once per wrap period;
  /// the recorder samples counters too). false: read() returns instantaneous watts.
  virtual bool counts_energy() const = 0;
  /// Smallest step of a reading: joules for counters, watts for power meters.
  virtual double resolution() const = 0;
  /// How often the sensor's value changes (RAPL ~1 ms, NVML ~100 ms, IPMI DCMI ~1 s).
  virtual double update_period_s() const = 0;
  /// Reads every domain. An error names the domain and the reason.
  virtual Expected<std::vector<double>> read() = 0;
  /// Health telemetry read at the start and end of a region ("gpu-0.sm_clock_mhz",
  /// "gpu-0.temperature_c", "gpu-0.throttle_reasons", "gpu-0.ecc_uncorrected", ...). Default: none.
  virtual std::map<std::string, double> telemetry() { return {}; }
  /// Conditions found during the region that make its figures untrustworthy ("gpu-0 throttled:
  /// power cap"), from telemetry before and after. Default: none.
  virtual std::vector<std::string> flags(const std::map<std::string, double>& before,
                                         const std::map<std::string, double>& after) const {
    (void)before, (void)after;
    return {};
  }
};

/// Opens the named meter ("rapl", "nvml", "ipmi", "likwid"); the error is the reason it cannot be used
/// here ("no powercap directory /sys/class/powercap", "libnvidia-ml.so.1 not found",
/// "permission denied on .../energy_uj"), or, for an unknown name, the known ones.
Expected<std::unique_ptr<Meter>> open_meter(const std::string& name);
/// The meters this build knows, in the order `auto` tries them.
std::vector<std::string> meter_names();

}  // namespace converge::core::energy
