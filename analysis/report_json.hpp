#pragma once
// Reading run documents for the report (report.cpp, report_tiers.cpp): tolerant accessors
// (a missing or mistyped field reads as absent, NaN or "") and the few facts several tables
// need (the parameters the plan gave, a result's status text, its primary metric). Internal
// to analysis; not a public API.
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "results/run_document.hpp"

namespace converge::analysis::report_json {

using results::json;

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline double num(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}
inline std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
inline const json& member(const json& j, const char* key) {
  static const json null;
  return j.is_object() && j.contains(key) ? j[key] : null;
}
inline std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }
inline std::vector<std::string> strings(const json& array) {
  std::vector<std::string> out;
  for (const auto& v : array)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// The plan entries by instance: the parameters the plan gave each instance name it the way the
// user wrote it, and `ranks` says how many processes ran it.
inline std::map<int, json> plan_entries(const json& run) {
  std::map<int, json> entries;
  for (const auto& p : member(run, "plan"))
    if (p.is_object()) entries[p.value("instance", -1)] = p;
  return entries;
}
inline std::map<int, json> given_params(const json& run) {
  std::map<int, json> given;
  for (const auto& [i, p] : plan_entries(run)) given[i] = p.value("params", json::object());
  return given;
}
inline json given_for(const json& r, const std::map<int, json>& given) {
  auto it = given.find(r.value("instance", -1));
  return it != given.end() ? it->second : member(r, "params").is_object() ? r["params"] : json::object();
}
inline std::string given_text(const json& given) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : given.items()) parts.push_back(fmt::format("{}={}", k, text_of(v)));
  return fmt::format("{}", fmt::join(parts, " "));
}

inline std::string status_text(const json& r) {
  const std::string st = r.value("status", "?");
  if (st == "ok") return member(r, "verification").value("status", "") == "passed" ? "ok, verified" : "ok, unverified";
  const std::string reason = str(r, "reason");
  return reason.empty() ? st : st + ": " + reason;
}

inline const json* primary_metric(const json& r) {
  const json& m = member(r, "metrics");
  return m.is_array() && !m.empty() && m[0].is_object() ? &m[0] : nullptr;
}
inline bool is_ok(const json& r) { return r.value("status", "") == "ok" && primary_metric(r) != nullptr; }

inline std::string partition_label(const json& run) { return str(run, "site") + "/" + str(run, "partition"); }

}  // namespace converge::analysis::report_json
