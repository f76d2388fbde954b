#pragma once
// The measurement loop: setup, warm-up, adaptive timed repetitions, verification, metrics.
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "core/benchmark.hpp"
#include "core/result.hpp"

namespace converge::core {

/// Called after each timed repetition with the count so far and elapsed wall seconds.
using ProgressFn = std::function<void(int reps, double elapsed_s)>;

/// Decides, after each timed repetition, whether to stop. Pure: unit-tested on its own.
/// Returns the stop reason ("ci_target", "max_reps", "budget") or "" to go on.
std::string should_stop(const RepetitionPolicy& policy, const std::vector<double>& samples,
                        double wall_elapsed_s);

/// Thrown by run_instance when one rank of several fails after setup: the others may be
/// blocked in a collective step, so the caller records the failure and aborts the group.
struct RankFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs one benchmark instance under the policy and returns its result. Exceptions from the
/// benchmark become a failed result naming the phase; the exception is RankFailure after setup
/// with several ranks (ctx.group), which it throws. With several ranks every rank calls it,
/// repetitions are synchronised and each sample is the slowest rank's time (DESIGN.md).
Result run_instance(const BenchmarkSpec& spec, const std::map<std::string, std::string>& given,
                    const RepetitionPolicy& policy, const Context& ctx,
                    const ProgressFn& progress = {});

/// Computes metrics from the time summary and work model (pure; unit-tested).
std::vector<MetricResult> compute_metrics(const BenchmarkSpec& spec, const Benchmark& bench,
                                          const Summary& time, const WorkModel& work,
                                          const Context& ctx);

}  // namespace converge::core
