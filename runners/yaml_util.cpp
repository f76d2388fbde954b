#include "runners/yaml_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/benchmark.hpp"

namespace converge::runners {

std::string where(const std::string& source, const YAML::Node& n) {
  return fmt::format("{}:{}", source, n.Mark().line + 1);
}

results::json yaml_to_json(const YAML::Node& n) {
  if (n.IsSequence()) {
    results::json a = results::json::array();
    for (const auto& e : n) a.push_back(yaml_to_json(e));
    return a;
  }
  if (n.IsMap()) {
    results::json o = results::json::object();
    for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    return o;
  }
  if (!n.IsDefined() || n.IsNull()) return nullptr;
  return n.as<std::string>();
}

core::Expected<void> check_keys(const YAML::Node& map, const std::vector<std::string>& keys,
                                const std::string& source, const std::string& what) {
  if (!map.IsMap()) return core::make_error(fmt::format("{}: {} must be a mapping", where(source, map), what));
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    auto near = core::nearest_names(key, keys, 1);
    return core::make_error(fmt::format("{}: unknown key '{}' in {}{}; keys are: {}", where(source, kv.first), key,
                                        what, near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near[0]),
                                        fmt::join(keys, ", ")));
  }
  return {};
}

core::Expected<YAML::Node> load_yaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return core::make_error(fmt::format("{}:{}:{}: YAML syntax error: {}", source, e.mark.line + 1,
                                        e.mark.column + 1, e.msg));
  }
}

core::Expected<std::pair<std::string, std::string>> config_text(
    const std::string& kind, const std::string& name_or_path,
    const std::vector<std::pair<std::string, std::string>>& builtins, std::vector<std::string> also) {
  for (const auto& [name, text] : builtins)
    if (name == name_or_path) return std::make_pair(text, "builtin:" + name);
  if (!std::filesystem::exists(name_or_path)) {
    for (const auto& [name, text] : builtins) also.push_back(name);
    auto near = core::nearest_names(name_or_path, also, 2);
    return core::make_error(fmt::format("no {} '{}': not a built-in {} ({}) nor a file{}", kind, name_or_path, kind,
                                        fmt::join(also, ", "),
                                        near.empty() ? "" : fmt::format("; did you mean {}?", fmt::join(near, ", "))));
  }
  auto text = read_text_file(name_or_path);
  if (!text) return core::make_error(text.error());
  return std::make_pair(*text, name_or_path);
}

core::Expected<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return core::make_error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace converge::runners
