#include "runners/suite.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/benchmark.hpp"
#include "core/params.hpp"
#include "runners/builtin_suites.hpp"
#include "runners/workers.hpp"

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

// YAML scalars and collections to JSON, keeping scalars as text (values are typed later by
// the parameter specs, so "64KiB" and "1e9" stay what the user wrote).
json to_json(const YAML::Node& n) {
  if (n.IsSequence()) {
    json a = json::array();
    for (const auto& e : n) a.push_back(to_json(e));
    return a;
  }
  if (n.IsMap()) {
    json o = json::object();
    for (const auto& kv : n) o[kv.first.as<std::string>()] = to_json(kv.second);
    return o;
  }
  if (n.IsNull()) return nullptr;
  return n.as<std::string>();
}

std::string where(const std::string& source, const YAML::Node& n) {
  return fmt::format("{}:{}", source, n.Mark().line + 1);
}

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

core::Expected<Suite> parse_suite(const std::string& text, const std::string& source) {
  Suite suite;
  suite.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return core::make_error(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root.IsMap()) return core::make_error(source + ": a suite is a mapping with 'name' and 'benchmarks'");
  static const std::vector<std::string> top_keys = {"name", "description", "policy", "benchmarks"};
  try {
    for (const auto& kv : root) {
      const auto key = kv.first.as<std::string>();
      if (std::find(top_keys.begin(), top_keys.end(), key) == top_keys.end()) {
        auto near = core::nearest_names(key, top_keys, 1);
        return core::make_error(fmt::format("{}: unknown key '{}'{}; keys are: {}", where(source, kv.first), key,
                                            near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near[0]),
                                            fmt::join(top_keys, ", ")));
      }
    }
    suite.name = root["name"] ? root["name"].as<std::string>() : std::filesystem::path(source).stem().string();
    suite.description = root["description"] ? root["description"].as<std::string>() : "";
    if (root["policy"]) suite.policy = to_json(root["policy"]);
    const auto list = root["benchmarks"];
    if (!list || !list.IsSequence())
      return core::make_error(source + ": 'benchmarks' must be a list of {benchmark, params, policy}");
    for (const auto& item : list) {
      if (!item.IsMap() || !item["benchmark"])
        return core::make_error(where(source, item) + ": each entry needs 'benchmark: ID'");
      const int line = item.Mark().line + 1;
      const std::string id = item["benchmark"].as<std::string>();
      json policy = item["policy"] ? to_json(item["policy"]) : json::object();
      // Cartesian product of the parameter sweeps, in the order the file gives them.
      std::vector<std::map<std::string, std::string>> combos(1);
      if (item["params"]) {
        if (!item["params"].IsMap())
          return core::make_error(where(source, item["params"]) + ": 'params' must be a mapping");
        for (const auto& kv : item["params"]) {
          auto values = expand_sweep(to_json(kv.second));
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
      for (auto& c : combos) suite.instances.push_back({id, std::move(c), policy, line});
    }
  } catch (const YAML::Exception& e) {
    return core::make_error(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  return suite;
}

core::Expected<Suite> load_suite(const std::string& name_or_path) {
  for (const auto& [name, text] : builtin_suite_texts())
    if (name == name_or_path) return parse_suite(text, "builtin:" + name);
  std::ifstream in(name_or_path);
  if (!in) {
    std::vector<std::string> names;
    for (const auto& [name, text] : builtin_suite_texts()) names.push_back(name);
    return core::make_error(fmt::format("no suite '{}': not a built-in suite ({}) nor a readable file",
                                        name_or_path, fmt::join(names, ", ")));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_suite(ss.str(), name_or_path);
}

core::Expected<void> validate_suite(const Suite& suite, const WorkerSet& workers) {
  for (const auto& inst : suite.instances) {
    const auto* b = workers.find(inst.benchmark);
    const std::string at = fmt::format("{}:{}", suite.source, inst.line);
    if (b == nullptr) {
      auto near = core::nearest_names(inst.benchmark, workers.ids(), 3);
      return core::make_error(fmt::format("{}: unknown benchmark '{}'{}", at, inst.benchmark,
                                          near.empty() ? " (`converge list` shows them)"
                                                       : fmt::format(" (did you mean {}?)", fmt::join(near, ", "))));
    }
    auto values = core::ParamValues::make(b->params, inst.params);
    if (!values) return core::make_error(fmt::format("{}: {}: {}", at, inst.benchmark, values.error()));
  }
  return {};
}

}  // namespace converge::runners
