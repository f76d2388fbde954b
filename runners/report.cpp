#include "runners/report.hpp"

#include <cmath>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "core/units.hpp"

namespace converge::runners {

using results::json;

namespace {

double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

std::string params_text(const json& r, const json& given) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : given.items()) parts.push_back(fmt::format("{}={}", k, v.get<std::string>()));
  // Show what "auto" resolved to for the parameters that matter most when reading a figure.
  for (const char* key : {"threads", "n", "size"}) {
    if (given.contains(key) || !r["params"].contains(key)) continue;
    parts.push_back(fmt::format("{}={}", key, r["params"][key].get<std::string>()));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

std::string pad(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}
std::string rpad(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}

std::string status_text(const json& r) {
  const std::string st = r.value("status", "?");
  if (st == "ok") return r["verification"].value("status", "") == "passed" ? "ok, verified" : "ok, unverified";
  return st;
}

}  // namespace

std::string result_line(const json& r, const json& given) {
  const std::string st = r.value("status", "?");
  std::string figure;
  if (st == "ok" && !r["metrics"].empty()) {
    const auto& m = r["metrics"][0];
    figure = core::format_value(num(m, "value"), m.value("unit", ""));
    if (m["fraction_of_peak"].is_number())
      figure += fmt::format(" ({:.1f}% of peak)", 100 * m["fraction_of_peak"].get<double>());
  } else {
    figure = r.value("reason", "");
  }
  return fmt::format("{} {}: {} {}", r.value("benchmark", "?"),
                     params_text(r, given), status_text(r), figure);
}

std::string results_table(const json& run, const std::vector<json>& given) {
  struct Row { std::string cells[8]; };
  std::vector<Row> rows;
  rows.push_back({{"benchmark", "params", "metric", "median", "95% CI of median", "of peak", "reps  CV", "status"}});
  std::vector<std::string> notes;
  // Several nodes or ranks: say where each result came from.
  std::set<std::pair<std::string, int>> places;
  for (const auto& r : run["results"]) places.insert({r.value("host", ""), r.value("rank", 0)});
  for (std::size_t i = 0; i < run["results"].size(); ++i) {
    const auto& r = run["results"][i];
    Row row;
    row.cells[0] = r.value("benchmark", "?");
    if (places.size() > 1)
      row.cells[0] += fmt::format(" @{}#{}", r.value("host", "").empty() ? "?" : r.value("host", ""), r.value("rank", 0));
    row.cells[1] = params_text(r, i < given.size() ? given[i] : json::object());
    const std::string st = r.value("status", "?");
    if (st == "ok" && !r["metrics"].empty()) {
      const auto& m = r["metrics"][0];
      const std::string unit = m.value("unit", "");
      row.cells[2] = m.value("name", "");
      row.cells[3] = core::format_value(num(m, "value"), unit);
      const auto& ci = m["ci"];
      row.cells[4] = ci.value("valid", false)
                         ? fmt::format("{} .. {}", core::format_value(num(ci, "low"), unit),
                                       core::format_value(num(ci, "high"), unit))
                         : "n/a (too few reps)";
      row.cells[5] = m["fraction_of_peak"].is_number()
                         ? fmt::format("{:.1f}%", 100 * m["fraction_of_peak"].get<double>())
                         : "-";
      row.cells[6] = fmt::format("{:>4}  {:.1f}%", r["time"].value("n", 0), 100 * num(r["time"], "cv"));
      row.cells[7] = status_text(r);
    } else {
      row.cells[7] = st;
      notes.push_back(fmt::format("{} {}: {}: {}", row.cells[0], row.cells[1], st, r.value("reason", "")));
      row.cells[2] = "-";
      row.cells[3] = "see below";
    }
    rows.push_back(std::move(row));
  }
  std::size_t w[8] = {};
  for (const auto& row : rows)
    for (int i = 0; i < 8; ++i) w[i] = std::max(w[i], row.cells[i].size());
  std::string out;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& c = rows[k].cells;
    out += fmt::format("{}  {}  {}  {}  {}  {}  {}  {}\n", pad(c[0], w[0]), pad(c[1], w[1]), pad(c[2], w[2]),
                       rpad(c[3], w[3]), pad(c[4], w[4]), rpad(c[5], w[5]), pad(c[6], w[6]), c[7]);
    if (k == 0) {
      std::size_t total = 14;
      for (auto x : w) total += x;
      out += std::string(total, '-') + "\n";
    }
  }
  for (const auto& n : notes) out += "  " + n + "\n";
  return out;
}

std::string inventory_text(const json& inv, const json& peaks) {
  std::string out;
  const auto& cpu = inv["cpu"];
  const auto& mem = inv["memory"];
  auto line = [&](const std::string& k, const std::string& v) { out += fmt::format("  {:<14}{}\n", k, v); };
  out += "converge " + inv.value("suite_version", "?") + " (" + inv.value("git_revision", "?") + ") on " +
         inv.value("hostname", "?") + "\n";
  line("cpu", fmt::format("{} ({}, family {} model {}{})", cpu.value("model_name", "?"),
                          cpu.value("microarchitecture", "?"), cpu.value("family", 0), cpu.value("model", 0),
                          cpu.value("hypervisor", false) ? ", virtual machine" : ""));
  line("topology", fmt::format("{} socket(s), {} cores, {} threads, {} NUMA node(s) [{}]", cpu.value("sockets", 0),
                               cpu.value("cores", 0), cpu.value("threads", 0), cpu.value("numa_nodes", 0),
                               inv.value("topology_source", "?")));
  std::vector<std::string> caches;
  for (const auto& c : cpu.value("caches", json::array()))
    caches.push_back(fmt::format("L{}{} {} x{}", c.value("level", 0),
                                 c.value("type", "") == "data" ? "d" : c.value("type", "") == "instruction" ? "i" : "",
                                 core::format_bytes(c.value("size_bytes", 0ull)), c.value("instances", 0)));
  line("caches", fmt::format("{}", fmt::join(caches, ", ")));
  line("isa", fmt::format("{}", fmt::join(cpu.value("isa", std::vector<std::string>{}), " ")));
  line("frequency", fmt::format("nominal {:.3f} GHz, max {:.3f} GHz ({})", num(cpu, "nominal_ghz"),
                                num(cpu, "max_ghz"), cpu.value("frequency_source", "?")));
  line("memory", fmt::format("{} total, {} available (/proc/meminfo); hwloc says {}",
                             core::format_bytes(mem.value("total_bytes", 0ull)),
                             core::format_bytes(mem.value("available_bytes", 0ull)),
                             core::format_bytes(mem.value("hwloc_total_bytes", 0ull))));
  line("os", fmt::format("{}, kernel {} {}", inv.value("os", "?"), inv.value("kernel", "?"), inv.value("arch", "?")));
  line("compiler", fmt::format("{} [{}] {}", inv.value("compiler", "?"), inv.value("build_type", "?"),
                               inv.value("compiler_flags", "")));
  const auto& blas = inv["blas"];
  line("blas", blas.value("library", "").empty()
                   ? std::string("none linked")
                   : fmt::format("{} {}, kernels '{}', {} threads", blas.value("library", ""),
                                 blas.value("version", ""), blas.value("corename", ""), blas.value("threads", 0)));
  for (const auto& g : inv.value("gpus", json::array()))
    line(fmt::format("gpu {}", g.value("index", 0)),
         fmt::format("{} ({}, sm {}, {} SMs, SM clock max {:.0f} MHz (now {:.0f}), memory {} at {:.0f} MHz x {} bit, "
                     "L2 {}, ECC {}, power limit {:.0f} W; driver {}, runtime {})",
                     g.value("name", "?"), g.value("uuid", "?"), g.value("compute_capability", "?"),
                     g.value("sm_count", 0), num(g, "max_sm_mhz"), num(g, "current_sm_mhz"),
                     core::format_bytes(g.value("memory_bytes", 0ull)), num(g, "max_mem_mhz"),
                     g.value("bus_width_bits", 0), core::format_bytes(g.value("l2_bytes", 0ull)),
                     g.value("ecc", "?"), num(g, "power_limit_w"), g.value("driver_version", "?"),
                     g.value("runtime_version", "?")) +
             (g.value("nvml", "").empty() ? "" : "; " + g.value("nvml", "")));
  if (inv.value("gpus", json::array()).empty() && !inv.value("gpu_probe", "").empty())
    line("gpus", "none: " + inv.value("gpu_probe", ""));
  const json environment = inv.value("environment", json::object());
  for (const auto& [k, v] : environment.items())
    line("env", fmt::format("{}={}", k, v.get<std::string>()));
  out += "peak model:\n";
  for (const auto& [id, p] : peaks.items())
    out += fmt::format("  {:<14}{}  [{}: {}]\n", id, core::format_value(num(p, "value"), p.value("unit", "")),
                       p.value("source", ""), p.value("assumptions", ""));
  for (const auto& w : inv.value("warnings", std::vector<std::string>{})) out += "WARNING: " + w + "\n";
  return out;
}

}  // namespace converge::runners
