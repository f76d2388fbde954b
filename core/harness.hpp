#pragma once
// The measurement loop: setup, warm-up, adaptive timed repetitions, verification, metrics.
#include <functional>
#include <map>
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

/// Runs one benchmark instance under the policy and returns its result. Never throws:
/// exceptions from the benchmark become a failed result naming the phase.
Result run_instance(const BenchmarkSpec& spec, const std::map<std::string, std::string>& given,
                    const RepetitionPolicy& policy, const Context& ctx,
                    const ProgressFn& progress = {});

/// Computes metrics from the time summary and work model (pure; unit-tested).
std::vector<MetricResult> compute_metrics(const BenchmarkSpec& spec, const Benchmark& bench,
                                          const Summary& time, const WorkModel& work,
                                          const Context& ctx);

}  // namespace converge::core
