#include "runners/suite.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/benchmark.hpp"
#include "core/params.hpp"
#include "runners/embedded_configs.hpp"
#include "runners/workers.hpp"
#include "runners/yaml_util.hpp"

namespace converge::runners {

using results::json;

std::vector<std::pair<std::string, std::string>> builtin_suites() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, text] : builtin_suite_texts()) {
    auto s = parse_suite(text, "builtin:" + name);
    out.emplace_back(name, s ? s->description : "(unreadable: " + s.error() + ")");
  }
  return out;
}

bool is_builtin_suite(const std::string& name) {
  for (const auto& [n, text] : builtin_suite_texts())
    if (n == name) return true;
  return false;
}

namespace {

using converge::runners::where;

// A size stays in the unit the user would write: 65536 -> "64KiB".
std::string compact_size(std::uint64_t bytes) {
  static const std::pair<const char*, std::uint64_t> units[] = {
      {"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  for (const auto& [suffix, factor] : units)
    if (bytes >= factor && bytes % factor == 0) return fmt::format("{}{}", bytes / factor, suffix);
  return std::to_string(bytes);
}

}  // namespace

core::Expected<std::vector<std::string>> expand_sweep(const json& value) {
  if (value.is_array()) {
    std::vector<std::string> out;
    for (const auto& v : value) {
      if (!v.is_string()) return core::make_error("a list of values must hold scalars");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  if (value.is_string()) return std::vector<std::string>{value.get<std::string>()};
  if (!value.is_object() || !value.contains("from") || !value.contains("to"))
    return core::make_error("a sweep is a value, a list, {from, to, factor} or {from, to, step}");
  const std::string from = value["from"].get<std::string>(), to = value["to"].get<std::string>();
  const bool geometric = value.contains("factor");
  if (geometric == value.contains("step"))
    return core::make_error("a range needs exactly one of 'factor' (geometric) or 'step' (arithmetic)");
  // Sizes ("16KiB") sweep in bytes and print with suffixes; plain numbers stay numbers.
  const bool is_size = from.find_first_of("KMGTBk") != std::string::npos ||
                       to.find_first_of("KMGTBk") != std::string::npos;
  auto lo = core::parse_size(from), hi = core::parse_size(to);
  if (!lo || !hi)
    return core::make_error(fmt::format("range bounds '{}' and '{}' must be integers or sizes", from, to));
  double factor = 0;
  std::uint64_t step = 0;
  if (geometric) {
    auto f = core::parse_real(value["factor"].get<std::string>());
    if (!f || *f <= 1) return core::make_error("'factor' must be a number above 1");
    if (*lo == 0) return core::make_error("a geometric range ('factor') must start above 0");
    factor = *f;
  } else {
    auto st = core::parse_size(value["step"].get<std::string>());
    if (!st || *st == 0) return core::make_error("'step' must be a positive integer or size");
    step = *st;
  }
  std::vector<std::string> out;
  for (double v = static_cast<double>(*lo); v <= static_cast<double>(*hi) * (1 + 1e-12);
       v = geometric ? v * factor : v + static_cast<double>(step)) {
    const auto b = static_cast<std::uint64_t>(v + 0.5);
    out.push_back(is_size ? compact_size(b) : std::to_string(b));
    if (out.size() > 10000) return core::make_error("a sweep has more than 10000 values");
  }
  return out;
}

namespace {

const std::vector<std::string> kPolicyKeys = {"warmup", "min_reps", "max_reps", "min_time_s", "ci_target", "budget_s"};

// A policy mapping with known keys and numeric values, as JSON numbers.
json parse_policy(const YAML::Node& n, const std::string& source) {
  if (auto ok = check_keys(n, kPolicyKeys, source, "a policy"); !ok) throw std::runtime_error(ok.error());
  json out = json::object();
  for (const auto& kv : n) {
    const auto key = kv.first.as<std::string>();
    const bool integral = key == "warmup" || key == "min_reps" || key == "max_reps";
    const std::string text = kv.second.as<std::string>();
    if (integral) {
      auto v = core::parse_integer(text);
      if (!v || *v < 0) throw std::runtime_error(fmt::format("{}: policy {} must be a non-negative integer, got '{}'",
                                                             where(source, kv.second), key, text));
      out[key] = *v;
    } else {
      auto v = core::parse_real(text);
      if (!v || *v < 0) throw std::runtime_error(fmt::format("{}: policy {} must be a non-negative number, got '{}'",
                                                             where(source, kv.second), key, text));
      out[key] = *v;
    }
  }
  return out;
}

std::vector<std::string> names_list(const YAML::Node& n, const std::string& source, const std::string& what) {
  if (n.IsScalar()) return {n.as<std::string>()};
  if (!n.IsSequence()) throw std::runtime_error(fmt::format("{}: {} must be a list of names", where(source, n), what));
  std::vector<std::string> out;
  for (const auto& e : n) out.push_back(e.as<std::string>());
  return out;
}

}  // namespace

core::Expected<Suite> parse_suite(const std::string& text, const std::string& source) {
  Suite suite;
  suite.source = source;
  auto loaded = load_yaml(text, source);
  if (!loaded) return core::make_error(loaded.error());
  const YAML::Node& root = *loaded;
  if (!root.IsMap()) return core::make_error(source + ": a suite is a mapping with 'name' and 'benchmarks'");
  try {
    if (auto ok = check_keys(root, {"name", "description", "policy", "benchmarks"}, source, "a suite"); !ok)
      return core::make_error(ok.error());
    suite.name = root["name"] ? root["name"].as<std::string>() : std::filesystem::path(source).stem().string();
    suite.description = root["description"] ? root["description"].as<std::string>() : "";
    if (root["policy"]) suite.policy = parse_policy(root["policy"], source);
    const auto list = root["benchmarks"];
    if (!list || !list.IsSequence())
      return core::make_error(source + ": 'benchmarks' must be a list of {benchmark, params, policy}");
    for (const auto& item : list) {
      if (!item.IsMap() || !item["benchmark"])
        return core::make_error(where(source, item) + ": each entry needs 'benchmark: ID' (or a pattern such as micro.stream.*)");
      if (auto ok = check_keys(item, {"benchmark", "params", "policy", "repetitions", "budget_s", "ranks",
                                      "partitions", "backends"},
                               source, "a suite entry");
          !ok)
        return core::make_error(ok.error());
      SuiteInstance proto;
      proto.line = item.Mark().line + 1;
      proto.benchmark = item["benchmark"].as<std::string>();
      proto.policy = item["policy"] ? parse_policy(item["policy"], source) : json::object();
      if (const auto r = item["repetitions"]) {
        auto v = core::parse_integer(r.as<std::string>());
        if (!v || *v < 1) return core::make_error(fmt::format("{}: repetitions must be a positive integer, got '{}'",
                                                              where(source, r), r.as<std::string>()));
        proto.policy["min_reps"] = *v;
        proto.policy["max_reps"] = *v;
        proto.policy["ci_target"] = 0;
        proto.policy["min_time_s"] = 0;
      }
      if (const auto b = item["budget_s"]) {
        auto v = core::parse_real(b.as<std::string>());
        if (!v || *v <= 0) return core::make_error(fmt::format("{}: budget_s must be a positive number of seconds, got '{}'",
                                                               where(source, b), b.as<std::string>()));
        proto.policy["budget_s"] = *v;
      }
      if (const auto r = item["ranks"]) {
        proto.ranks = r.as<std::string>();
        auto v = core::parse_integer(proto.ranks);
        if (proto.ranks != "all" && (!v || *v < 1))
          return core::make_error(fmt::format("{}: ranks is a positive integer or 'all' (every task of the "
                                              "partition), got '{}'", where(source, r), proto.ranks));
      }
      if (item["partitions"]) proto.partitions = names_list(item["partitions"], source, "partitions");
      if (item["backends"]) proto.backends = names_list(item["backends"], source, "backends");
      // Cartesian product of the parameter sweeps, in the order the file gives them.
      std::vector<std::map<std::string, std::string>> combos(1);
      if (item["params"]) {
        if (!item["params"].IsMap())
          return core::make_error(where(source, item["params"]) + ": 'params' must be a mapping");
        for (const auto& kv : item["params"]) {
          auto values = expand_sweep(yaml_to_json(kv.second));
          if (!values)
            return core::make_error(fmt::format("{}: parameter '{}': {}", where(source, kv.second),
                                                kv.first.as<std::string>(), values.error()));
          std::vector<std::map<std::string, std::string>> next;
          for (const auto& c : combos)
            for (const auto& v : *values) {
              auto n = c;
              n[kv.first.as<std::string>()] = v;
              next.push_back(std::move(n));
            }
          combos = std::move(next);
        }
      }
      for (auto& c : combos) {
        SuiteInstance inst = proto;
        inst.params = std::move(c);
        suite.instances.push_back(std::move(inst));
      }
    }
  } catch (const YAML::Exception& e) {
    return core::make_error(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const std::runtime_error& e) {
    return core::make_error(e.what());
  }
  return suite;
}

core::Expected<Suite> load_suite(const std::string& name_or_path) {
  auto found = config_text("suite", name_or_path, builtin_suite_texts());
  if (!found) return core::make_error(found.error());
  return parse_suite(found->first, found->second);
}

core::Expected<void> resolve_suite(Suite& suite, const WorkerSet& workers) {
  std::vector<SuiteInstance> out;
  for (const auto& inst : suite.instances) {
    const std::string at = fmt::format("{}:{}", suite.source, inst.line);
    std::vector<const BenchmarkInfo*> matches;
    const bool pattern = inst.benchmark.find_first_of("*?[") != std::string::npos;
    for (const auto& b : workers.benchmarks())
      if (pattern ? fnmatch(inst.benchmark.c_str(), b.id.c_str(), 0) == 0 : b.id == inst.benchmark)
        if (inst.backends.empty() ||
            std::find(inst.backends.begin(), inst.backends.end(), b.backend) != inst.backends.end())
          matches.push_back(&b);
    if (matches.empty()) {
      if (pattern && !inst.backends.empty()) {  // a pattern for backends this build may lack
        std::vector<std::string> missing;
        for (const auto& backend : inst.backends)
          if (std::none_of(workers.benchmarks().begin(), workers.benchmarks().end(),
                           [&](const BenchmarkInfo& b) { return b.backend == backend; }))
            missing.push_back(backend);
        if (missing.size() == inst.backends.size())
          suite.not_built.push_back(fmt::format("{}: skipped: built without {} (no worker offers it; `cmake` prints "
                                                "why the component is off)",
                                                inst.benchmark, fmt::join(missing, ", ")));
        continue;
      }
      auto near = core::nearest_names(inst.benchmark, workers.ids(), 3);
      return core::make_error(fmt::format("{}: unknown benchmark '{}'{}", at, inst.benchmark,
                                          near.empty() ? " (`converge list` shows them)"
                                                       : fmt::format(" (did you mean {}?)", fmt::join(near, ", "))));
    }
    for (const auto* b : matches) {
      auto values = core::ParamValues::make(b->params, inst.params);
      if (!values) return core::make_error(fmt::format("{}: {}: {}", at, b->id, values.error()));
      SuiteInstance r = inst;
      r.benchmark = b->id;
      out.push_back(std::move(r));
    }
  }
  suite.instances = std::move(out);
  return {};
}

core::Expected<void> validate_suite(const Suite& suite, const WorkerSet& workers) {
  Suite copy = suite;
  return resolve_suite(copy, workers);
}

}  // namespace converge::runners
