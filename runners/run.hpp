#pragma once
// `converge run` and `converge screen`: a suite on a partition, planned, launched, gathered
// into one run document (rewritten atomically after every result), resumable.
#include <string>
#include <vector>

#include <map>

#include "analysis/screening.hpp"
#include "core/expected.hpp"
#include "results/run_document.hpp"

namespace converge::runners {

struct RunRequest {
  std::string target;     ///< benchmark id, built-in suite or suite file ("" = quick)
  std::string suite;      ///< same, from --suite
  std::string site, partition;
  std::string out;        ///< run document path
  std::string resume;     ///< run document path or run id to complete
  std::string work_dir;   ///< plans, events, job scripts; default beside the run document
  double idle_baseline = 0;  ///< seconds of idle power before the benchmarks (0: none)
  std::string energy;     ///< meters: "" = the partition's (auto without a list), auto, none, or a list
  std::string db;         ///< results store ("" = the site's results_db, else the default)
  std::vector<std::string> params, peaks;
  int threads = 0;
  double timeout = 0;
  int warmup = -1, min_reps = -1, max_reps = -1;
  double min_time = -1, ci_target = -1, budget = -1;
  bool dry_run = false;
  bool screening = false;
  analysis::ScreenOptions screen;
  std::string command_line;
};

inline constexpr int kBadInput = 2;
/// Prints "converge: MESSAGE" on stderr and returns kBadInput.
int bad_input(const std::string& message);
/// Prints "converge: MESSAGE" on stderr and returns 1 (something could not be read or done).
int failure(const std::string& message);
/// --peak id=value options (base units) on top of `base` (a partition's peaks).
core::Expected<std::map<std::string, double>> parse_peak_overrides(const std::vector<std::string>& given,
                                                                   std::map<std::string, double> base = {});
/// The peak model of an inventory with overrides applied, as the run document holds it.
results::json peaks_for(const results::json& inventory, const std::map<std::string, double>& overrides);

/// Exit status: 0 all ok or skipped (screen: no outlier); 1 a result failed or was invalid
/// (screen: an outlier node); 2 bad input; 130 interrupted (document kept, incomplete).
int run_main(const RunRequest& request);

}  // namespace converge::runners
