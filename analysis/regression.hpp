#pragma once
// Regression statistics behind `converge compare`: is a candidate run's benchmark slower than
// the baseline's, by how much, and how sure are we? Pure functions over per-repetition times.
//
// Two views of the same samples, both distribution-free (benchmark times are skewed and often
// multi-modal, so no normality is assumed):
// - the ratio of median times with a percentile bootstrap CI (how much, and how precisely);
// - the two-sided Mann-Whitney U test (is there a shift at all).
// The verdict (compare_samples) needs both to agree before it calls anything a regression.
#include <cstdint>
#include <string>
#include <vector>

namespace converge::analysis {

/// Ratio of medians candidate/baseline with a percentile bootstrap confidence interval.
/// `ratio` is the ratio of the samples' medians; [low, high] the (1-level)/2 and
/// 1-(1-level)/2 quantiles (linear interpolation between order statistics) of the ratio over
/// `resamples` bootstrap replicates; `resamples` is the number actually drawn (0 when the
/// ratio is undefined: either side empty after dropping non-finite values, or a zero
/// baseline median; then all three figures are NaN).
struct RatioCI {
  double ratio = 0, low = 0, high = 0;
  int resamples = 0;
};

/// Each bootstrap replicate resamples baseline and candidate independently, with replacement,
/// at their own sizes. Non-finite values are dropped first. Deterministic for a given seed on
/// every platform and standard library: std::mt19937_64 (fully specified by the standard)
/// with an own unbiased index draw (rejection sampling), never std::uniform_int_distribution.
/// Throws std::invalid_argument when resamples < 1 or level is not in (0, 1).
RatioCI bootstrap_median_ratio(const std::vector<double>& baseline, const std::vector<double>& candidate,
                               int resamples = 2000, double level = 0.95, std::uint64_t seed = 42);

/// Two-sided Mann-Whitney U (Wilcoxon rank-sum) test of a against b.
/// `u` is U for sample a: the number of pairs (a_i, b_j) with a_i > b_j, ties counting 1/2
/// (so u = 0 when every a is below every b, and U for b is |a| |b| - u).
/// `exact` == true: both samples have 1..20 values and the pooled sample has no ties; the
///   p-value is exact, from the permutation distribution of U (counted by dynamic
///   programming): p = min(1, 2 min(P(U <= u), P(U >= u))). `z` is then the plain normal
///   score (u - mean) / sd, for information.
/// `exact` == false: the normal approximation with the tie-corrected variance
///   sd^2 = |a| |b| / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1))), t the sizes of tie groups,
///   and a continuity correction of 1/2: z = sign(u - mean) max(0, |u - mean| - 1/2) / sd,
///   p = erfc(|z| / sqrt 2). When every value is tied (sd = 0), z = 0 and p = 1.
/// Non-finite values are dropped first; with an empty side, u = z = 0, p = 1, exact = false.
struct MannWhitney {
  double u = 0, z = 0, p_value = 1;
  bool exact = false;
};
MannWhitney mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

/// What a comparison says about the candidate's time against the baseline's.
enum class Verdict { faster, slower, unchanged, noisy };

/// "faster", "slower", "unchanged", "noisy".
std::string to_string(Verdict verdict);

struct Comparison {
  RatioCI ratio;      ///< median time candidate/baseline with its bootstrap CI at level 1 - alpha
  MannWhitney test;   ///< test of candidate times against baseline times (u counts candidate > baseline)
  double change = 0;  ///< ratio.ratio - 1: +0.10 means the candidate's median time is 10% longer (slower)
  Verdict verdict = Verdict::noisy;
  std::string why;    ///< one line for people, with the numbers
};

/// Compares per-repetition TIMES in seconds (lower is better for every benchmark: a rate
/// metric that is higher-is-better is computed from the same work over a shorter time).
/// Non-finite times are dropped first. With r = the time ratio's bootstrap CI at level
/// 1 - alpha (2000 resamples, seed 42), change = median ratio - 1, p = Mann-Whitney p, and
/// t = threshold, the rules, applied in this order, are:
///   - unchanged  if the two samples are identical (a run compared with itself): ratio 1, CI [1, 1];
///   - noisy      if either side has fewer than 3 times ("too few samples (n=2)", the smaller n)
///                or a median time that is not positive;
///   - slower     if r.low > 1     and change > +t and p < alpha;
///   - faster     if r.high < 1    and change < -t and p < alpha;
///   - unchanged  if 1 - t <= r.low and r.high <= 1 + t (any change is within the threshold),
///                or p >= alpha and r.high - r.low < 2 t (no evidence of a shift, and the data
///                are precise enough that a shift beyond the threshold would have shown);
///   - noisy      otherwise: the data cannot tell whether a change beyond the threshold
///                happened (rerun with more repetitions or on a quieter machine).
/// So a regression needs a significant shift, a CI wholly above 1 and a point change beyond
/// the threshold; noise alone is never called a regression.
Comparison compare_samples(const std::vector<double>& baseline_times, const std::vector<double>& candidate_times,
                           double threshold = 0.05, double alpha = 0.05);

}  // namespace converge::analysis
