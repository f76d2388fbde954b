#pragma once
// Reading the project's YAML files (suites, sites) with errors that name file:line and the
// nearest valid key.
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/expected.hpp"
#include "results/run_document.hpp"

namespace converge::runners {

/// "source:LINE" of a node (1-based line).
std::string where(const std::string& source, const YAML::Node& n);
/// YAML to JSON, keeping scalars as text (values are typed later, so "64KiB" and "1e9" stay
/// what the user wrote); null stays null.
results::json yaml_to_json(const YAML::Node& n);
/// Error unless every key of mapping `map` is in `keys`; names the nearest key.
core::Expected<void> check_keys(const YAML::Node& map, const std::vector<std::string>& keys,
                                const std::string& source, const std::string& what);
/// Parses YAML text; a syntax error names source:line:column.
core::Expected<YAML::Node> load_yaml(const std::string& text, const std::string& source);
/// The text and source name ("builtin:NAME" or the path) of a built-in config or a file. The
/// error for neither lists the built-in names (after `also`) and the nearest ones.
core::Expected<std::pair<std::string, std::string>> config_text(
    const std::string& kind, const std::string& name_or_path,
    const std::vector<std::pair<std::string, std::string>>& builtins, std::vector<std::string> also = {});
/// Reads a whole file; error names the path.
core::Expected<std::string> read_text_file(const std::string& path);

}  // namespace converge::runners
