#pragma once
// Statistics over raw samples (Hoefler & Belli, SC15): median with its nonparametric CI.
#include <cstddef>
#include <vector>

namespace converge::core {

/// Summary of a sample set. The CI is the distribution-free confidence interval of the
/// median from binomial order statistics; `ci_valid` is false when n is too small (n < 6
/// for 95%), and `ci_level` is the coverage actually achieved (>= the level asked for).
struct Summary {
  std::size_t n = 0;
  double min = 0, max = 0, mean = 0, median = 0;
  double stddev = 0;  ///< sample standard deviation (n-1)
  double cv = 0;      ///< stddev / mean
  bool ci_valid = false;
  double ci_low = 0, ci_high = 0;
  double ci_level = 0;
};

/// 1-based ranks (lo, hi) of the order statistics bounding the median at `level`
/// (x_(lo) <= median <= x_(hi)), and the exact coverage. lo == 0 when n is too small.
struct MedianCiRanks {
  std::size_t lo = 0, hi = 0;
  double coverage = 0;
};
MedianCiRanks median_ci_ranks(std::size_t n, double level = 0.95);

/// Summarises samples (need not be sorted). Empty input gives n == 0.
Summary summarize(std::vector<double> samples, double ci_level = 0.95);

/// Median of a sample (need not be sorted); 0 for empty input.
double median(std::vector<double> samples);

}  // namespace converge::core
