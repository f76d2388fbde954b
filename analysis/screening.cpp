#include "analysis/screening.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace converge::analysis {

using results::json;

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

std::pair<double, double> median_mad(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double x) { return !std::isfinite(x); }),
               values.end());
  if (values.empty()) return {std::nan(""), std::nan("")};
  const double med = median_of(values);
  for (double& x : values) x = std::fabs(x - med);
  return {med, median_of(values)};
}

std::vector<ScreenGroup> screen_nodes(const json& results, const std::vector<std::string>& hosts,
                                      const std::map<int, std::string>& given, const ScreenOptions& o) {
  std::map<int, ScreenGroup> groups;
  for (const auto& r : results) {
    const int inst = r.value("instance", -1);
    auto& g = groups[inst];
    g.instance = inst;
    g.benchmark = r.value("benchmark", "");
    if (auto it = given.find(inst); it != given.end()) g.params = it->second;
    NodeFigure f;
    f.host = r.value("host", "");
    f.status = r.value("status", "");
    f.reason = r.value("reason", "");
    f.value = std::nan("");
    const json metrics = r.value("metrics", json::array());
    if (f.status == "ok" && !metrics.empty()) {
      const auto& m = metrics[0];
      g.metric = m.value("name", "");
      g.unit = m.value("unit", "");
      g.direction = m.value("direction", "higher_is_better");
      if (m["value"].is_number()) f.value = m["value"].get<double>();
    }
    g.nodes.push_back(f);
  }
  std::vector<ScreenGroup> out;
  for (auto& [inst, g] : groups) {
    for (const auto& h : hosts)
      if (std::none_of(g.nodes.begin(), g.nodes.end(), [&](const NodeFigure& f) { return f.host == h; }))
        g.nodes.push_back({h, std::nan(""), "missing", "no result from this node"});
    std::sort(g.nodes.begin(), g.nodes.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
    std::vector<double> values;
    for (const auto& f : g.nodes) values.push_back(f.value);
    std::tie(g.median, g.mad) = median_mad(values);
    const auto with_figures = std::count_if(values.begin(), values.end(), [](double x) { return std::isfinite(x); });
    for (const auto& f : g.nodes) {
      if (!std::isfinite(f.value)) {
        if (f.status == "skipped") continue;  // skipped everywhere alike is not a node problem
        g.outliers.push_back({f.host, f.value, std::nan(""), std::nan(""), f.status});
        continue;
      }
      if (with_figures < 3) continue;
      const double dev = (f.value - g.median) / g.median;
      const double z = g.mad > 0 ? 0.6745 * (f.value - g.median) / g.mad
                                 : (f.value == g.median ? 0 : std::copysign(std::numeric_limits<double>::infinity(), dev));
      if (std::fabs(z) <= o.z_threshold || std::fabs(dev) < o.min_deviation) continue;
      const bool worse = g.direction == "lower_is_better" ? dev > 0 : dev < 0;
      g.outliers.push_back({f.host, f.value, dev, z, worse ? "slow" : "fast"});
    }
    if (with_figures < 3) g.note = "fewer than 3 nodes with figures: no outlier test";
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<Difference> inventory_differences(const std::map<std::string, json>& by_host, const std::string& host) {
  std::vector<Difference> out;
  auto self = by_host.find(host);
  if (self == by_host.end() || by_host.size() < 3) return out;
  std::map<std::string, std::map<std::string, std::string>> flat;
  std::set<std::string> keys;
  for (const auto& [h, inv] : by_host) {
    flat[h] = flatten_inventory(inv);
    for (const auto& [k, v] : flat[h]) keys.insert(k);
  }
  const std::string unset = "(unset)";
  for (const auto& key : keys) {
    if (differs_by_nature(key)) continue;
    std::map<std::string, int> counts;
    for (const auto& [h, f] : flat) {
      auto it = f.find(key);
      ++counts[it == f.end() ? unset : it->second];
    }
    auto usual = std::max_element(counts.begin(), counts.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
    auto mine = flat[host].find(key);
    const std::string value = mine == flat[host].end() ? unset : mine->second;
    // Only a clear majority says what "usual" is.
    if (value != usual->first && 2 * usual->second > static_cast<int>(by_host.size()))
      out.push_back({key, value, usual->first});
  }
  return out;
}

}  // namespace converge::analysis
