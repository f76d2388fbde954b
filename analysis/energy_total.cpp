#include "analysis/energy_total.hpp"

#include <map>
#include <string>

namespace converge::analysis {

using results::json;

json run_energy(const json& results) {
  double total = 0;
  int measured = 0, not_measured = 0;
  std::map<std::string, double> by_host, by_instance;
  for (const auto& r : results) {
    const json e = r.value("energy", json::object());
    if (!e.value("measured", false) || !e.contains("joules") || !e["joules"].is_number()) {
      ++not_measured;
      continue;
    }
    const double j = e["joules"].get<double>();
    ++measured;
    total += j;
    by_host[r.value("host", "")] += j;
    by_instance[std::to_string(r.value("instance", -1))] += j;
  }
  json hosts = json::object(), instances = json::object();
  for (const auto& [h, j] : by_host) hosts[h] = j;
  for (const auto& [i, j] : by_instance) instances[i] = j;
  return {{"measured", measured > 0},
          {"joules", measured > 0 ? json(total) : json(nullptr)},
          {"by_instance", instances},
          {"by_host", hosts},
          {"results_measured", measured},
          {"results_not_measured", not_measured}};
}

}  // namespace converge::analysis
