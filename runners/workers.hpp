#pragma once
// Worker executables as the driver sees them: found beside the driver (or through
// CONVERGE_WORKERS), asked what they have (--list) and what they run on (--inventory).
#include <map>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/params.hpp"
#include "results/run_document.hpp"

namespace converge::runners {

using results::json;

/// A benchmark as a worker declares it (the JSON of `--list`), with the worker that runs it.
struct BenchmarkInfo {
  std::string id, family, backend, summary;
  std::vector<core::ParamSpec> params;
  json metrics;        ///< as the worker listed them
  std::string worker;  ///< path of the worker executable
};

/// Captured output of a short command.
struct CommandOutput {
  int status = -1;  ///< exit status, or 128+signal
  std::string out, err;
};
/// Runs argv (no shell; argv[0] looked up in PATH), captures stdout and stderr; for short
/// queries only.
CommandOutput run_command(const std::vector<std::string>& argv);

class WorkerSet {
 public:
  /// Finds converge-worker-* beside the running executable, plus the paths (files or
  /// directories) in the colon-separated CONVERGE_WORKERS variable, and lists each. A worker in
  /// CONVERGE_WORKERS replaces the one of the same file name beside the driver.
  static core::Expected<WorkerSet> discover();
  const std::vector<std::string>& workers() const { return workers_; }
  const std::vector<BenchmarkInfo>& benchmarks() const { return benchmarks_; }
  const BenchmarkInfo* find(const std::string& id) const;
  std::vector<std::string> ids() const;
  /// The inventory as the CPU worker (or else the first worker) collects it, with what the
  /// other workers' probes add (the CUDA worker's GPUs).
  core::Expected<json> inventory() const;

 private:
  std::vector<std::string> workers_;
  std::vector<BenchmarkInfo> benchmarks_;
};

/// Adds to `into` what a probe of another worker found and `into` lacks: its GPUs (and how
/// they were looked for) when `into` has none, its BLAS when `into` links none, and its
/// storage tiers whose `path` `into` does not list yet (the union by path, first kept). Two
/// workers of one node describe the same host, so nothing else is merged.
void merge_inventory(json& into, const json& from);

/// Directory holding the running executable.
std::string self_directory();

}  // namespace converge::runners
