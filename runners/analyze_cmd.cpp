#include "runners/analyze_cmd.hpp"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "analysis/acceptance.hpp"
#include "analysis/changepoint.hpp"
#include "analysis/inventory_diff.hpp"
#include "analysis/regression.hpp"
#include "core/params.hpp"
#include "core/units.hpp"
#include "results/store.hpp"
#include "runners/results_cmd.hpp"
#include "runners/run.hpp"
#include "runners/site.hpp"
#include "runners/workers.hpp"

namespace converge::runners {

namespace fs = std::filesystem;
using results::json;

namespace {

core::Expected<results::Store> open_store(const std::string& db) {
  return results::Store::open(db.empty() ? results::default_store_path() : db);
}


// The params the suite gave an instance (the plan's), else the result's own.
json given_params(const json& run, const json& result) {
  const int inst = result.value("instance", -1);
  for (const auto& p : run.value("plan", json::array()))
    if (p.value("instance", -2) == inst) return p.value("params", json::object());
  return result.value("params", json::object());
}

std::string params_text(const json& params) {
  std::string out;
  for (const auto& [k, v] : params.items()) out += (out.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

// Instances of two runs are the same when benchmark, given params and rank agree.
std::string instance_key(const json& run, const json& r) {
  return fmt::format("{} {}#{}", r.value("benchmark", ""), params_text(given_params(run, r)), r.value("rank", 0));
}

std::vector<double> samples(const json& r) {
  std::vector<double> out;
  for (const auto& s : r.value("samples_s", json::array()))
    if (s.is_number()) out.push_back(s.get<double>());
  return out;
}

std::string pct(double x) { return std::isfinite(x) ? fmt::format("{:+.1f}%", 100 * x) : "-"; }

json first_metric(const json& r) {
  const json m = r.value("metrics", json::array());
  return m.empty() ? json::object() : m[0];
}

int compare_runs(const CompareRequest& q) {
  auto base = load_run(q.baseline, q.db);
  if (!base) return bad_input("baseline: " + base.error());
  auto cand = load_run(q.candidate, q.db);
  if (!cand) return bad_input("candidate: " + cand.error());
  // --json: the same findings as one JSON object on standard output, no table.
  std::unique_ptr<FILE, int (*)(FILE*)> devnull(std::fopen("/dev/null", "w"), &std::fclose);
  FILE* o = q.json ? devnull.get() : stdout;
  const auto changes = analysis::inventory_changes(base->value("inventory", json::object()),
                                                   cand->value("inventory", json::object()));
  fmt::print(o, "baseline  {} ({}, {}/{}, {})\ncandidate {} ({}, {}/{}, {})\n", base->value("run_id", ""),
             base->value("suite", ""), base->value("site", ""), base->value("partition", ""),
             base->value("started_at", ""), cand->value("run_id", ""), cand->value("suite", ""), cand->value("site", ""),
             cand->value("partition", ""), cand->value("started_at", ""));
  if (changes.empty()) {
    fmt::print(o, "what changed: nothing in the inventory or the environment\n");
  } else {
    fmt::print(o, "what changed ({}):\n", changes.size());
    for (const auto& d : changes) fmt::print(o, "  {}: {} -> {}\n", d.key, d.usual, d.value);
  }
  std::string changed_short;
  for (std::size_t i = 0; i < changes.size() && i < 3; ++i)
    changed_short += (i ? ", " : "") + changes[i].key;
  if (changes.size() > 3) changed_short += fmt::format(", +{} more", changes.size() - 3);

  std::map<std::string, json> in_base;
  for (const auto& r : (*base)["results"]) in_base[instance_key(*base, r)] = r;
  std::set<std::string> seen;
  int slower = 0;
  json out = json::array();
  fmt::print(o, "\n{:<48} {:>14} {:>14} {:>9}  {:<20} {:<9} {}\n", "instance", "baseline", "candidate", "time",
             "95% CI of time", "verdict", "why");
  for (const auto& c : (*cand)["results"]) {
    const std::string key = instance_key(*cand, c);
    seen.insert(key);
    auto it = in_base.find(key);
    const std::string name = key.substr(0, key.rfind("#0") == key.size() - 2 ? key.size() - 2 : key.size());
    if (it == in_base.end()) {
      fmt::print(o, "{:<48} {:>14} {:>14} {:>9}  {:<20} {:<9} only in the candidate\n", name, "-", "-", "", "", "new");
      out.push_back({{"instance", name}, {"verdict", "new"}});
      continue;
    }
    const json& b = it->second;
    if (b.value("status", "") != "ok" || c.value("status", "") != "ok") {
      const std::string why = fmt::format("baseline {}, candidate {}{}", b.value("status", ""), c.value("status", ""),
                                          c.value("status", "") != "ok" ? ": " + c.value("reason", "") : "");
      fmt::print(o, "{:<48} {:>14} {:>14} {:>9}  {:<20} {:<9} {}\n", name, "", "", "", "", "n/a", why);
      out.push_back({{"instance", name}, {"verdict", "n/a"}, {"why", why}});
      continue;
    }
    const auto cmp = analysis::compare_samples(samples(b), samples(c), q.threshold);
    const json mb = first_metric(b), mc = first_metric(c);
    const std::string unit = mc.value("unit", "");
    auto value = [&](const json& m) {
      return m.contains("value") && m["value"].is_number() ? core::format_value(m["value"].get<double>(), unit) : "-";
    };
    const std::string verdict = analysis::to_string(cmp.verdict);
    if (cmp.verdict == analysis::Verdict::slower) ++slower;
    const std::string why = cmp.why + ((cmp.verdict == analysis::Verdict::slower || cmp.verdict == analysis::Verdict::faster) &&
                                               !changed_short.empty()
                                           ? "; changed: " + changed_short
                                           : "");
    fmt::print(o, "{:<48} {:>14} {:>14} {:>9}  {:<20} {:<9} {}\n", name, value(mb), value(mc), pct(cmp.change),
               fmt::format("{} .. {}", pct(cmp.ratio.low - 1), pct(cmp.ratio.high - 1)), verdict, why);
    out.push_back({{"instance", name}, {"metric", mc.value("name", "")}, {"unit", unit},
                   {"baseline", mb.value("value", json())}, {"candidate", mc.value("value", json())},
                   {"time_change", cmp.change}, {"ci_low", cmp.ratio.low - 1}, {"ci_high", cmp.ratio.high - 1},
                   {"p_value", cmp.test.p_value}, {"verdict", verdict}, {"why", cmp.why}});
  }
  for (const auto& [key, b] : in_base)
    if (!seen.count(key)) {
      fmt::print(o, "{:<48} {:>14} {:>14} {:>9}  {:<20} {:<9} only in the baseline\n", key, "-", "-", "", "", "gone");
      out.push_back({{"instance", key}, {"verdict", "gone"}});
    }
  fmt::print(o, "\n{} significantly slower than {:.0f}% (time; lower is better)\n", slower, 100 * q.threshold);
  if (q.json) {
    json changed = json::array();
    for (const auto& d : changes) changed.push_back({{"key", d.key}, {"before", d.usual}, {"after", d.value}});
    std::cout << json{{"baseline", base->value("run_id", "")}, {"candidate", cand->value("run_id", "")},
                      {"changed", changed}, {"instances", out}, {"slower", slower}}
                     .dump(2)
              << "\n";
  }
  return slower > 0 ? 1 : 0;
}

// --partitions: the newest complete run of the suite on each partition, side by side.
int compare_partitions(const CompareRequest& q) {
  auto store = open_store(q.db);
  if (!store) return failure(store.error());
  std::map<std::string, json> runs;
  for (const auto& p : q.partitions) {
    results::RunFilter f;
    f.partition = p;
    f.suite = q.suite;
    f.complete_only = true;
    f.limit = 1;
    auto found = store->list(f);
    if (!found) return failure(found.error());
    if (found->empty())
      return bad_input(fmt::format("no complete run{} on partition '{}' in {}", q.suite.empty() ? "" : " of " + q.suite,
                                   p, store->path()));
    auto doc = store->document(found->front().run_id);
    if (!doc) return failure(doc.error());
    runs[p] = *doc;
  }
  const std::string base = q.base.empty() ? q.partitions.front() : q.base;
  if (!runs.count(base)) return bad_input("--base " + base + " is not among --partitions");
  for (const auto& p : q.partitions)
    fmt::print("{:<10} run {} ({}, {})\n", p, runs[p].value("run_id", ""), runs[p].value("suite", ""),
               runs[p].value("started_at", ""));
  std::map<std::string, std::map<std::string, json>> by_instance;  // key -> partition -> result
  std::vector<std::string> order;
  for (const auto& p : q.partitions)
    for (const auto& r : runs[p]["results"]) {
      const std::string key = instance_key(runs[p], r);
      if (!by_instance.count(key)) order.push_back(key);
      by_instance[key][p] = r;
    }
  fmt::print("\n{:<48}", "instance");
  for (const auto& p : q.partitions) fmt::print(" {:>26}", p + (p == base ? " (base)" : ""));
  fmt::print("   energy / efficiency\n");
  for (const auto& key : order) {
    fmt::print("{:<48}", key.substr(0, key.size() - (key.size() >= 2 && key.compare(key.size() - 2, 2, "#0") == 0 ? 2 : 0)));
    const auto& row = by_instance[key];
    double base_value = std::nan("");
    std::string direction = "higher_is_better";
    if (auto it = row.find(base); it != row.end() && it->second.value("status", "") == "ok") {
      const json m = first_metric(it->second);
      if (m["value"].is_number()) base_value = m["value"].get<double>();
      direction = m.value("direction", direction);
    }
    for (const auto& p : q.partitions) {
      auto it = row.find(p);
      if (it == row.end() || it->second.value("status", "") != "ok") {
        fmt::print(" {:>26}", it == row.end() ? "-" : it->second.value("status", ""));
        continue;
      }
      const json m = first_metric(it->second);
      const double v = m["value"].is_number() ? m["value"].get<double>() : std::nan("");
      const double speedup = direction == "lower_is_better" ? base_value / v : v / base_value;
      fmt::print(" {:>26}", fmt::format("{} ({:.2f}x)", core::format_value(v, m.value("unit", "")), speedup));
    }
    fmt::print("   not measured: no energy meter configured\n");
  }
  fmt::print("\nspeedup against {}: the figure's ratio, direction-aware (above 1 is better).\n", base);
  return 0;
}

}  // namespace

int compare_main(const CompareRequest& q) {
  if (!q.partitions.empty()) return compare_partitions(q);
  if (q.baseline.empty() || q.candidate.empty())
    return bad_input("compare BASELINE CANDIDATE (run ids, tags or documents), or compare --partitions a,b,c");
  return compare_runs(q);
}

core::Expected<Expectations> expectations_for(const std::string& site_ref, const std::string& partition,
                                              const std::string& run_partition) {
  auto site = load_site(site_ref);
  if (!site) return core::make_error(site.error());
  auto workers = WorkerSet::discover();
  if (!workers) return core::make_error(workers.error());
  if (auto ok = validate_site(*site, *workers); !ok) return core::make_error(ok.error());
  const std::string pname = partition.empty() ? run_partition : partition;
  const Partition* p = site->find(pname);
  if (p == nullptr)
    return core::make_error(fmt::format("site '{}' has no partition '{}' (partitions: {}); --partition chooses one",
                                        site->name, pname, fmt::join(site->partition_names(), ", ")));
  Expectations out;
  out.site = site->name;
  out.partition = pname;
  for (const auto& e : p->references)
    for (const auto& r : e.metrics) {
      analysis::Expectation x;
      x.benchmark = e.benchmark;
      x.params = e.params;
      x.metric = r.metric;
      x.value = r.value;  // validate_site converted it to the base unit
      x.lower = r.lower;
      x.upper = r.upper;
      for (const auto& m : workers->find(e.benchmark)->metrics)
        if (m.value("name", "") == r.metric) x.unit = m.value("unit", "");
      x.source = fmt::format("{}:{}", site->source, r.line);
      out.expectations.push_back(std::move(x));
    }
  if (out.expectations.empty())
    return core::make_error(fmt::format("partition '{}' of site '{}' has no reference figures to check against", pname,
                                        site->name));
  return out;
}

int check_main(const CheckRequest& q) {
  auto run = load_run(q.run, q.db);
  if (!run) return bad_input(run.error());
  auto found = expectations_for(q.site, q.partition, run->value("partition", ""));
  if (!found) return bad_input(found.error());
  const std::string pname = found->partition;
  const auto& expectations = found->expectations;
  const auto checks = analysis::check_run(*run, expectations);
  std::string text;
  if (q.format == "junit")
    text = analysis::check_junit(checks, pname, run->value("started_at", ""));
  else if (q.format == "md")
    text = analysis::check_markdown(checks);
  else if (q.format == "table")
    text = analysis::check_table(checks);
  else
    return bad_input("--format is table, md or junit");
  if (q.out.empty()) {
    std::cout << text;
  } else {
    if (auto ok = results::write_file_atomic(q.out, text); !ok) return failure(ok.error());
    std::cout << analysis::check_table(checks);
    fmt::print("{} written to {}\n", q.format, q.out);
  }
  return analysis::all_passed(checks) ? 0 : 1;
}

int history_main(const HistoryRequest& q) {
  auto store = open_store(q.db);
  if (!store) return failure(store.error());
  std::map<std::string, std::string> want;
  for (const auto& a : q.params) {
    auto kv = core::split_assignment(a);
    if (!kv) return bad_input("--param " + kv.error());
    want[kv->first] = kv->second;
  }
  auto ids = store->runs_with(q.benchmark, q.partition);
  if (!ids) return failure(ids.error());
  struct Point {
    std::string run_id, when;
    double value;
  };
  std::map<std::string, std::vector<Point>> series;  // per instance (given params, rank)
  std::string unit, metric;
  for (const auto& id : *ids) {
    auto doc = store->document(id);
    if (!doc) return failure(doc.error());
    for (const auto& r : (*doc)["results"]) {
      if (r.value("benchmark", "") != q.benchmark || r.value("status", "") != "ok") continue;
      const json given = given_params(*doc, r), ran = r.value("params", json::object());
      bool match = true;
      for (const auto& [k, v] : want) {
        auto text = [&](const json& j) { return j.contains(k) ? (j[k].is_string() ? j[k].get<std::string>() : j[k].dump()) : ""; };
        match = match && (text(given) == v || text(ran) == v);
      }
      if (!match) continue;
      json m = json::object();
      for (const auto& x : r.value("metrics", json::array()))
        if (q.metric.empty() ? m.empty() : x.value("name", "") == q.metric) m = x;
      if (!m.contains("value") || !m["value"].is_number()) continue;
      unit = m.value("unit", ""), metric = m.value("name", "");
      series[params_text(given) + (r.value("rank", 0) ? fmt::format(" #{}", r.value("rank", 0)) : "")].push_back(
          {id, doc->value("started_at", ""), m["value"].get<double>()});
    }
  }
  if (series.empty())
    return bad_input(fmt::format("no stored ok result of {}{}{} in {}", q.benchmark,
                                 q.partition.empty() ? "" : " on partition " + q.partition,
                                 want.empty() ? "" : " with those params", store->path()));
  for (const auto& [instance, points] : series) {
    fmt::print("{} {}  {} ({} runs{})\n", q.benchmark, instance, metric, points.size(),
               q.partition.empty() ? "" : ", partition " + q.partition);
    std::vector<double> values;
    for (const auto& p : points) values.push_back(p.value);
    std::map<std::size_t, analysis::ChangePoint> at;
    for (const auto& c : analysis::detect_change_points(values, q.alpha)) at[c.index] = c;
    for (std::size_t i = 0; i < points.size(); ++i) {
      std::string mark;
      if (auto it = at.find(i); it != at.end())
        mark = fmt::format("  <- level moved: {} -> {} ({:+.1f}%, p={:.3g})", core::format_value(it->second.before_mean, unit),
                           core::format_value(it->second.after_mean, unit),
                           100 * (it->second.after_mean / it->second.before_mean - 1), it->second.p_value);
      fmt::print("  {}  {}  {:>14}{}\n", points[i].when.substr(0, 19), points[i].run_id,
                 core::format_value(points[i].value, unit), mark);
    }
    if (at.empty()) fmt::print("  no change point (E-divisive means, alpha {})\n", q.alpha);
    fmt::print("\n");
  }
  return 0;
}

}  // namespace converge::runners
