#include "core/energy/meter.hpp"

#include <fmt/format.h>

#include "core/energy/ipmi.hpp"
#include "core/energy/likwid.hpp"
#include "core/energy/nvml.hpp"
#include "core/energy/rapl.hpp"

namespace converge::core::energy {

#ifndef CONVERGE_HAVE_LIKWID
// likwid.cpp is compiled only where CMake found likwid.h and liblikwid.
Expected<std::unique_ptr<Meter>> open_likwid() { return make_error("built without likwid (Debian package likwid)"); }
#endif

namespace {

struct Known {
  const char* name;
  Expected<std::unique_ptr<Meter>> (*open)();
};

Expected<std::unique_ptr<Meter>> rapl() { return open_rapl(); }
Expected<std::unique_ptr<Meter>> nvml() { return open_nvml(); }
Expected<std::unique_ptr<Meter>> ipmi() { return open_ipmi(); }
Expected<std::unique_ptr<Meter>> likwid() { return open_likwid(); }

const Known kMeters[] = {{"rapl", rapl}, {"nvml", nvml}, {"ipmi", ipmi}, {"likwid", likwid}};

}  // namespace

std::vector<std::string> meter_names() {
  std::vector<std::string> out;
  for (const auto& m : kMeters) out.push_back(m.name);
  return out;
}

Expected<std::unique_ptr<Meter>> open_meter(const std::string& name) {
  for (const auto& m : kMeters)
    if (name == m.name) return m.open();
  return make_error(fmt::format("no energy meter '{}' in this build (meters: {})", name, fmt::join(meter_names(), ", ")));
}

}  // namespace converge::core::energy
