// The report model of analysis/report.hpp: run sections, partition comparison, regression rows
// and the Vega-Lite chart specs. The writers are in report_writers.cpp.
#include "analysis/report.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "analysis/report_json.hpp"
#include "core/params.hpp"
#include "core/units.hpp"

namespace converge::analysis {

using results::json;

namespace {

using namespace report_json;

// Given parameters, then what "auto" resolved to for the ones that matter most when reading a figure.
std::string params_text(const json& r, const json& given) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : given.items()) parts.push_back(fmt::format("{}={}", k, text_of(v)));
  const json& resolved = member(r, "params");
  for (const char* key : {"threads", "n", "size"})
    if (!given.contains(key) && resolved.is_object() && resolved.contains(key))
      parts.push_back(fmt::format("{}={}", key, text_of(resolved[key])));
  return fmt::format("{}", fmt::join(parts, " "));
}

bool several_hosts(const json& run) {
  std::set<std::string> hosts;
  for (const auto& r : member(run, "results")) hosts.insert(r.value("host", ""));
  return hosts.size() > 1;
}
bool several_places(const json& run) {
  std::set<std::pair<std::string, int>> places;
  for (const auto& r : member(run, "results")) places.insert({r.value("host", ""), r.value("rank", 0)});
  return places.size() > 1;
}

std::string place_of(const json& r) {
  return fmt::format("{}#{}", r.value("host", "").empty() ? "?" : r.value("host", ""), r.value("rank", 0));
}

// Matching key of a result across runs: benchmark, given params, rank, and host when it matters.
std::string match_key(const json& r, const json& given, bool with_host) {
  return fmt::format("{}|{}|{}|{}", r.value("benchmark", "?"), given_text(given), r.value("rank", 0),
                     with_host ? r.value("host", "") : "");
}

std::string figure(double v, const std::string& unit) { return std::isfinite(v) ? core::format_value(v, unit) : "-"; }

// ---- the model ----------------------------------------------------------------------------

RunSection run_section(const json& run) {
  RunSection s;
  s.run_id = str(run, "run_id");
  s.suite = str(run, "suite");
  s.partition_label = partition_label(run);
  const std::string finished = str(run, "finished_at");
  s.header = {{"run id", s.run_id}, {"suite", s.suite}, {"site", str(run, "site")}, {"partition", str(run, "partition")},
              {"hosts", fmt::format("{}", fmt::join(strings(member(run, "hosts")), ", "))},
              {"started", str(run, "started_at")}, {"finished", finished.empty() ? "-" : finished},
              {"complete", run.value("complete", false) ? "yes" : "no (incomplete: `converge run --resume` runs the rest)"},
              {"command line", str(run, "command_line")}};
  const json& inv = member(run, "inventory");
  const json& cpu = member(inv, "cpu");
  const json& mem = member(inv, "memory");
  const json& blas = member(inv, "blas");
  const double total = num(mem, "total_bytes");
  s.inventory = {
      {"cpu", fmt::format("{} ({}{})", str(cpu, "model_name"), str(cpu, "microarchitecture"),
                          cpu.value("hypervisor", false) ? ", virtual machine" : "")},
      {"cores", fmt::format("{} socket(s), {} cores, {} threads, {} NUMA node(s)", cpu.value("sockets", 0),
                            cpu.value("cores", 0), cpu.value("threads", 0), cpu.value("numa_nodes", 0))},
      {"isa", fmt::format("{}", fmt::join(strings(member(cpu, "isa")), " "))},
      {"memory", std::isfinite(total) ? core::format_bytes(std::uint64_t(total)) : "-"},
      {"os", str(inv, "os")},
      {"kernel", fmt::format("{} {}", str(inv, "kernel"), str(inv, "arch"))},
      {"compiler", fmt::format("{} [{}] {}", str(inv, "compiler"), str(inv, "build_type"), str(inv, "compiler_flags"))},
      {"blas", str(blas, "library").empty()
                   ? std::string("none linked")
                   : fmt::format("{} {}, kernels '{}', {} threads", str(blas, "library"), str(blas, "version"),
                                 str(blas, "corename"), blas.value("threads", 0))}};
  int g = 0;
  for (const auto& gpu : member(inv, "gpus")) {
    const std::string name = str(gpu, "name").empty() ? str(gpu, "model") : str(gpu, "name");
    const double bytes = num(gpu, "memory_bytes");
    s.inventory.push_back({fmt::format("gpu {}", g++),
                           std::isfinite(bytes) ? fmt::format("{}, {}", name, core::format_bytes(std::uint64_t(bytes))) : name});
  }
  for (const auto& [id, p] : member(run, "peaks").items())
    if (id.size() < 5 || id.substr(id.size() - 5) != ".core")
      s.inventory.push_back({"peak " + id, fmt::format("{} ({}: {})", figure(num(p, "value"), str(p, "unit")),
                                                       str(p, "source"), str(p, "assumptions"))});
  for (const auto& w : strings(member(inv, "warnings"))) s.inventory.push_back({"warning", w});
  for (const auto& [k, v] : member(inv, "environment").items()) s.environment.push_back({k, text_of(v)});

  const auto given = given_params(run);
  const bool places = several_places(run);
  for (const auto& r : member(run, "results")) {
    ResultRow row;
    row.benchmark = r.value("benchmark", "?");
    row.params = params_text(r, given_for(r, given));
    if (places) row.place = place_of(r);
    row.status = status_text(r);
    row.energy = result_energy(r, run);
    row.metric = "-";
    row.median = row.ci_low = row.ci_high = row.fraction_of_peak = row.cv = kNaN;
    if (is_ok(r)) {
      const json& m = *primary_metric(r);
      const json& ci = member(m, "ci");
      row.metric = str(m, "name");
      row.unit = str(m, "unit");
      row.median = num(m, "value");
      row.ci_valid = ci.value("valid", false);
      row.ci_low = num(ci, "low"), row.ci_high = num(ci, "high");
      row.fraction_of_peak = num(m, "fraction_of_peak");
      row.reps = member(r, "time").value("n", 0), row.cv = num(member(r, "time"), "cv");
    }
    s.results.push_back(std::move(row));
  }
  return s;
}

std::optional<PartitionComparison> partition_comparison(const std::vector<json>& runs) {
  if (runs.size() < 2) return std::nullopt;
  std::set<std::string> labels;
  for (const auto& run : runs) {
    if (str(run, "suite") != str(runs[0], "suite")) return std::nullopt;
    labels.insert(partition_label(run));
  }
  if (labels.size() < 2) return std::nullopt;
  PartitionComparison c;
  std::map<std::string, int> seen;
  for (const auto& run : runs) ++seen[partition_label(run)];
  for (const auto& run : runs)
    c.partitions.push_back(seen[partition_label(run)] > 1 ? fmt::format("{} ({})", partition_label(run), str(run, "run_id"))
                                                         : partition_label(run));
  std::map<std::string, std::size_t> row_of;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const auto given = given_params(runs[k]);
    for (const auto& r : member(runs[k], "results")) {
      const json g = given_for(r, given);
      const std::string key = r.value("benchmark", "?") + "|" + given_text(g);
      if (!row_of.count(key)) {
        row_of[key] = c.rows.size();
        ComparisonRow row;
        row.benchmark = r.value("benchmark", "?");
        row.params = given_text(g);
        row.values.assign(runs.size(), std::nullopt);
        row.energy.assign(runs.size(), EnergyFigures{});
        row.missing.assign(runs.size(), "not in this run");
        c.rows.push_back(std::move(row));
      }
      auto& row = c.rows[row_of[key]];
      if (row.values[k]) continue;  // several ranks or hosts: the first result stands for the partition
      if (!is_ok(r)) {
        row.missing[k] = status_text(r);
        continue;
      }
      const json& m = *primary_metric(r);
      if (row.metric.empty()) {
        row.metric = str(m, "name");
        row.unit = str(m, "unit");
      }
      row.values[k] = num(m, "value");
      row.energy[k] = result_energy(r, runs[k]);
      row.missing[k].clear();
    }
  }
  return c;
}

RegressionSection regression(const json& candidate, const json& baseline) {
  RegressionSection s;
  s.baseline_id = str(baseline, "run_id");
  s.candidate_id = str(candidate, "run_id");
  const bool with_host = several_hosts(candidate) || several_hosts(baseline);
  const bool places = several_places(candidate) || several_places(baseline);
  const auto bgiven = given_params(baseline), cgiven = given_params(candidate);
  std::map<std::string, const json*> base;
  std::vector<std::string> base_order;
  for (const auto& r : member(baseline, "results")) {
    const std::string key = match_key(r, given_for(r, bgiven), with_host);
    if (base.emplace(key, &r).second) base_order.push_back(key);
  }
  auto times = [](const json& r) {
    std::vector<double> t;
    for (const auto& v : member(r, "samples_s")) t.push_back(v.is_number() ? v.get<double>() : kNaN);
    return t;
  };
  auto make_row = [&](const json& r, const json& given) {
    RegressionRow row;
    row.benchmark = r.value("benchmark", "?");
    row.params = params_text(r, given);
    if (places) row.place = place_of(r);
    row.baseline_value = row.candidate_value = kNaN;
    if (const json* m = primary_metric(r)) row.metric = str(*m, "name"), row.unit = str(*m, "unit");
    return row;
  };
  std::set<std::string> matched;
  for (const auto& r : member(candidate, "results")) {
    const json g = given_for(r, cgiven);
    const std::string key = match_key(r, g, with_host);
    RegressionRow row = make_row(r, g);
    row.reason = "not in the baseline";
    if (auto it = base.find(key); it != base.end()) {
      matched.insert(key);
      const json& b = *it->second;
      if (const json* m = primary_metric(b); m && row.metric.empty()) row.metric = str(*m, "name"), row.unit = str(*m, "unit");
      row.baseline_value = is_ok(b) ? num(*primary_metric(b), "value") : kNaN;
      row.candidate_value = is_ok(r) ? num(*primary_metric(r), "value") : kNaN;
      row.reason = !is_ok(b) ? "baseline " + status_text(b) : !is_ok(r) ? status_text(r) : "";
      if ((row.compared = row.reason.empty())) row.comparison = compare_samples(times(b), times(r));
    }
    s.rows.push_back(std::move(row));
  }
  for (const auto& key : base_order) {
    if (matched.count(key)) continue;
    const json& b = *base[key];
    RegressionRow row = make_row(b, given_for(b, bgiven));
    row.baseline_value = is_ok(b) ? num(*primary_metric(b), "value") : kNaN;
    row.reason = "not in this run";
    s.rows.push_back(std::move(row));
  }
  return s;
}

// ---- charts -------------------------------------------------------------------------------

// A display unit for an axis: values are divided by `factor` and the axis says `unit`.
struct Scale {
  double factor = 1;
  std::string unit;
};
Scale display_scale(double max_value, const std::string& unit) {
  if (unit == "s") {
    if (max_value < 1e-6) return {1e-9, "ns"};
    if (max_value < 1e-3) return {1e-6, "µs"};
    if (max_value < 1) return {1e-3, "ms"};
    return {1, "s"};
  }
  static const char* prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int i = 0;
  double f = 1;
  while (max_value / f >= 1000 && i < 6) {
    f *= 1000;
    ++i;
  }
  return {f, prefixes[i] + unit};
}

json legend_below() { return {{"orient", "bottom"}, {"columns", 1}}; }

// Binary-prefixed tick labels for byte axes ("64 KiB"), as sizes are written in suites.
const char* kBytesLabel =
    "datum.value >= 1073741824 ? format(datum.value / 1073741824, '~g') + ' GiB' : "
    "datum.value >= 1048576 ? format(datum.value / 1048576, '~g') + ' MiB' : "
    "datum.value >= 1024 ? format(datum.value / 1024, '~g') + ' KiB' : format(datum.value, '~g') + ' B'";

// `subtitle`: a string, or an array of strings for several lines.
json base_spec(const std::string& title, const json& subtitle) {
  json spec = {{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"}, {"title", {{"text", title}}}};
  if (!subtitle.empty()) spec["title"]["subtitle"] = subtitle;
  spec["config"] = {{"font", "sans-serif"}, {"legend", {{"labelLimit", 400}}}};
  return spec;
}

double size_value(const std::string& name, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  if (name == "n") {
    auto v = core::parse_integer(text);
    return v ? double(*v) : kNaN;
  }
  auto v = core::parse_size(text);
  return v ? double(*v) : kNaN;
}

std::string run_tag(const json& run, bool several) { return several ? partition_label(run) + " " + str(run, "run_id") + ": " : ""; }

void roofline_charts(const std::vector<json>& runs, Report& report) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const json*>> by_partition;
  for (const auto& run : runs) {
    if (!by_partition.count(partition_label(run))) order.push_back(partition_label(run));
    by_partition[partition_label(run)].push_back(&run);
  }
  int index = 0;
  for (const auto& label : order) {
    const auto& group = by_partition[label];
    struct Point { double x, y; std::string series, name; };
    std::vector<Point> points;
    std::set<std::string> plotted;
    // The memory ceiling's evidence without a peak: the STREAM triad with the largest arrays (the
    // best triad of a size sweep is a cache figure, not memory bandwidth).
    double bw = 0, bw_n = -1;
    std::string bw_name;
    std::map<std::string, double> measured_compute;  // micro.peakflops.*: best median
    for (const json* run : group) {
      const auto given = given_params(*run);
      for (const auto& r : member(*run, "results")) {
        if (!is_ok(r)) continue;
        const json& m = *primary_metric(r);
        const std::string b = r.value("benchmark", "?");
        const double flops = num(member(r, "work"), "flops"), bytes = num(member(r, "work"), "bytes");
        const double median = num(member(r, "time"), "median");
        if (flops > 0 && bytes > 0 && median > 0) {
          points.push_back({flops / bytes, flops / median, run_tag(*run, group.size() > 1) + b,
                            b + " " + params_text(r, given_for(r, given))});
          plotted.insert(b);
        }
        const double v = num(m, "value");
        const double n = size_value("n", text_of(member(member(r, "params"), "n")));
        if (b.rfind("micro.stream", 0) == 0 && b.size() > 6 && b.substr(b.size() - 6) == ".triad" &&
            str(m, "unit") == "B/s" && (n > bw_n || (n == bw_n && v > bw))) {
          bw = v;
          bw_n = n;
          bw_name = b + " " + params_text(r, given_for(r, given));
        }
        if (b.rfind("micro.peakflops.", 0) == 0 && str(m, "unit") == "FLOP/s" && v > measured_compute[b])
          measured_compute[b] = v;
      }
    }
    ++index;
    if (points.empty()) {
      report.notes.push_back(fmt::format("roofline for {}: no result has both FLOPs and bytes in its work model", label));
      continue;
    }
    // Ceilings: the peak model's (from the run), and measured figures labelled as such.
    struct Ceiling { std::string name, kind; double value; };
    std::vector<Ceiling> compute;
    std::optional<Ceiling> memory;
    std::map<std::pair<double, std::string>, std::vector<std::string>> peaks;  // equal ceilings share a line
    for (const auto& [id, p] : member(*group.front(), "peaks").items()) {
      const double v = num(p, "value");
      const std::string unit = str(p, "unit");
      if (!(v > 0) || (id.size() >= 5 && id.substr(id.size() - 5) == ".core")) continue;
      if (unit == "FLOP/s") peaks[{v, str(p, "source")}].push_back(id);
      if (!memory && (unit == "B/s" || id.find("mem") != std::string::npos || id.find("bandwidth") != std::string::npos))
        memory = Ceiling{fmt::format("{} peak ({}): {}", id, str(p, "source"), core::format_value(v, "B/s")), "peak", v};
    }
    for (auto it = peaks.rbegin(); it != peaks.rend(); ++it)
      compute.push_back({fmt::format("{} peak ({}): {}", fmt::join(it->second, ", "), it->first.second,
                                     core::format_value(it->first.first, "FLOP/s")), "peak", it->first.first});
    for (const auto& [b, v] : measured_compute)
      compute.push_back({fmt::format("{} measured: {}", b, core::format_value(v, "FLOP/s")), "measured", v});
    std::string memory_note;
    if (!memory && bw > 0) {
      memory = Ceiling{fmt::format("{} measured: {} (not a peak)", bw_name, core::format_value(bw, "B/s")), "measured", bw};
      memory_note = " The memory ceiling is measured, not a peak (the run's peak model has no memory bandwidth): the "
                    "median bandwidth of the STREAM triad with the largest arrays (" + bw_name +
                    "); arrays that fit in a cache make it a cache ceiling.";
    } else if (!memory) {
      memory_note = " No memory ceiling: the peak model has no memory bandwidth and the run has no STREAM triad result.";
    }
    double xmin = points[0].x, xmax = points[0].x, ymax = 0;
    for (const auto& p : points) {
      xmin = std::min(xmin, p.x);
      xmax = std::max(xmax, p.x);
      ymax = std::max(ymax, p.y);
    }
    double top = 0;
    for (const auto& c : compute) top = std::max(top, c.value);
    if (memory && top > 0) {
      xmin = std::min(xmin, top / memory->value);
      xmax = std::max(xmax, top / memory->value);
    }
    xmin /= 4;
    xmax *= 4;
    ymax = std::max(ymax, top);
    const Scale scale = display_scale(ymax, "FLOP/s");
    json lines = json::array(), dots = json::array();
    for (const auto& c : compute) {
      const double x0 = memory ? std::max(xmin, c.value / memory->value) : xmin;
      for (double x : {x0, xmax})
        lines.push_back({{"x", x}, {"y", c.value / scale.factor}, {"ceiling", c.name}, {"kind", c.kind}});
    }
    if (memory) {
      const double x1 = top > 0 ? top / memory->value : xmax;
      for (double x : {xmin, x1})
        lines.push_back({{"x", x}, {"y", memory->value * x / scale.factor}, {"ceiling", memory->name}, {"kind", memory->kind}});
    }
    for (const auto& p : points)
      dots.push_back({{"x", p.x}, {"y", p.y / scale.factor}, {"benchmark", p.series}, {"instance", p.name}});
    const std::string x_title = "arithmetic intensity (FLOP/B)", y_title = "performance (" + scale.unit + ")";
    json x_enc = {{"field", "x"}, {"type", "quantitative"}, {"title", x_title}, {"scale", {{"type", "log"}, {"domain", {xmin, xmax}}}}};
    json y_enc = {{"field", "y"}, {"type", "quantitative"}, {"title", y_title}, {"scale", {{"type", "log"}}}};
    json spec = base_spec("Roofline: " + label, "log-log; lines are ceilings, points are measured results");
    spec["width"] = 480;
    spec["height"] = 340;
    spec["layer"] = json::array();
    spec["layer"].push_back({{"data", {{"values", lines}}},
                             {"mark", {{"type", "line"}, {"clip", true}}},
                             {"encoding",
                              {{"x", x_enc},
                               {"y", y_enc},
                               {"color", {{"field", "ceiling"}, {"type", "nominal"}, {"title", "ceiling"},
                                          {"legend", legend_below()}}},
                               {"strokeDash", {{"field", "kind"}, {"type", "nominal"}, {"legend", nullptr},
                                               {"scale", {{"domain", {"peak", "measured"}}, {"range", {json::array(), {6, 4}}}}}}},
                               {"detail", {{"field", "ceiling"}}}}}});
    spec["layer"].push_back({{"data", {{"values", dots}}},
                             {"mark", {{"type", "point"}, {"filled", true}, {"size", 80}}},
                             {"encoding",
                              {{"x", x_enc},
                               {"y", y_enc},
                               {"shape", {{"field", "benchmark"}, {"type", "nominal"}, {"title", "measured"},
                                          {"legend", legend_below()}}},
                               {"color", {{"field", "benchmark"}, {"type", "nominal"}, {"title", "measured"},
                                          {"scale", {{"scheme", "dark2"}}}, {"legend", legend_below()}}},
                               {"tooltip", json::array({{{"field", "instance"}, {"title", "instance"}},
                                                        {{"field", "x"}, {"title", x_title}, {"format", ".3~g"}},
                                                        {{"field", "y"}, {"title", y_title}, {"format", ".4~g"}}})}}}});
    spec["resolve"] = {{"scale", {{"color", "independent"}, {"shape", "independent"}}}};
    std::string caption = fmt::format(
        "Points: the {} result(s) whose work model counts both FLOPs and bytes ({}); x = FLOPs / bytes of one "
        "repetition, y = FLOPs / median time. Bytes follow each benchmark's own convention (micro/README.md): "
        "STREAM counts one read per input and one write per output array, no write-allocate traffic; GEMM counts "
        "only the compulsory traffic (read A and B, write C once), a lower bound on bytes, so its intensity is an "
        "upper bound. Benchmarks with FLOPs but no bytes (peak FLOP kernels) appear only as measured ceilings; "
        "bandwidth-only ones (copy, cache bandwidth) only through the memory ceiling. Ceilings: solid from the "
        "run's peak model, dashed measured.{}",
        points.size(), fmt::join(plotted, ", "), memory_note);
    report.charts.push_back({fmt::format("roofline-{}", index), "Roofline: " + label, caption, spec});
  }
}

void sweep_charts(const std::vector<json>& runs, Report& report) {
  static const std::set<std::string> size_params = {"size", "n", "bytes", "message_size", "msg_size", "message_bytes"};
  struct Sample { double x, y, low, high; };
  // chart (param, metric, unit) -> series -> samples
  std::map<std::tuple<std::string, std::string, std::string>, std::map<std::string, std::vector<Sample>>> charts;
  for (const auto& run : runs) {
    const auto given = given_params(run);
    for (const auto& r : member(run, "results")) {
      if (!is_ok(r)) continue;
      const json& m = *primary_metric(r);
      const json g = given_for(r, given);
      const json& resolved = member(r, "params");
      for (const auto& p : size_params) {
        if (!resolved.is_object() || !resolved.contains(p)) continue;
        json rest = g;
        rest.erase(p);
        const std::string series = run_tag(run, runs.size() > 1) + r.value("benchmark", "?") +
                                   (rest.empty() ? "" : " " + given_text(rest));
        const double x = size_value(p, text_of(resolved[p]));
        const double y = num(m, "value");
        if (!(x > 0) || !(y > 0)) continue;
        const bool ci = member(m, "ci").value("valid", false);
        charts[{p, str(m, "name"), str(m, "unit")}][series].push_back(
            {x, y, ci ? num(m["ci"], "low") : kNaN, ci ? num(m["ci"], "high") : kNaN});
      }
    }
  }
  int index = 0;
  for (auto& [key, all_series] : charts) {
    const auto& [param, metric, unit] = key;
    double ymax = 0;
    std::vector<std::string> kept;
    for (auto it = all_series.begin(); it != all_series.end();) {
      std::set<double> xs;
      for (const auto& s : it->second) xs.insert(s.x);
      if (xs.size() < 3) {
        it = all_series.erase(it);
        continue;
      }
      for (const auto& s : it->second) ymax = std::max({ymax, s.y, std::isfinite(s.high) ? s.high : 0});
      kept.push_back(it->first);
      ++it;
    }
    if (all_series.empty()) continue;
    const Scale scale = display_scale(ymax, unit);
    const bool bytes = param != "n";
    json values = json::array();
    for (const auto& [series, samples] : all_series)
      for (const auto& s : samples) {
        json v = {{"x", s.x}, {"y", s.y / scale.factor}, {"series", series}};
        if (std::isfinite(s.low) && std::isfinite(s.high) && s.low > 0) {
          v["low"] = s.low / scale.factor;
          v["high"] = s.high / scale.factor;
        }
        values.push_back(v);
      }
    const std::string x_title = bytes ? param + " (bytes)" : "n (elements or matrix order, as the benchmark defines it)";
    const std::string y_title = metric + " (" + scale.unit + ")";
    json x_enc = {{"field", "x"}, {"type", "quantitative"}, {"title", x_title}, {"scale", {{"type", "log"}, {"base", bytes ? 2 : 10}}}};
    if (bytes) x_enc["axis"] = {{"labelExpr", kBytesLabel}, {"tickCount", 8}};
    else x_enc["axis"] = {{"format", "~s"}};
    json y_enc = {{"field", "y"}, {"type", "quantitative"}, {"title", y_title}, {"scale", {{"type", "log"}}}};
    json spec = base_spec(fmt::format("{} against {}", metric, param), "log-log; one line per benchmark; bars: 95% CI of the median");
    spec["width"] = 480;
    spec["height"] = 300;
    spec["data"] = {{"values", values}};
    json color = {{"field", "series"}, {"type", "nominal"}, {"title", "benchmark"}, {"legend", legend_below()}};
    spec["layer"] = json::array();
    spec["layer"].push_back({{"mark", {{"type", "line"}, {"point", true}}},
                             {"encoding", {{"x", x_enc}, {"y", y_enc}, {"color", color},
                                           {"tooltip", json::array({{{"field", "series"}}, {{"field", "x"}, {"title", param}},
                                                                    {{"field", "y"}, {"title", y_title}, {"format", ".4~g"}}})}}}});
    spec["layer"].push_back({{"transform", json::array({{{"filter", "isValid(datum.low)"}}})},
                             {"mark", {{"type", "rule"}}},
                             {"encoding", {{"x", x_enc}, {"y", {{"field", "low"}, {"type", "quantitative"}}},
                                           {"y2", {{"field", "high"}}}, {"color", color}}}});
    const std::string caption = fmt::format(
        "{} (the primary metric, median of the repetitions, with its 95% CI) of every benchmark run at 3 or more "
        "values of `{}`, against that value; both axes logarithmic. Series: {}.",
        metric, param, fmt::join(kept, "; "));
    report.charts.push_back({fmt::format("sweep-{}", ++index), fmt::format("{} against {}", metric, param), caption, spec});
  }
}

void comparison_charts(const PartitionComparison& c, Report& report) {
  auto chart = [&](const std::string& id, const std::string& title, const std::string& subtitle, bool per_watt) {
    const std::string what = per_watt ? "work per joule" : "median of the primary metric";
    json values = json::array(), order = json::array();
    for (const auto& row : c.rows) {
      auto value = [&](std::size_t k) {
        return per_watt ? (row.energy[k].measured ? row.energy[k].efficiency : kNaN) : row.values[k].value_or(kNaN);
      };
      double vmax = 0;
      std::string unit = row.unit;
      for (std::size_t k = 0; k < c.partitions.size(); ++k) {
        if (std::isfinite(value(k))) vmax = std::max(vmax, value(k));
        if (per_watt && row.energy[k].measured) unit = row.energy[k].efficiency_unit;
      }
      if (!(vmax > 0)) continue;
      const Scale scale = display_scale(vmax, unit);
      const std::string instance = fmt::format("{}{}{} [{}]", row.benchmark, row.params.empty() ? "" : " ", row.params, scale.unit);
      order.push_back(instance);
      for (std::size_t k = 0; k < c.partitions.size(); ++k)
        if (std::isfinite(value(k)))
          values.push_back({{"instance", instance}, {"partition", c.partitions[k]}, {"value", value(k) / scale.factor}});
    }
    if (values.empty()) return;
    json lines = {"bars: " + what + ", unit in the row label"};
    if (!subtitle.empty()) lines.push_back(subtitle);
    json spec = base_spec(title, lines);
    spec["data"] = {{"values", values}};
    spec["facet"] = {{"row", {{"field", "instance"}, {"type", "nominal"}, {"title", nullptr}, {"sort", order},
                              {"header", {{"labelAngle", 0}, {"labelAlign", "left"}, {"labelLimit", 500}}}}}};
    spec["spec"] = {{"width", 400},
                    {"mark", "bar"},
                    {"encoding",
                     {{"y", {{"field", "partition"}, {"type", "nominal"}, {"title", nullptr}, {"sort", c.partitions}}},
                      {"x", {{"field", "value"}, {"type", "quantitative"}, {"title", nullptr}}},
                      {"color", {{"field", "partition"}, {"type", "nominal"}, {"legend", nullptr}}},
                      {"tooltip", json::array({{{"field", "instance"}}, {{"field", "partition"}},
                                               {{"field", "value"}, {"format", ".4~g"}}})}}}};
    spec["resolve"] = {{"scale", {{"x", "independent"}}}};
    report.charts.push_back({id, title,
                             per_watt ? "Work per joule of each benchmark instance on each partition."
                                      : "The median of each benchmark instance's primary metric on each partition; "
                                        "bars of one row share a scale, rows do not.",
                             spec});
  };
  bool all_measured = true;
  std::string reason;
  for (const auto& row : c.rows)
    for (std::size_t k = 0; k < c.partitions.size(); ++k)
      if (row.values[k] && !row.energy[k].measured) {
        all_measured = false;
        if (reason.empty()) reason = row.energy[k].reason;
      }
  chart("partitions", "Partition comparison", all_measured ? "" : "performance per watt: " + reason, false);
  if (all_measured) chart("partitions-per-watt", "Partition comparison per watt", "", true);
}

void regression_chart(const RegressionSection& s, int index, Report& report) {
  json values = json::array();
  for (const auto& row : s.rows) {
    if (!row.compared || !std::isfinite(row.comparison.change)) continue;
    json v = {{"instance", fmt::format("{}{}{}{}{}", row.benchmark, row.params.empty() ? "" : " ", row.params,
                                       row.place.empty() ? "" : " @", row.place)},
              {"change", 100 * row.comparison.change},
              {"verdict", to_string(row.comparison.verdict)},
              {"why", row.comparison.why}};
    if (std::isfinite(row.comparison.ratio.low) && std::isfinite(row.comparison.ratio.high)) {
      v["low"] = 100 * (row.comparison.ratio.low - 1);
      v["high"] = 100 * (row.comparison.ratio.high - 1);
    }
    values.push_back(v);
  }
  if (values.empty()) {
    report.notes.push_back(fmt::format("regression chart for {}: no instance could be compared with the baseline", s.candidate_id));
    return;
  }
  const json y = {{"field", "instance"}, {"type", "nominal"}, {"title", nullptr}, {"sort", nullptr},
                  {"axis", {{"labelLimit", 420}}}};
  const std::string x_title = "change in median time (%), positive = slower";
  json spec = base_spec("Regression: " + s.candidate_id,
                        {"against baseline " + s.baseline_id, "points: change of the median time; bars: bootstrap 95% CI"});
  spec["width"] = 300;
  spec["data"] = {{"values", values}};
  spec["layer"] = json::array();
  spec["layer"].push_back({{"data", {{"values", json::array({{{"zero", 0}}})}}},
                           {"mark", {{"type", "rule"}, {"color", "#888"}}},
                           {"encoding", {{"x", {{"field", "zero"}, {"type", "quantitative"}}}}}});
  spec["layer"].push_back({{"transform", json::array({{{"filter", "isValid(datum.low)"}}})},
                           {"mark", {{"type", "rule"}, {"strokeWidth", 2}}},
                           {"encoding", {{"y", y}, {"x", {{"field", "low"}, {"type", "quantitative"}, {"title", x_title}}},
                                         {"x2", {{"field", "high"}}},
                                         {"color", {{"field", "verdict"}, {"type", "nominal"}}}}}});
  spec["layer"].push_back(
      {{"mark", {{"type", "point"}, {"filled", true}, {"size", 90}}},
       {"encoding",
        {{"y", y},
         {"x", {{"field", "change"}, {"type", "quantitative"}, {"title", x_title}}},
         {"color", {{"field", "verdict"}, {"type", "nominal"}, {"title", "verdict"},
                    {"scale", {{"domain", {"faster", "unchanged", "noisy", "slower"}},
                               {"range", {"#1a9850", "#4d4d4d", "#f39c12", "#d73027"}}}}}},
         {"tooltip", json::array({{{"field", "instance"}}, {{"field", "change"}, {"format", "+.2f"}, {"title", "change %"}},
                                  {{"field", "verdict"}}, {{"field", "why"}}})}}}});
  report.charts.push_back(
      {fmt::format("regression-{}", index), fmt::format("Regression: {} against {}", s.candidate_id, s.baseline_id),
       "Change of each instance's median time against the baseline's, with the bootstrap 95% CI of the ratio of "
       "medians; the verdict also needs a two-sided Mann-Whitney U test at 5% and a change beyond 5% "
       "(analysis/regression.hpp). Times, not rates: a negative change is faster.",
       spec});
}

}  // namespace

EnergyFigures result_energy(const json& result, const json& run) {
  (void)run;
  EnergyFigures e;
  const json& energy = member(result, "energy");
  if (!energy.is_object()) {
    e.reason = "not measured: the run document predates energy figures";
    return e;
  }
  if (energy.value("measured", false)) {
    const double per_rep = num(energy, "joules_per_rep"), watts = num(energy, "avg_watts");
    const json* m = primary_metric(result);
    const std::string quantity = m ? str(*m, "quantity") : "";
    const double work = num(member(result, "work"), quantity.c_str());
    if (per_rep > 0 && std::isfinite(watts)) {
      e.measured = true;
      e.joules = per_rep;
      e.avg_power_w = watts;
      e.low_confidence = energy.value("low_confidence", false);
      e.efficiency = std::isfinite(work) && work > 0 ? work / per_rep : kNaN;
      e.efficiency_unit = quantity == "flops" ? "FLOP/J" : quantity == "bytes" ? "B/J" : "1/J";
      return e;
    }
  }
  const std::string why = str(energy, "reason");
  e.reason = "not measured: " + (why.empty() ? std::string("no reading") : why);
  return e;
}

Report build_report(const std::vector<json>& runs, const json* baseline) {
  Report report;
  for (const auto& run : runs) report.runs.push_back(run_section(run));
  report.comparison = partition_comparison(runs);
  report.tiers = tier_comparison(runs);
  if (baseline)
    for (const auto& run : runs) report.regressions.push_back(regression(run, *baseline));
  roofline_charts(runs, report);
  sweep_charts(runs, report);
  if (report.comparison) comparison_charts(*report.comparison, report);
  for (std::size_t i = 0; i < report.regressions.size(); ++i) regression_chart(report.regressions[i], int(i) + 1, report);
  return report;
}

}  // namespace converge::analysis

namespace converge::analysis {

void add_acceptance(Report& report, const std::string& run_id, const std::string& site,
                    const std::vector<CheckResult>& checks) {
  report.acceptance.push_back({run_id, site, checks});
  const auto subjects = check_subjects(checks);
  json values = json::array();
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    const double ref = c.expected.value;
    const double lo = lower_bound(c.expected), hi = upper_bound(c.expected);
    json v = {{"figure", subjects[i] + " " + c.expected.metric}, {"status", to_string(c.status)}};
    v["ratio"] = std::isfinite(c.measured) && ref != 0 ? json(c.measured / ref) : json(0.0);
    v["low"] = std::isfinite(lo) && ref != 0 ? json(lo / ref) : json(nullptr);
    v["high"] = std::isfinite(hi) && ref != 0 ? json(hi / ref) : json(nullptr);
    values.push_back(std::move(v));
  }
  const json color = {{"field", "status"}, {"type", "nominal"}, {"title", "status"},
                      {"scale", {{"domain", {"pass", "fail", "missing"}}, {"range", {"#2e7d32", "#c62828", "#9e9e9e"}}}}};
  json spec = {
      {"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
      {"title", {{"text", "Acceptance: " + run_id}, {"subtitle", "measured / reference; ticks: the tolerance bounds; site " + site}}},
      {"width", 480},
      {"data", {{"values", values}}},
      {"encoding", {{"y", {{"field", "figure"}, {"type", "nominal"}, {"title", nullptr}, {"sort", nullptr}}}}},
      {"layer",
       json::array({json{{"mark", {{"type", "bar"}}},
                         {"encoding", {{"x", {{"field", "ratio"}, {"type", "quantitative"}, {"title", "measured / reference"}}},
                                       {"color", color}}}},
                    json{{"mark", {{"type", "tick"}, {"color", "black"}}},
                         {"encoding", {{"x", {{"field", "low"}, {"type", "quantitative"}}}}}},
                    json{{"mark", {{"type", "tick"}, {"color", "black"}}},
                         {"encoding", {{"x", {{"field", "high"}, {"type", "quantitative"}}}}}},
                    json{{"mark", {{"type", "rule"}, {"strokeDash", {4, 4}}}}, {"encoding", {{"x", {{"datum", 1}}}}}}})}};
  report.charts.push_back({fmt::format("acceptance-{}", report.acceptance.size()), "Acceptance: " + run_id,
                           "Each reference figure of the partition: the measured value over the reference (1 = the "
                           "reference, dashed), coloured pass / fail / missing (missing drawn at 0); black ticks mark "
                           "the tolerance bounds. From `converge report --site`, as `converge check` computes it.",
                           spec});
}

}  // namespace converge::analysis
