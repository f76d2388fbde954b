#pragma once
// RAPL energy counters through Linux powercap sysfs (intel-rapl, and AMD's energy driver that
// exposes the same tree): one domain per package ("package-0") and its DRAM/core/uncore
// subzones ("dram-0", ...), cumulative joules with wraparound unfolded via max_energy_range_uj.
// Every domain is read once at open: if any is unreadable (energy_uj is root-only since Linux
// 5.10) open fails naming each one, rather than drop it and under-count the node total.
// intel-rapl-mmio zones repeat the package counters and are used only when no intel-rapl exists.
#include <memory>
#include <string>

#include "core/energy/meter.hpp"

namespace converge::core::energy {

struct RaplOptions {
  std::string root = "/sys/class/powercap";  ///< injectable: tests point it at a fake tree
};

Expected<std::unique_ptr<Meter>> open_rapl(const RaplOptions& options = {});

}  // namespace converge::core::energy
