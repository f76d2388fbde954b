#pragma once
// Runs planned instances in worker processes: one worker process per run of consecutive
// instances of the same worker; a crash or time-out fails that instance, and a fresh worker
// goes on with the rest.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "results/run_document.hpp"

namespace converge::runners {

using results::json;

struct PlannedInstance {
  int index = 0;
  std::string benchmark;
  std::string worker;  ///< executable that runs it
  std::map<std::string, std::string> params;
  json policy = json::object();  ///< overrides of the run's policy for this instance
};

struct ExecOptions {
  json policy = json::object();       ///< run-wide repetition policy (worker keys)
  int threads = 0;                     ///< 0: the worker's default (one per core)
  std::map<std::string, double> peaks; ///< peak overrides, base units
  double timeout_s = 0;                ///< per instance; 0: 3 x budget + 60 s
  std::string work_dir;                ///< plan, events and worker stderr go here
};

/// Called with each instance's result object (run schema), in completion order.
using ResultFn = std::function<void(const PlannedInstance&, const json& result)>;

/// Set by SIGINT/SIGTERM handlers; the executor stops its worker and returns early.
void request_stop();
bool stop_requested();

/// Runs every instance; returns false if interrupted by request_stop().
bool execute(const std::vector<PlannedInstance>& instances, const ExecOptions& options,
             const ResultFn& on_result);

/// A failed result for an instance that never produced one (crash, time-out, no start).
json synthesized_failure(const PlannedInstance& inst, const std::string& reason,
                         const std::string& started_at);

}  // namespace converge::runners
