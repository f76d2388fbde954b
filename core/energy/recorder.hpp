#pragma once
// The energy of a timed region: every configured meter read at its start and end and, on a
// sampler thread, in between (power meters are integrated; counters are read often enough to
// unfold wraparound). Each domain's figure carries its quality (DESIGN.md, energy meter):
// method, resolution, sensor update period, coverage of the region, and the level of the
// EE HPC WG power measurement methodology it satisfies (Level 1: power averaged at 1 Hz or
// faster over the whole region; Level 2 adds idle power and at least 10 readings; Level 3
// integrates energy counters).
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/energy/meter.hpp"

namespace converge::core::energy {

struct DomainEnergy {
  std::string meter, domain;
  std::string method;          ///< "counter" (difference of cumulative joules) or "power" (integrated samples)
  double joules = 0;           ///< energy over the region
  double avg_watts = 0;        ///< joules / region_s
  double region_s = 0;         ///< the timed region's length
  double covered_s = 0;        ///< time span the readings cover
  int readings = 0;            ///< readings used, start and end included
  double resolution = 0;       ///< J for counters, W for power meters
  double update_period_s = 0;  ///< the sensor's
  int level = 0;               ///< EE HPC WG level satisfied (1..3), 0 when none
  bool low_confidence = false; ///< the region spans fewer than 10 sensor updates
  double idle_watts = std::nan("");  ///< from the idle baseline, NaN without one
};

struct EnergyResult {
  bool measured = false;
  /// Not measured: why, meter by meter ("rapl: no powercap directory /sys/class/powercap;
  /// nvml: NVML not found: ..."). Measured: meters that could not be used, if any.
  std::string reason = "not measured";
  std::vector<DomainEnergy> domains;
  /// The node's total: the "node" domain where a whole-node meter exists, else the sum of the
  /// package, dram and gpu domains (core, uncore and psys overlap them and are not added).
  double joules = 0, avg_watts = 0;
  std::string total_of;               ///< the domains the total is made of, e.g. "package-0+dram-0+gpu-0"
  /// With an idle baseline: the total's idle power, and the energy above it over the region.
  double idle_watts = std::nan(""), dynamic_joules = std::nan("");
  bool low_confidence = false;        ///< any domain of the total is
  std::vector<std::string> flags;     ///< throttling, clock drops, new ECC errors (from the meters)
  std::map<std::string, double> telemetry_before, telemetry_after;
  double sampler_cpu_fraction = 0;    ///< the sampler thread's CPU time per second of region
  /// Derived by the harness from the node total: each rate metric per watt ("FLOP/s/W"), and
  /// the energy of one repetition and of one work item.
  struct Efficiency {
    std::string metric, unit;
    double value = 0;
  };
  std::vector<Efficiency> efficiency;
  double joules_per_rep = 0;
};

/// "auto": the meters that need no configuration (rapl, nvml), those that open; "none": no
/// meter; otherwise a comma-separated list of meter names.
struct RecorderOptions {
  std::string meters = "auto";
  double sample_period_s = 0.1;  ///< 10 Hz: above Level 1's 1 Hz
  /// Flag a result whose clock ended below this fraction of its maximum (telemetry pairs
  /// "X.sm_clock_mhz" / "X.sm_clock_max_mhz"); 0: off.
  double min_clock_fraction = 0;
};

class Recorder {
 public:
  /// Opens the meters; those that cannot be opened are remembered with their reason.
  explicit Recorder(const RecorderOptions& options = {});
  /// Takes already opened meters (tests).
  Recorder(std::vector<std::unique_ptr<Meter>> meters, std::vector<std::string> unavailable,
           double sample_period_s = 0.1, double min_clock_fraction = 0);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  bool active() const { return !meters_.empty(); }
  /// Why nothing is measured (every meter's reason), or "" when a meter is active.
  std::string unavailable_reason() const;
  /// The slowest sensor among the meters (0 without meters): the harness makes the timed
  /// region span at least 10 of its updates when the budget allows.
  double slowest_update_period_s() const;

  /// Measures idle power for `seconds` with nothing running in this process (the idle
  /// baseline); later results then carry idle watts and dynamic energy, and power meters
  /// sampled at 1 Hz or faster with at least 10 readings satisfy Level 2.
  void measure_idle(double seconds);
  bool has_idle() const { return !idle_.empty(); }

  /// Reads every meter and starts the sampler. Errors of a meter during the region make its
  /// domains drop out of the result with the reason.
  void start();
  /// Stops the sampler, reads every meter again and computes the figures.
  EnergyResult stop();

 private:
  struct Series {
    std::vector<double> t;
    std::vector<std::vector<double>> v;
    std::string error;
  };
  void sample_all(double now, bool all);
  void sampler_loop();

  std::vector<std::unique_ptr<Meter>> meters_;
  std::vector<std::string> unavailable_;
  double period_s_ = 0.1;
  double min_clock_fraction_ = 0;
  std::vector<Series> series_;
  std::vector<std::map<std::string, double>> telemetry_before_;
  std::map<std::string, double> idle_;  ///< "meter/domain" -> idle watts
  double t0_ = 0;
  std::thread sampler_;
  struct Shared;
  std::unique_ptr<Shared> shared_;
};

/// "gpu-0 clock 1410 MHz at the end, below 90% of its 1980 MHz maximum" for every X with
/// X.sm_clock_mhz < fraction * X.sm_clock_max_mhz in `after`. Pure; unit-tested.
std::vector<std::string> clock_flags(const std::map<std::string, double>& after, double fraction);

/// Integrates power samples (t in s, watts) with the trapezoid rule. Pure; unit-tested.
double integrate_power(const std::vector<double>& t, const std::vector<double>& watts);

}  // namespace converge::core::energy
