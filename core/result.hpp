#pragma once
// In-memory result of one benchmark instance, as the harness produces it. The JSON form and
// its schema live in results/ (results/SCHEMA.md).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/benchmark.hpp"
#include "core/energy/recorder.hpp"
#include "core/stats.hpp"

namespace converge::core {

enum class Status { ok, failed, skipped, invalid };
std::string to_string(Status s);
std::string to_string(VerifyStatus s);
std::string to_string(Direction d);
std::string to_string(MetricKind k);
std::string to_string(Quantity q);

/// When the measurement loop stops and how hard it tries (DESIGN.md, Measurement rules).
struct RepetitionPolicy {
  int warmup = 2;            ///< discarded repetitions before timing
  int min_reps = 10;         ///< timed repetitions at least
  int max_reps = 1000;       ///< timed repetitions at most
  double min_time_s = 0.5;   ///< timed seconds at least (sum of samples)
  double ci_target = 0.02;   ///< stop once (ci_high - ci_low) / median <= this
  double budget_s = 30.0;    ///< wall seconds for warm-up and timed repetitions; stops the loop
};

/// A metric computed from the work model and the repetition times. `value` comes from the
/// median time, `best` from the fastest repetition; the CI bounds map the time CI through
/// the same formula (so for a rate, ci_low comes from the slower time bound).
struct MetricResult {
  MetricSpec spec;
  double value = 0;
  double best = 0;
  bool ci_valid = false;
  double ci_low = 0, ci_high = 0;
  std::optional<Peak> peak;
  std::optional<double> fraction_of_peak;  ///< value / peak.value
};

/// How the ranks of a multi-rank instance timed each repetition: every rank times the same
/// region after a barrier; samples_s holds the maximum over ranks (`reduction`), and these are
/// the medians over repetitions of the per-repetition minimum, mean and maximum.
struct RankSpread {
  int count = 1;          ///< ranks; 1 for a single-process instance (then nothing else is set)
  std::string reduction;  ///< "max"
  double min_s = 0, avg_s = 0, max_s = 0;
};

struct Result {
  std::string benchmark;
  std::string family;
  std::string backend;
  int instance = -1;                          ///< index in the run's plan; -1 outside a plan
  std::string host;                           ///< node that ran it (Slurm node name or hostname)
  int rank = 0;                               ///< launched process that ran it (0 for one process)
  std::map<std::string, std::string> params;  ///< resolved values of every parameter
  Status status = Status::ok;
  std::string reason;                         ///< why skipped, failed or invalid
  std::string started_at, finished_at;        ///< UTC ISO 8601
  RepetitionPolicy policy;
  int warmup_reps = 0;
  std::vector<double> samples_s;              ///< every timed repetition, in order, seconds
  Summary time;                               ///< summary of samples_s
  std::string stop_reason;                    ///< "ci_target", "max_reps", "budget"
  double wall_s = 0;                          ///< setup to teardown, seconds
  std::string timer;
  double timer_resolution_s = 0;
  WorkModel work;                             ///< per repetition
  std::vector<MetricResult> metrics;          ///< only for status ok: an invalid result reports no figure
  Verification verification;
  std::map<std::string, std::string> notes;
  energy::EnergyResult energy;                ///< the timed region's energy, or why it was not measured
  RankSpread ranks;                           ///< multi-rank instances only (count > 1)
};

}  // namespace converge::core
