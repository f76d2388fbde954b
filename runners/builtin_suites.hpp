#pragma once
// The suites in runners/suites/, embedded at build time (generated builtin_suites.cpp).
#include <string>
#include <utility>
#include <vector>

namespace converge::runners {
/// (name, YAML text) of every built-in suite, by name.
const std::vector<std::pair<std::string, std::string>>& builtin_suite_texts();
}  // namespace converge::runners
