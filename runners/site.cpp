#include "runners/site.hpp"

#include <unistd.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "core/benchmark.hpp"
#include "core/params.hpp"
#include "core/placement.hpp"
#include "runners/embedded_configs.hpp"
#include "runners/workers.hpp"
#include "runners/yaml_util.hpp"

namespace converge::runners {

using results::json;

std::string to_string(LauncherKind k) {
  switch (k) {
    case LauncherKind::local: return "local";
    case LauncherKind::mpirun: return "mpirun";
    case LauncherKind::slurm: return "slurm";
  }
  return "?";
}

const Partition* Site::find(const std::string& name) const {
  for (const auto& p : partitions)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string> Site::partition_names() const {
  std::vector<std::string> out;
  for (const auto& p : partitions) out.push_back(p.name);
  return out;
}

const std::vector<std::string>& energy_meter_names() {
  static const std::vector<std::string> names = {"rapl", "nvml", "likwid", "ipmi"};
  return names;
}

namespace {

using Err = core::Expected<void>;

std::vector<std::string> string_list(const YAML::Node& n, const std::string& source, const std::string& what) {
  if (n.IsScalar()) return {n.as<std::string>()};
  if (!n.IsSequence()) throw std::runtime_error(fmt::format("{}: {} must be a list", where(source, n), what));
  std::vector<std::string> out;
  for (const auto& e : n) out.push_back(e.as<std::string>());
  return out;
}

int positive_int(const YAML::Node& n, const std::string& source, const std::string& what, bool zero_ok) {
  auto v = core::parse_integer(n.as<std::string>());
  if (!v || *v < (zero_ok ? 0 : 1) || *v > 1000000)
    throw std::runtime_error(fmt::format("{}: {} must be an integer {} 0, got '{}'", where(source, n), what,
                                         zero_ok ? ">=" : ">", n.as<std::string>()));
  return static_cast<int>(*v);
}

double number(const YAML::Node& n, const std::string& source, const std::string& what) {
  auto v = core::parse_real(n.as<std::string>());
  if (!v) throw std::runtime_error(fmt::format("{}: {}: '{}' is not a number", where(source, n), what, n.as<std::string>()));
  return *v;
}

void ok_or_throw(const Err& e) {
  if (!e) throw std::runtime_error(e.error());
}

Reference parse_reference(const std::string& metric, const YAML::Node& n, const std::string& source) {
  Reference r;
  r.metric = metric;
  r.line = n.Mark().line + 1;
  // Nodes are bound once: assigning to a YAML::Node rebinds the node it refers to.
  const bool list = n.IsSequence();
  if (list && n.size() != 4)
    throw std::runtime_error(fmt::format("{}: reference '{}' is [value, lower, upper, unit], e.g. "
                                         "[350e9, -0.1, null, B/s]; got {} items", where(source, n), metric, n.size()));
  if (!list && !n.IsMap())
    throw std::runtime_error(fmt::format("{}: reference '{}' is [value, lower, upper, unit] or a mapping",
                                         where(source, n), metric));
  if (!list) {
    ok_or_throw(check_keys(n, {"value", "lower", "upper", "unit"}, source, "a reference"));
    if (!n["value"] || !n["unit"])
      throw std::runtime_error(fmt::format("{}: reference '{}' needs value and unit", where(source, n), metric));
  }
  const YAML::Node value = list ? n[0] : n["value"];
  const YAML::Node lower = list ? n[1] : n["lower"];
  const YAML::Node upper = list ? n[2] : n["upper"];
  const YAML::Node unit = list ? n[3] : n["unit"];
  r.value = number(value, source, metric + " value");
  if (lower && !lower.IsNull()) r.lower = number(lower, source, metric + " lower tolerance");
  if (upper && !upper.IsNull()) r.upper = number(upper, source, metric + " upper tolerance");
  if (r.lower && (*r.lower > 0 || *r.lower < -1))
    throw std::runtime_error(fmt::format("{}: {}: the lower tolerance is relative, between -1 and 0 (-0.1 = 10% "
                                         "below), got {}", where(source, n), metric, *r.lower));
  if (r.upper && *r.upper < 0)
    throw std::runtime_error(fmt::format("{}: {}: the upper tolerance is relative and >= 0 (0.1 = 10% above), got {}",
                                         where(source, n), metric, *r.upper));
  r.unit = unit.as<std::string>();
  return r;
}

Partition parse_partition(const YAML::Node& n, const std::string& source) {
  ok_or_throw(check_keys(n, {"name", "description", "launcher", "slurm", "mpirun", "resources", "environment",
                             "backends", "energy", "min_clock_fraction", "peaks", "reference", "storage"},
                         source, "a partition"));
  Partition p;
  p.line = n.Mark().line + 1;
  if (!n["name"]) throw std::runtime_error(where(source, n) + ": a partition needs a name");
  p.name = n["name"].as<std::string>();
  static const std::regex name_re("[A-Za-z0-9_.-]+");
  if (!std::regex_match(p.name, name_re))
    throw std::runtime_error(fmt::format("{}: partition name '{}': use letters, digits, '.', '_' or '-'",
                                         where(source, n["name"]), p.name));
  p.config = yaml_to_json(n);
  if (n["description"]) p.description = n["description"].as<std::string>();
  if (const auto l = n["launcher"]) {
    const std::string k = l.as<std::string>();
    static const std::vector<std::string> kinds = {"local", "mpirun", "slurm"};
    if (k == "local") p.launcher = LauncherKind::local;
    else if (k == "mpirun") p.launcher = LauncherKind::mpirun;
    else if (k == "slurm") p.launcher = LauncherKind::slurm;
    else {
      auto near = core::nearest_names(k, kinds, 1);
      throw std::runtime_error(fmt::format("{}: unknown launcher '{}'{}; launchers are local, mpirun, slurm",
                                           where(source, l), k, near.empty() ? "" : " (did you mean '" + near[0] + "'?)"));
    }
  }
  if (const auto s = n["slurm"]) {
    ok_or_throw(check_keys(s, {"partition", "account", "qos", "constraint", "time", "mpi", "options"}, source, "slurm"));
    auto str = [&](const char* k, std::string& out) { if (s[k]) out = s[k].as<std::string>(); };
    str("partition", p.slurm.partition);
    str("account", p.slurm.account);
    str("qos", p.slurm.qos);
    str("constraint", p.slurm.constraint);
    str("time", p.slurm.time);
    str("mpi", p.slurm.mpi);
    static const std::regex time_re(R"((\d+-)?\d+(:\d{1,2}){0,2}|UNLIMITED|INFINITE)");
    if (!p.slurm.time.empty() && !std::regex_match(p.slurm.time, time_re))
      throw std::runtime_error(fmt::format("{}: slurm time '{}' is not a Slurm time limit (MM, HH:MM:SS or "
                                           "D-HH:MM:SS)", where(source, s["time"]), p.slurm.time));
    if (s["options"]) p.slurm.options = string_list(s["options"], source, "slurm options");
  }
  if (const auto m = n["mpirun"]) {
    ok_or_throw(check_keys(m, {"command", "options", "hosts"}, source, "mpirun"));
    if (m["command"]) p.mpirun.command = m["command"].as<std::string>();
    if (m["options"]) p.mpirun.options = string_list(m["options"], source, "mpirun options");
    if (m["hosts"]) p.mpirun.hosts = string_list(m["hosts"], source, "mpirun hosts");
  }
  if (const auto r = n["resources"]) {
    ok_or_throw(check_keys(r, {"nodes", "tasks_per_node", "cpus_per_task", "gpus_per_node"}, source, "resources"));
    if (r["nodes"]) p.nodes = positive_int(r["nodes"], source, "nodes", false);
    if (r["tasks_per_node"]) p.tasks_per_node = positive_int(r["tasks_per_node"], source, "tasks_per_node", false);
    if (r["cpus_per_task"]) p.cpus_per_task = positive_int(r["cpus_per_task"], source, "cpus_per_task", false);
    if (r["gpus_per_node"]) p.gpus_per_node = positive_int(r["gpus_per_node"], source, "gpus_per_node", true);
  }
  if (const auto e = n["environment"]) {
    ok_or_throw(check_keys(e, {"modules", "variables"}, source, "environment"));
    if (e["modules"]) p.modules = string_list(e["modules"], source, "modules");
    if (const auto v = e["variables"]) {
      if (!v.IsMap()) throw std::runtime_error(where(source, v) + ": variables must be a mapping NAME: value");
      static const std::regex var_re("[A-Za-z_][A-Za-z0-9_]*");
      for (const auto& kv : v) {
        const auto k = kv.first.as<std::string>();
        if (!std::regex_match(k, var_re))
          throw std::runtime_error(fmt::format("{}: '{}' is not an environment variable name", where(source, kv.first), k));
        p.variables[k] = kv.second.IsNull() ? "" : kv.second.as<std::string>();
      }
    }
  }
  if (n["backends"]) p.backends = string_list(n["backends"], source, "backends");
  if (const auto e = n["energy"]) {
    p.energy = string_list(e, source, "energy");
    for (const auto& m : p.energy)
      if (std::find(energy_meter_names().begin(), energy_meter_names().end(), m) == energy_meter_names().end()) {
        auto near = core::nearest_names(m, energy_meter_names(), 1);
        throw std::runtime_error(fmt::format("{}: unknown energy meter '{}'{}; meters are: {}", where(source, e), m,
                                             near.empty() ? "" : " (did you mean '" + near[0] + "'?)",
                                             fmt::join(energy_meter_names(), ", ")));
      }
  }
  if (const auto f = n["min_clock_fraction"]) {
    p.min_clock_fraction = number(f, source, "min_clock_fraction");
    if (p.min_clock_fraction < 0 || p.min_clock_fraction > 1)
      throw std::runtime_error(fmt::format("{}: min_clock_fraction is between 0 and 1 (0.9: flag a result whose clock "
                                           "ended below 90% of its maximum), got {}", where(source, f), p.min_clock_fraction));
  }
  if (const auto st = n["storage"]) {
    if (!st.IsSequence())
      throw std::runtime_error(where(source, st) + ": storage is a list of tiers {name, path, kind}");
    static const std::vector<std::string> kinds = {"flash", "hdd", "burst_buffer", "node_local_nvme", "memory", "other"};
    for (const auto& t : st) {
      ok_or_throw(check_keys(t, {"name", "path", "kind"}, source, "a storage tier"));
      StorageTier tier;
      tier.line = t.Mark().line + 1;
      for (const char* key : {"name", "path", "kind"})
        if (!t[key]) throw std::runtime_error(fmt::format("{}: a storage tier needs {}", where(source, t), key));
      tier.name = t["name"].as<std::string>();
      tier.path = t["path"].as<std::string>();
      tier.kind = t["kind"].as<std::string>();
      if (std::find(kinds.begin(), kinds.end(), tier.kind) == kinds.end()) {
        auto near = core::nearest_names(tier.kind, kinds, 2);
        throw std::runtime_error(fmt::format("{}: storage kind '{}' is not one of {}{}", where(source, t["kind"]), tier.kind,
                                             fmt::join(kinds, ", "),
                                             near.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(near, ", "))));
      }
      if (tier.path.empty() || tier.path[0] != '/')
        throw std::runtime_error(fmt::format("{}: storage path '{}' must be absolute", where(source, t["path"]), tier.path));
      for (const auto& other : p.storage)
        if (other.name == tier.name)
          throw std::runtime_error(fmt::format("{}: storage tier '{}' is named twice", where(source, t), tier.name));
      p.storage.push_back(std::move(tier));
    }
  }
  if (const auto pk = n["peaks"]) {
    if (!pk.IsMap()) throw std::runtime_error(where(source, pk) + ": peaks must be a mapping id: value (base units)");
    for (const auto& kv : pk) {
      const double v = number(kv.second, source, "peak " + kv.first.as<std::string>());
      if (v <= 0) throw std::runtime_error(fmt::format("{}: peak {} must be positive", where(source, kv.second),
                                                       kv.first.as<std::string>()));
      p.peaks[kv.first.as<std::string>()] = v;
    }
  }
  if (const auto refs = n["reference"]) {
    if (!refs.IsMap())
      throw std::runtime_error(where(source, refs) + ": reference maps 'BENCHMARK [name=value ...]' to metrics");
    for (const auto& kv : refs) {
      ReferenceEntry e;
      e.key = kv.first.as<std::string>();
      e.line = kv.first.Mark().line + 1;
      std::istringstream words(e.key);
      words >> e.benchmark;
      for (std::string w; words >> w;) {
        auto a = core::split_assignment(w);
        if (!a) throw std::runtime_error(fmt::format("{}: reference '{}': {}", where(source, kv.first), e.key, a.error()));
        e.params[a->first] = a->second;
      }
      if (!kv.second.IsMap())
        throw std::runtime_error(fmt::format("{}: reference '{}' maps metric names to [value, lower, upper, unit]",
                                             where(source, kv.second), e.key));
      for (const auto& m : kv.second) e.metrics.push_back(parse_reference(m.first.as<std::string>(), m.second, source));
      p.references.push_back(std::move(e));
    }
  }
  return p;
}

std::string compact(const std::string& text) {
  std::string s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Site default_site() {
  Site s;
  s.name = "local";
  s.source = "detected";
  s.description = "this machine, detected";
  Partition p;
  p.name = "local";
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int gpus = 0;
  std::error_code ec;
  for (int i = 0; i < 64; ++i)
    if (std::filesystem::exists(fmt::format("/dev/nvidia{}", i), ec)) ++gpus;
  p.description = fmt::format("{} ({} CPUs, {} NVIDIA GPUs), detected", core::hostname(), cpus, gpus);
  p.cpus_per_task = static_cast<int>(cpus > 0 ? cpus : 1);
  p.gpus_per_node = gpus;
  p.config = {{"name", "local"}, {"description", p.description}, {"launcher", "local"},
              {"resources", {{"nodes", 1}, {"tasks_per_node", 1}, {"cpus_per_task", p.cpus_per_task},
                             {"gpus_per_node", gpus}}}};
  s.partitions.push_back(std::move(p));
  return s;
}

std::vector<std::pair<std::string, std::string>> builtin_sites() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, text] : builtin_site_texts()) {
    auto s = parse_site(text, "builtin:" + name);
    out.emplace_back(name, s ? s->description : "(unreadable: " + s.error() + ")");
  }
  return out;
}

core::Expected<Site> parse_site(const std::string& text, const std::string& source) {
  auto root = load_yaml(text, source);
  if (!root) return core::make_error(root.error());
  if (!root->IsMap()) return core::make_error(source + ": a site is a mapping with 'name' and 'partitions'");
  Site site;
  site.source = source;
  try {
    if (auto ok = check_keys(*root, {"name", "description", "results_db", "partitions"}, source, "a site"); !ok)
      return core::make_error(ok.error());
    if ((*root)["results_db"]) site.results_db = (*root)["results_db"].as<std::string>();
    site.name = (*root)["name"] ? (*root)["name"].as<std::string>() : std::filesystem::path(source).stem().string();
    if ((*root)["description"]) site.description = compact((*root)["description"].as<std::string>());
    const auto parts = (*root)["partitions"];
    if (!parts || !parts.IsSequence() || parts.size() == 0)
      return core::make_error((parts ? where(source, parts) : source) +
                              ": 'partitions' must be a non-empty list of partitions");
    for (const auto& n : parts) {
      Partition p = parse_partition(n, source);
      if (site.find(p.name) != nullptr)
        return core::make_error(fmt::format("{}: partition '{}' is defined twice", where(source, n), p.name));
      site.partitions.push_back(std::move(p));
    }
  } catch (const YAML::Exception& e) {
    return core::make_error(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const std::runtime_error& e) {
    return core::make_error(e.what());
  }
  return site;
}

core::Expected<Partition> parse_partition_text(const std::string& text, const std::string& source) {
  auto root = load_yaml(text, source);
  if (!root) return core::make_error(root.error());
  try {
    return parse_partition(*root, source);
  } catch (const YAML::Exception& e) {
    return core::make_error(fmt::format("{}: {}", source, e.msg));
  } catch (const std::runtime_error& e) {
    return core::make_error(e.what());
  }
}

core::Expected<Site> load_site(const std::string& name_or_path) {
  if (name_or_path.empty() || name_or_path == "local") return default_site();
  auto found = config_text("site", name_or_path, builtin_site_texts(), {"local"});
  if (!found) return core::make_error(found.error());
  return parse_site(found->first, found->second);
}

namespace {

// 1e9 for "G" + "B/s" when the metric's unit is "B/s"; nullopt when `unit` is not the metric's
// unit with an SI prefix.
std::optional<double> unit_scale(const std::string& unit, const std::string& base) {
  if (unit == base) return 1.0;
  if (unit.size() <= base.size() || unit.compare(unit.size() - base.size(), base.size(), base) != 0) return {};
  static const std::map<std::string, double> prefixes = {{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
                                                         {"P", 1e15}, {"m", 1e-3}, {"u", 1e-6}, {"µ", 1e-6},
                                                         {"n", 1e-9}};
  auto it = prefixes.find(unit.substr(0, unit.size() - base.size()));
  if (it == prefixes.end()) return {};
  return it->second;
}

}  // namespace

core::Expected<void> validate_site(Site& site, const WorkerSet& workers) {
  for (auto& p : site.partitions) {
    for (auto& e : p.references) {
      const std::string at = fmt::format("{}:{}", site.source, e.line);
      const auto* b = workers.find(e.benchmark);
      if (b == nullptr) {
        auto near = core::nearest_names(e.benchmark, workers.ids(), 3);
        return core::make_error(fmt::format("{}: partition '{}': reference for unknown benchmark '{}'{}", at, p.name,
                                            e.benchmark,
                                            near.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(near, ", "))));
      }
      if (auto v = core::ParamValues::make(b->params, e.params); !v)
        return core::make_error(fmt::format("{}: reference '{}': {}", at, e.key, v.error()));
      for (auto& r : e.metrics) {
        const json* spec = nullptr;
        std::vector<std::string> names;
        for (const auto& m : b->metrics) {
          names.push_back(m.value("name", ""));
          if (m.value("name", "") == r.metric) spec = &m;
        }
        const std::string rat = fmt::format("{}:{}", site.source, r.line);
        if (spec == nullptr) {
          auto near = core::nearest_names(r.metric, names, 1);
          return core::make_error(fmt::format("{}: {} has no metric '{}'; its metrics are: {}", rat, e.benchmark,
                                              r.metric, fmt::join(names, ", ")));
        }
        const std::string base = spec->value("unit", "");
        const auto scale = unit_scale(r.unit, base);
        if (!scale)
          return core::make_error(fmt::format("{}: {} {}: unit '{}' is not {} or {} with a prefix (k, M, G, T, ...)",
                                              rat, e.benchmark, r.metric, r.unit, base, base));
        r.value *= *scale;
      }
    }
  }
  return {};
}

}  // namespace converge::runners
