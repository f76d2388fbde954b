#pragma once
// Runs planned instances in worker processes started here: one launch (a worker, or mpirun /
// srun of N workers) per run of consecutive instances with the same worker and launch
// command; a crash or time-out fails the instance it hit, and a fresh launch goes on with the
// rest. Every rank writes its own JSON Lines events file; results arrive per rank.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "results/run_document.hpp"
#include "runners/plan.hpp"

namespace converge::runners {

using results::json;

struct ExecOptions {
  json policy = json::object();       ///< run-wide repetition policy (worker keys)
  int threads = 0;                     ///< 0: the worker's default (one per core)
  std::map<std::string, double> peaks; ///< peak overrides, base units
  double timeout_s = 0;                ///< per instance; 0: 3 x budget + 60 s
  std::string energy = "auto";         ///< meters for the workers: auto, none, or "rapl,nvml,..."
  double idle_baseline_s = 0;          ///< idle power measured by each worker launch first
  double min_clock_fraction = 0;       ///< flag results whose clock ended below this fraction of max
  std::string work_dir;                ///< plans, events and worker stderr go here
  /// The command in front of the worker for an instance (empty: run it directly).
  std::function<std::vector<std::string>(const PlannedInstance&)> prefix;
  /// Wraps the whole worker command (e.g. loading modules); identity when empty.
  std::function<std::vector<std::string>(std::vector<std::string>)> wrap;
  /// Told each launch command as it starts (for the run document).
  std::function<void(const std::vector<std::string>&)> on_launch;
};

/// Receives what the workers report, in arrival order.
struct Sink {
  std::function<void(const PlannedInstance&, const json& result)> result;
  std::function<void(const std::string& host, const json& inventory)> inventory;
};

/// Set by SIGINT/SIGTERM handlers; the executor stops its workers and returns early.
void request_stop();
bool stop_requested();

/// The seconds an instance may run before it is killed.
double instance_timeout(const PlannedInstance& inst, const ExecOptions& options);

/// The plan file a worker reads (--plan): policy, threads, peaks and instances.
json worker_plan(const std::vector<PlannedInstance>& instances, const ExecOptions& options);

/// Runs every instance; returns false if interrupted by request_stop().
bool execute(const std::vector<PlannedInstance>& instances, const ExecOptions& options, const Sink& sink);

/// A failed result for an instance (rank) that never produced one (crash, time-out, no start).
json synthesized_failure(const PlannedInstance& inst, int rank, const std::string& reason,
                         const std::string& started_at);

/// Follows the per-rank events files "<stem>.<rank>.jsonl" of launches, remembering which
/// (instance, rank) pairs have reported. Used for local launches and Slurm jobs alike.
class EventFiles {
 public:
  explicit EventFiles(std::string stem) : stem_(std::move(stem)) {}
  /// The path pattern workers get (--out): "<stem>.{rank}.jsonl".
  std::string pattern() const { return stem_ + ".{rank}.jsonl"; }
  /// New complete events from ranks 0..ranks-1.
  std::vector<json> poll(int ranks);

 private:
  std::string stem_;
  std::map<int, std::size_t> offsets_;
};

/// Tracks which ranks of which instances have reported.
class Reported {
 public:
  /// Records a "result" or "done" event; false if it was already recorded.
  bool mark(int instance, int rank) { return seen_[instance].insert(rank).second; }
  bool has(int instance, int rank) const;
  bool complete(const PlannedInstance& inst) const;
  bool any(int instance) const;

 private:
  std::map<int, std::set<int>> seen_;
};

}  // namespace converge::runners
