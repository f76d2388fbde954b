#include "results/run_document.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>

namespace converge::results {
namespace {

namespace fs = std::filesystem;
using core::make_error;

// ---- writing -------------------------------------------------------------------------------

/// JSON has no NaN or infinity: a non-finite double is written as null (read back as NaN).
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json ci_json(bool valid, double low, double high) {
  return {{"valid", valid}, {"low", num(low)}, {"high", num(high)}};
}

json strings(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

json cache_json(const core::CacheLevel& c) {
  return {{"level", c.level},
          {"type", c.type},
          {"size_bytes", c.size_bytes},
          {"instances", c.instances},
          {"shared_by_cpus", c.shared_by_cpus}};
}

json summary_json(const core::Summary& s) {
  json j = {{"n", s.n},           {"min", num(s.min)},       {"max", num(s.max)},
            {"mean", num(s.mean)}, {"median", num(s.median)}, {"stddev", num(s.stddev)},
            {"cv", num(s.cv)}};
  j["ci"] = ci_json(s.ci_valid, s.ci_low, s.ci_high);
  j["ci"]["level"] = num(s.ci_level);
  return j;
}

json metric_json(const core::MetricResult& m) {
  return {{"name", m.spec.name},
          {"unit", m.spec.unit},
          {"kind", core::to_string(m.spec.kind)},
          {"quantity", core::to_string(m.spec.quantity)},
          {"direction", core::to_string(m.spec.direction)},
          {"value", num(m.value)},
          {"best", num(m.best)},
          {"ci", ci_json(m.ci_valid, m.ci_low, m.ci_high)},
          {"peak", m.peak ? to_json(*m.peak) : json(nullptr)},
          {"fraction_of_peak", m.fraction_of_peak ? num(*m.fraction_of_peak) : json(nullptr)}};
}

// ---- reading -------------------------------------------------------------------------------
// Readers are lenient about absence and strict about types: a missing field keeps its default
// (so adding a field is a compatible change), a field of the wrong type or an unknown enum value
// throws a FieldError whose message is the field's path ("results[2].time.median: ...").

/// A malformed field; `path` locates it in the document ("results[2].time.median").
class FieldError : public std::runtime_error {
 public:
  FieldError(std::string path, const std::string& problem)
      : std::runtime_error(path.empty() ? problem : path + ": " + problem),
        path_(std::move(path)),
        problem_(problem) {}
  /// The same error one level up: `name` is the key or "[index]" that led here.
  FieldError within(const std::string& name) const {
    if (path_.empty()) return {name, problem_};
    return {name + (path_.starts_with('[') ? "" : ".") + path_, problem_};
  }

 private:
  std::string path_, problem_;
};

/// nlohmann's message without its "[json.exception.type_error.302] " tag.
std::string sentence(const json::exception& e) {
  std::string what = e.what();
  if (const auto tag_end = what.find("] "); what.starts_with("[json.") && tag_end != what.npos)
    what.erase(0, tag_end + 2);
  return what;
}

[[noreturn]] void wrong_type(const char* expected, const json& j) {
  throw FieldError("", std::string("expected ") + expected + ", got " + j.type_name());
}

void expect_object(const json& j) {
  if (!j.is_object()) wrong_type("an object", j);
}

/// Runs `read` and prefixes the path of any error it throws with `name`.
template <typename F>
auto within(const std::string& name, F&& read) {
  try {
    return read();
  } catch (const FieldError& e) {
    throw e.within(name);
  } catch (const json::exception& e) {
    throw FieldError(name, sentence(e));
  }
}

/// Doubles are written as null when not finite (see num()); null reads back as NaN.
double number_or_nan(const json& j) {
  if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!j.is_number()) wrong_type("a number or null", j);
  return j.get<double>();
}

template <typename T>
void read(const json& j, const std::string& key, T& out) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  within(key, [&] {
    if constexpr (std::is_same_v<T, double>)
      out = number_or_nan(*it);
    else
      it->get_to(out);  // throws "type must be string, but is null" and the like
  });
}

/// Calls `read_fn(object)` on the object at `key`, if present.
template <typename F>
void read_object(const json& j, const std::string& key, F&& read_fn) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  within(key, [&] {
    expect_object(*it);
    read_fn(*it);
  });
}

/// Replaces `out` by `read_fn` applied to each element of the array at `key`, if present.
template <typename T, typename F>
void read_array(const json& j, const std::string& key, std::vector<T>& out, F&& read_fn) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  within(key, [&] {
    if (!it->is_array()) wrong_type("an array", *it);
    out.clear();
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string index = std::string("[").append(std::to_string(i)).append("]");
      out.push_back(within(index, [&] { return read_fn((*it)[i]); }));
    }
  });
}

/// Parses an enum from the string core::to_string gives for it.
template <typename E, std::size_t N>
void read_enum(const json& j, const std::string& key, E& out, const std::array<E, N>& all) {
  if (j.find(key) == j.end()) return;
  std::string text;
  read(j, key, text);
  std::string expected;
  for (E e : all) {
    if (core::to_string(e) == text) {
      out = e;
      return;
    }
    expected += (expected.empty() ? "" : ", ") + core::to_string(e);
  }
  throw FieldError(key, "unknown value '" + text + "' (expected one of " + expected + ")");
}

constexpr std::array kStatuses{core::Status::ok, core::Status::failed, core::Status::skipped,
                               core::Status::invalid};
constexpr std::array kVerifyStatuses{core::VerifyStatus::passed, core::VerifyStatus::failed,
                                     core::VerifyStatus::not_checked};
constexpr std::array kKinds{core::MetricKind::rate, core::MetricKind::time_per_item};
constexpr std::array kQuantities{core::Quantity::flops, core::Quantity::bytes,
                                 core::Quantity::items, core::Quantity::bus_bytes};
constexpr std::array kDirections{core::Direction::higher_is_better,
                                 core::Direction::lower_is_better};

core::CacheLevel cache_from_json(const json& j) {
  expect_object(j);
  core::CacheLevel c;
  read(j, "level", c.level);
  read(j, "type", c.type);
  read(j, "size_bytes", c.size_bytes);
  read(j, "instances", c.instances);
  read(j, "shared_by_cpus", c.shared_by_cpus);
  return c;
}

json gpu_json(const core::GpuInventory& g) {
  return {{"index", g.index},
          {"name", g.name},
          {"uuid", g.uuid},
          {"pci_bus_id", g.pci_bus_id},
          {"compute_capability", std::to_string(g.cc_major) + "." + std::to_string(g.cc_minor)},
          {"sm_count", g.sm_count},
          {"max_sm_mhz", num(g.max_sm_mhz)},
          {"max_mem_mhz", num(g.max_mem_mhz)},
          {"current_sm_mhz", num(g.current_sm_mhz)},
          {"current_mem_mhz", num(g.current_mem_mhz)},
          {"memory_bytes", g.memory_bytes},
          {"bus_width_bits", g.bus_width_bits},
          {"l2_bytes", g.l2_bytes},
          {"ecc", g.ecc},
          {"power_limit_w", num(g.power_limit_w)},
          {"driver_version", g.driver_version},
          {"runtime_version", g.runtime_version},
          {"nvml", g.nvml}};
}

core::GpuInventory gpu_from_json(const json& j) {
  expect_object(j);
  core::GpuInventory g;
  read(j, "index", g.index);
  read(j, "name", g.name);
  read(j, "uuid", g.uuid);
  read(j, "pci_bus_id", g.pci_bus_id);
  std::string cc;
  read(j, "compute_capability", cc);
  if (const auto dot = cc.find('.'); dot != std::string::npos) {
    g.cc_major = std::atoi(cc.substr(0, dot).c_str());
    g.cc_minor = std::atoi(cc.substr(dot + 1).c_str());
  }
  read(j, "sm_count", g.sm_count);
  read(j, "max_sm_mhz", g.max_sm_mhz);
  read(j, "max_mem_mhz", g.max_mem_mhz);
  read(j, "current_sm_mhz", g.current_sm_mhz);
  read(j, "current_mem_mhz", g.current_mem_mhz);
  read(j, "memory_bytes", g.memory_bytes);
  read(j, "bus_width_bits", g.bus_width_bits);
  read(j, "l2_bytes", g.l2_bytes);
  read(j, "ecc", g.ecc);
  read(j, "power_limit_w", g.power_limit_w);
  read(j, "driver_version", g.driver_version);
  read(j, "runtime_version", g.runtime_version);
  read(j, "nvml", g.nvml);
  return g;
}

// A tier that could not be described has only its name, path and why (no invented figures).
json storage_json(const core::StorageInventory& s) {
  if (!s.error.empty()) return {{"tier", s.tier}, {"path", s.path}, {"error", s.error}};
  return {{"tier", s.tier},
          {"path", s.path},
          {"real_path", s.real_path},
          {"type", s.type},
          {"mount_point", s.mount_point},
          {"source", s.source},
          {"options", s.options},
          {"total_bytes", s.total_bytes},
          {"available_bytes", s.available_bytes}};
}

core::StorageInventory storage_from_json(const json& j) {
  expect_object(j);
  core::StorageInventory s;
  read(j, "tier", s.tier);
  read(j, "path", s.path);
  read(j, "real_path", s.real_path);
  read(j, "type", s.type);
  read(j, "mount_point", s.mount_point);
  read(j, "source", s.source);
  read(j, "options", s.options);
  read(j, "total_bytes", s.total_bytes);
  read(j, "available_bytes", s.available_bytes);
  read(j, "error", s.error);
  return s;
}

core::Summary summary_from_json(const json& j) {
  core::Summary s;
  read(j, "n", s.n);
  read(j, "min", s.min);
  read(j, "max", s.max);
  read(j, "mean", s.mean);
  read(j, "median", s.median);
  read(j, "stddev", s.stddev);
  read(j, "cv", s.cv);
  read_object(j, "ci", [&](const json& ci) {
    read(ci, "valid", s.ci_valid);
    read(ci, "low", s.ci_low);
    read(ci, "high", s.ci_high);
    read(ci, "level", s.ci_level);
  });
  return s;
}

core::MetricResult metric_from_json(const json& j) {
  expect_object(j);
  core::MetricResult m;
  read(j, "name", m.spec.name);
  read(j, "unit", m.spec.unit);
  read_enum(j, "kind", m.spec.kind, kKinds);
  read_enum(j, "quantity", m.spec.quantity, kQuantities);
  read_enum(j, "direction", m.spec.direction, kDirections);
  read(j, "value", m.value);
  read(j, "best", m.best);
  read_object(j, "ci", [&](const json& ci) {
    read(ci, "valid", m.ci_valid);
    read(ci, "low", m.ci_low);
    read(ci, "high", m.ci_high);
  });
  // null means "no peak known" / "no fraction", not NaN.
  if (const auto it = j.find("peak"); it != j.end() && !it->is_null())
    m.peak = within("peak", [&] { return peak_from_json(*it); });
  if (const auto it = j.find("fraction_of_peak"); it != j.end() && !it->is_null())
    read(j, "fraction_of_peak", m.fraction_of_peak.emplace());
  return m;
}

}  // namespace

// ---- public: JSON form -----------------------------------------------------------------------

json to_json(const core::Peak& p) {
  return {{"value", num(p.value)},
          {"unit", p.unit},
          {"source", p.source},
          {"assumptions", p.assumptions}};
}

core::Peak peak_from_json(const json& j) {
  expect_object(j);
  core::Peak p;
  read(j, "value", p.value);
  read(j, "unit", p.unit);
  read(j, "source", p.source);
  read(j, "assumptions", p.assumptions);
  return p;
}

json to_json(const core::Inventory& inv) {
  const auto& c = inv.cpu;
  json caches = json::array();
  for (const auto& level : c.caches) caches.push_back(cache_json(level));
  json cpu = {{"vendor", c.vendor},
              {"model_name", c.model_name},
              {"family", c.family},
              {"model", c.model},
              {"stepping", c.stepping},
              {"sockets", c.sockets},
              {"cores", c.cores},
              {"threads", c.threads},
              {"numa_nodes", c.numa_nodes},
              {"caches", caches},
              {"isa", c.isa},
              {"nominal_ghz", num(c.nominal_ghz)},
              {"max_ghz", num(c.max_ghz)},
              {"frequency_source", c.frequency_source},
              {"hypervisor", c.hypervisor},
              {"microarchitecture", c.microarchitecture}};
  json memory = {{"total_bytes", inv.memory.total_bytes},
                 {"available_bytes", inv.memory.available_bytes},
                 {"hwloc_total_bytes", inv.memory.hwloc_total_bytes}};
  json blas = {{"library", inv.blas.library},
               {"version", inv.blas.version},
               {"config", inv.blas.config},
               {"corename", inv.blas.corename},
               {"threads", inv.blas.threads}};
  return {{"hostname", inv.hostname},
          {"cpu", cpu},
          {"memory", memory},
          {"os", inv.os},
          {"kernel", inv.kernel},
          {"arch", inv.arch},
          {"compiler", inv.compiler},
          {"compiler_flags", inv.compiler_flags},
          {"build_type", inv.build_type},
          {"blas", blas},
          {"suite_version", inv.suite_version},
          {"git_revision", inv.git_revision},
          {"topology_source", inv.topology_source},
          {"environment", strings(inv.environment)},
          {"warnings", inv.warnings},
          {"gpus", [&] {
             json gpus = json::array();
             for (const auto& g : inv.gpus) gpus.push_back(gpu_json(g));
             return gpus;
           }()},
          {"gpu_probe", inv.gpu_probe},
          {"storage", [&] {
             json storage = json::array();
             for (const auto& s : inv.storage) storage.push_back(storage_json(s));
             return storage;
           }()}};
}

core::Inventory inventory_from_json(const json& j) {
  expect_object(j);
  core::Inventory inv;
  read(j, "hostname", inv.hostname);
  read_object(j, "cpu", [&](const json& cj) {
    auto& c = inv.cpu;
    read(cj, "vendor", c.vendor);
    read(cj, "model_name", c.model_name);
    read(cj, "family", c.family);
    read(cj, "model", c.model);
    read(cj, "stepping", c.stepping);
    read(cj, "sockets", c.sockets);
    read(cj, "cores", c.cores);
    read(cj, "threads", c.threads);
    read(cj, "numa_nodes", c.numa_nodes);
    read_array(cj, "caches", c.caches, cache_from_json);
    read(cj, "isa", c.isa);
    read(cj, "nominal_ghz", c.nominal_ghz);
    read(cj, "max_ghz", c.max_ghz);
    read(cj, "frequency_source", c.frequency_source);
    read(cj, "hypervisor", c.hypervisor);
    read(cj, "microarchitecture", c.microarchitecture);
  });
  read_object(j, "memory", [&](const json& mj) {
    auto& m = inv.memory;
    read(mj, "total_bytes", m.total_bytes);
    read(mj, "available_bytes", m.available_bytes);
    read(mj, "hwloc_total_bytes", m.hwloc_total_bytes);
  });
  read(j, "os", inv.os);
  read(j, "kernel", inv.kernel);
  read(j, "arch", inv.arch);
  read(j, "compiler", inv.compiler);
  read(j, "compiler_flags", inv.compiler_flags);
  read(j, "build_type", inv.build_type);
  read_object(j, "blas", [&](const json& bj) {
    auto& b = inv.blas;
    read(bj, "library", b.library);
    read(bj, "version", b.version);
    read(bj, "config", b.config);
    read(bj, "corename", b.corename);
    read(bj, "threads", b.threads);
  });
  read(j, "suite_version", inv.suite_version);
  read(j, "git_revision", inv.git_revision);
  read(j, "topology_source", inv.topology_source);
  read(j, "environment", inv.environment);
  read(j, "warnings", inv.warnings);
  read_array(j, "gpus", inv.gpus, gpu_from_json);
  read(j, "gpu_probe", inv.gpu_probe);
  read_array(j, "storage", inv.storage, storage_from_json);
  return inv;
}

namespace {

json energy_json(const core::energy::EnergyResult& e) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  json domains = json::array();
  for (const auto& d : e.domains)
    domains.push_back({{"meter", d.meter}, {"domain", d.domain}, {"method", d.method}, {"joules", num(d.joules)},
                       {"avg_watts", num(d.avg_watts)}, {"region_s", num(d.region_s)}, {"covered_s", num(d.covered_s)},
                       {"readings", d.readings}, {"resolution", num(d.resolution)},
                       {"update_period_s", num(d.update_period_s)}, {"level", d.level},
                       {"low_confidence", d.low_confidence}, {"idle_watts", num(d.idle_watts)}});
  json efficiency = json::array();
  for (const auto& x : e.efficiency) efficiency.push_back({{"metric", x.metric}, {"unit", x.unit}, {"value", num(x.value)}});
  json before = json::object(), after = json::object();
  for (const auto& [k, v] : e.telemetry_before) before[k] = num(v);
  for (const auto& [k, v] : e.telemetry_after) after[k] = num(v);
  return {{"measured", e.measured},
          {"reason", e.reason},
          {"joules", num(e.measured ? e.joules : nan)},
          {"avg_watts", num(e.measured ? e.avg_watts : nan)},
          {"total_of", e.total_of},
          {"idle_watts", num(e.idle_watts)},
          {"dynamic_joules", num(e.dynamic_joules)},
          {"low_confidence", e.low_confidence},
          {"domains", domains},
          {"efficiency", efficiency},
          {"joules_per_rep", num(e.measured ? e.joules_per_rep : nan)},
          {"flags", e.flags},
          {"telemetry_before", before},
          {"telemetry_after", after},
          {"sampler_cpu_fraction", num(e.sampler_cpu_fraction)}};
}

core::energy::EnergyResult energy_from_json(const json& j) {
  expect_object(j);
  core::energy::EnergyResult e;
  read(j, "measured", e.measured);
  read(j, "reason", e.reason);
  read(j, "joules", e.joules);
  read(j, "avg_watts", e.avg_watts);
  read(j, "total_of", e.total_of);
  read(j, "idle_watts", e.idle_watts);
  read(j, "dynamic_joules", e.dynamic_joules);
  read(j, "low_confidence", e.low_confidence);
  read_array(j, "domains", e.domains, [](const json& dj) {
    expect_object(dj);
    core::energy::DomainEnergy d;
    read(dj, "meter", d.meter);
    read(dj, "domain", d.domain);
    read(dj, "method", d.method);
    read(dj, "joules", d.joules);
    read(dj, "avg_watts", d.avg_watts);
    read(dj, "region_s", d.region_s);
    read(dj, "covered_s", d.covered_s);
    read(dj, "readings", d.readings);
    read(dj, "resolution", d.resolution);
    read(dj, "update_period_s", d.update_period_s);
    read(dj, "level", d.level);
    read(dj, "low_confidence", d.low_confidence);
    read(dj, "idle_watts", d.idle_watts);
    return d;
  });
  read_array(j, "efficiency", e.efficiency, [](const json& xj) {
    expect_object(xj);
    core::energy::EnergyResult::Efficiency x;
    read(xj, "metric", x.metric);
    read(xj, "unit", x.unit);
    read(xj, "value", x.value);
    return x;
  });
  read(j, "joules_per_rep", e.joules_per_rep);
  read(j, "flags", e.flags);
  read_object(j, "telemetry_before", [&](const json& t) {
    for (const auto& [k, v] : t.items()) e.telemetry_before[k] = number_or_nan(v);
  });
  read_object(j, "telemetry_after", [&](const json& t) {
    for (const auto& [k, v] : t.items()) e.telemetry_after[k] = number_or_nan(v);
  });
  read(j, "sampler_cpu_fraction", e.sampler_cpu_fraction);
  return e;
}

}  // namespace

json to_json(const core::Result& r) {
  const auto& p = r.policy;
  json samples = json::array();
  for (double s : r.samples_s) samples.push_back(num(s));
  json metrics = json::array();
  for (const auto& m : r.metrics) metrics.push_back(metric_json(m));
  const auto& v = r.verification;
  json out = {{"benchmark", r.benchmark},
          {"family", r.family},
          {"backend", r.backend},
          {"instance", r.instance},
          {"host", r.host},
          {"rank", r.rank},
          {"params", strings(r.params)},
          {"status", core::to_string(r.status)},
          {"reason", r.reason},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"policy",
           {{"warmup", p.warmup},
            {"min_reps", p.min_reps},
            {"max_reps", p.max_reps},
            {"min_time_s", num(p.min_time_s)},
            {"ci_target", num(p.ci_target)},
            {"budget_s", num(p.budget_s)}}},
          {"warmup_reps", r.warmup_reps},
          {"samples_s", samples},
          {"time", summary_json(r.time)},
          {"stop_reason", r.stop_reason},
          {"wall_s", num(r.wall_s)},
          {"timer", {{"name", r.timer}, {"resolution_s", num(r.timer_resolution_s)}}},
          {"work",
           {{"flops", num(r.work.flops)},
            {"bytes", num(r.work.bytes)},
            {"items", num(r.work.items)},
            {"bus_bytes", num(r.work.bus_bytes)}}},
          {"metrics", metrics},
          {"verification",
           {{"status", core::to_string(v.status)},
            {"method", v.method},
            {"max_error", num(v.max_error)},
            {"tolerance", num(v.tolerance)},
            {"message", v.message}}},
          {"notes", strings(r.notes)},
          {"energy", energy_json(r.energy)}};
  if (r.ranks.count > 1)
    out["ranks"] = {{"count", r.ranks.count}, {"reduction", r.ranks.reduction}, {"min_s", num(r.ranks.min_s)},
                    {"avg_s", num(r.ranks.avg_s)}, {"max_s", num(r.ranks.max_s)}};
  return out;
}

core::Result result_from_json(const json& j) {
  expect_object(j);
  core::Result r;
  read(j, "benchmark", r.benchmark);
  read(j, "family", r.family);
  read(j, "backend", r.backend);
  read(j, "instance", r.instance);
  read(j, "host", r.host);
  read(j, "rank", r.rank);
  read(j, "params", r.params);
  read_enum(j, "status", r.status, kStatuses);
  read(j, "reason", r.reason);
  read(j, "started_at", r.started_at);
  read(j, "finished_at", r.finished_at);
  read_object(j, "policy", [&](const json& pj) {
    auto& p = r.policy;
    read(pj, "warmup", p.warmup);
    read(pj, "min_reps", p.min_reps);
    read(pj, "max_reps", p.max_reps);
    read(pj, "min_time_s", p.min_time_s);
    read(pj, "ci_target", p.ci_target);
    read(pj, "budget_s", p.budget_s);
  });
  read(j, "warmup_reps", r.warmup_reps);
  read_array(j, "samples_s", r.samples_s, number_or_nan);
  read_object(j, "time", [&](const json& tj) { r.time = summary_from_json(tj); });
  read(j, "stop_reason", r.stop_reason);
  read(j, "wall_s", r.wall_s);
  read_object(j, "timer", [&](const json& tj) {
    read(tj, "name", r.timer);
    read(tj, "resolution_s", r.timer_resolution_s);
  });
  read_object(j, "work", [&](const json& wj) {
    auto& w = r.work;
    read(wj, "flops", w.flops);
    read(wj, "bytes", w.bytes);
    read(wj, "items", w.items);
    read(wj, "bus_bytes", w.bus_bytes);
  });
  read_array(j, "metrics", r.metrics, metric_from_json);
  read_object(j, "verification", [&](const json& vj) {
    auto& v = r.verification;
    read_enum(vj, "status", v.status, kVerifyStatuses);
    read(vj, "method", v.method);
    read(vj, "max_error", v.max_error);
    read(vj, "tolerance", v.tolerance);
    read(vj, "message", v.message);
  });
  read(j, "notes", r.notes);
  read_object(j, "energy", [&](const json& ej) { r.energy = energy_from_json(ej); });
  read_object(j, "ranks", [&](const json& rj) {
    read(rj, "count", r.ranks.count);
    read(rj, "reduction", r.ranks.reduction);
    read(rj, "min_s", r.ranks.min_s);
    read(rj, "avg_s", r.ranks.avg_s);
    read(rj, "max_s", r.ranks.max_s);
  });
  return r;
}

json to_json(const RunDocument& doc) {
  json peaks = json::object();
  for (const auto& [id, peak] : doc.peaks) peaks[id] = to_json(peak);
  json results = json::array();
  for (const auto& r : doc.results) results.push_back(to_json(r));
  json nodes = json::object();
  for (const auto& [host, inv] : doc.node_inventories) nodes[host] = to_json(inv);
  return {{"schema_version", doc.schema_version},
          {"run_id", doc.run_id},
          {"suite", doc.suite},
          {"site", doc.site},
          {"partition", doc.partition},
          {"hosts", doc.hosts},
          {"command_line", doc.command_line},
          {"launch", doc.launch},
          {"started_at", doc.started_at},
          {"finished_at", doc.finished_at},
          {"complete", doc.complete},
          {"inventory", to_json(doc.inventory)},
          {"node_inventories", nodes},
          {"peaks", peaks},
          {"plan", doc.plan},
          {"energy", doc.energy},
          {"results", results}};
}

core::Expected<RunDocument> run_from_json(const json& j) {
  const std::string reads = "this converge reads schema_version " + std::to_string(kSchemaVersion);
  if (!j.is_object())
    return make_error(std::string("not a run document: expected an object, got ") + j.type_name());
  const auto version = j.find("schema_version");
  if (version == j.end())
    return make_error("not a run document: no schema_version (" + reads + ")");
  if (!version->is_number_integer() || version->get<long long>() != kSchemaVersion)
    return make_error("run document has schema_version " + version->dump() + "; " + reads);
  RunDocument doc;
  try {
    read(j, "run_id", doc.run_id);
    read(j, "suite", doc.suite);
    read(j, "site", doc.site);
    read(j, "partition", doc.partition);
    read(j, "hosts", doc.hosts);
    read(j, "command_line", doc.command_line);
    if (j.contains("launch")) doc.launch = j["launch"];
    read(j, "started_at", doc.started_at);
    read(j, "finished_at", doc.finished_at);
    read(j, "complete", doc.complete);
    read_object(j, "inventory", [&](const json& ij) { doc.inventory = inventory_from_json(ij); });
    read_object(j, "node_inventories", [&](const json& nj) {
      for (const auto& [host, inv] : nj.items())
        doc.node_inventories[host] = within("[\"" + host + "\"]", [&] { return inventory_from_json(inv); });
    });
    read_object(j, "peaks", [&](const json& pj) {
      for (const auto& [id, peak] : pj.items())
        doc.peaks[id] = within("[\"" + id + "\"]", [&] { return peak_from_json(peak); });
    });
    if (j.contains("plan")) doc.plan = j["plan"];
    if (j.contains("energy")) doc.energy = j["energy"];
    read_array(j, "results", doc.results, result_from_json);
  } catch (const FieldError& e) {
    return make_error(std::string("run document: ") + e.what());
  }
  return doc;
}

// ---- public: files ---------------------------------------------------------------------------

core::Expected<json> read_json_file(const std::string& path) {
  const auto errno_text = [](int err) { return std::string(std::strerror(err)); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot read " + path + ": " + errno_text(errno));
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return make_error("cannot read " + path + ": " + errno_text(err));
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    return make_error(path + ": not valid JSON at byte " + std::to_string(e.byte) + ": " +
                      sentence(e));
  }
}

json to_json(const core::ParamSpec& p) {
  json j = {{"name", p.name}, {"type", core::to_string(p.type)}, {"default", p.default_value}, {"doc", p.doc}};
  if (!p.choices.empty()) j["choices"] = p.choices;
  if (p.min) j["min"] = *p.min;
  if (p.max) j["max"] = *p.max;
  return j;
}

core::ParamSpec param_spec_from_json(const json& j) {
  using core::ParamType;
  core::ParamSpec s;
  s.name = j.at("name").get<std::string>();
  const std::string t = j.value("type", "integer");
  for (ParamType candidate : {ParamType::integer, ParamType::size, ParamType::real, ParamType::string,
                              ParamType::boolean, ParamType::choice})
    if (core::to_string(candidate) == t) s.type = candidate;
  s.default_value = j.value("default", "");
  s.doc = j.value("doc", "");
  if (j.contains("choices")) s.choices = j["choices"].get<std::vector<std::string>>();
  if (j.contains("min")) s.min = j["min"].get<double>();
  if (j.contains("max")) s.max = j["max"].get<double>();
  return s;
}

}  // namespace converge::results
