#include "analysis/inventory_diff.hpp"

#include <set>

namespace converge::analysis {

using results::json;

namespace {

void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (j.is_array() && !j.empty() && j.front().is_object()) {
    for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], prefix + "[" + std::to_string(i) + "]", out);
  } else {
    out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
  }
}

}  // namespace

std::map<std::string, std::string> flatten_inventory(const json& inventory) {
  std::map<std::string, std::string> out;
  flatten(inventory, "", out);
  return out;
}

bool differs_by_nature(const std::string& key) {
  static const char* const exact[] = {"hostname", "memory.available_bytes", "warnings"};
  for (const char* e : exact)
    if (key == e) return true;
  return key.rfind("environment.SLURM", 0) == 0;  // job, node, rank and step ids
}

std::vector<Difference> inventory_changes(const json& before, const json& after) {
  const auto a = flatten_inventory(before), b = flatten_inventory(after);
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<Difference> out;
  for (const auto& k : keys) {
    if (differs_by_nature(k)) continue;
    const auto ia = a.find(k), ib = b.find(k);
    const std::string va = ia == a.end() ? "(unset)" : ia->second, vb = ib == b.end() ? "(unset)" : ib->second;
    if (va != vb) out.push_back({k, vb, va});
  }
  return out;
}

}  // namespace converge::analysis
