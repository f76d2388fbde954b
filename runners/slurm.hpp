#pragma once
// The Slurm launcher from outside an allocation: an sbatch script with one job step
// (srun WORKER ...) per instance, submitted, followed with squeue/scontrol (sacct where
// accounting exists), and collected from the job's directory as results arrive.
#include <functional>
#include <string>
#include <vector>

#include "runners/executor.hpp"
#include "runners/site.hpp"

namespace converge::runners {

struct SlurmJob {
  std::string job_dir;  ///< on a filesystem the compute nodes share: plan, script, events
  std::string run_id, suite;
  int nodes = 1;
};

/// The batch script for `instances` (one step each, with a time limit per step). The worker
/// plan must be at job_dir/plan.json.
std::string sbatch_script(const std::vector<PlannedInstance>& instances, const Partition& partition,
                          const ExecOptions& exec, const SlurmJob& job);

struct JobOutcome {
  std::string job_id, state, nodelist;
  bool finished = false;     ///< every instance has a result from every rank
  bool interrupted = false;  ///< request_stop(): the job was cancelled
};

/// Writes plan and script into job_dir, submits, follows the job with a progress line, and
/// hands every result to the sink as it appears. Steps that ended without a result become
/// failures (crash, time-out); instances the job never reached stay missing (incomplete).
/// `on_submit(job_id, script_path)` is called once the job is queued.
core::Expected<JobOutcome> run_sbatch(const std::vector<PlannedInstance>& instances, const Partition& partition,
                                      const ExecOptions& exec, const SlurmJob& job, const Sink& sink,
                                      const std::function<void(const std::string&, const std::string&)>& on_submit);

/// JobState and NodeList of a job from `scontrol show job` (or sacct); state "UNKNOWN" if
/// neither knows the job.
std::pair<std::string, std::string> slurm_job_state(const std::string& job_id);

}  // namespace converge::runners
