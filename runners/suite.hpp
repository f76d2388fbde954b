#pragma once
// Suites: YAML lists of benchmark instances with parameter sweeps (runners/suites/*.yaml).
#include <map>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "results/run_document.hpp"

namespace converge::runners {

class WorkerSet;

/// One benchmark instance after sweeps are expanded.
struct SuiteInstance {
  std::string benchmark;
  std::map<std::string, std::string> params;  ///< only the ones the suite gives
  results::json policy = results::json::object();  ///< per-instance policy overrides
  std::string ranks;                    ///< "" (the benchmark's default), "all", or a count
  std::vector<std::string> partitions;  ///< runs only on these partitions; empty: all
  std::vector<std::string> backends;    ///< with a pattern: only benchmarks of these backends
  int line = 0;  ///< line in the suite file (1-based), for error messages
};

struct Suite {
  std::string name;
  std::string description;
  std::string source;  ///< file path, or "builtin:NAME"
  results::json policy = results::json::object();  ///< suite-wide policy overrides
  std::vector<SuiteInstance> instances;
  /// Entries for backends no worker offers ("micro.gpu_stream.*: skipped: built without cuda"),
  /// filled by resolve_suite and shown when the suite runs.
  std::vector<std::string> not_built;
};

/// Names and one-line descriptions of the suites built into the driver.
std::vector<std::pair<std::string, std::string>> builtin_suites();
/// True when `name` is a built-in suite.
bool is_builtin_suite(const std::string& name);
/// Loads a built-in suite by name or a YAML file by path. Errors name file:line.
core::Expected<Suite> load_suite(const std::string& name_or_path);
/// Parses suite YAML text; `source` names it in errors.
core::Expected<Suite> parse_suite(const std::string& text, const std::string& source);
/// Expands benchmark patterns ("micro.stream.*", filtered by `backends`) into instances and
/// checks each against the workers' declarations: known benchmark, known parameters, valid
/// values. Errors name source:line and the nearest valid names.
core::Expected<void> resolve_suite(Suite& suite, const WorkerSet& workers);
/// resolve_suite on a copy.
core::Expected<void> validate_suite(const Suite& suite, const WorkerSet& workers);

/// Expands one sweep value: a scalar, a list, {from, to, factor} (geometric, e.g. powers of
/// two for sizes) or {from, to, step} (arithmetic). Sizes keep binary suffixes ("64KiB").
core::Expected<std::vector<std::string>> expand_sweep(const results::json& value);

}  // namespace converge::runners
