#pragma once
// RAPL energy counters read through likwid (liblikwid, Debian package likwid) and its access
// daemon, for machines where likwid-accessD may read MSRs but powercap sysfs is unusable. One
// hardware thread per package reads that package's domains: "package-N" (likwid PKG),
// "core-N" (PP0; CORE on AMD), "uncore-N" (PP1), "dram-N" (DRAM), and "psys" (PLATFORM, read
// once). Cumulative joules: the 32-bit counters' wraparound is unfolded here, each domain
// converted with its own energy unit.
//
// likwid calls exit() inside the calling process when its access daemon is missing or does not
// start, so open_likwid() first tries the whole set-up in a forked child and opens the meter
// only if that succeeded; otherwise the error is the reason, with what likwid printed. likwid's
// state is process-wide: one likwid meter may be open at a time.
//
// Built only when CMake finds likwid (CONVERGE_HAVE_LIKWID); otherwise open_likwid() says so.
#include <memory>

#include "core/energy/meter.hpp"

namespace converge::core::energy {

Expected<std::unique_ptr<Meter>> open_likwid();

}  // namespace converge::core::energy
