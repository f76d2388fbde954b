#pragma once
// Change points in a benchmark's history behind `converge history`: where did the figure move
// to a new level and stay there (a driver upgrade, a firmware change), as opposed to one bad run.
//
// Method: E-divisive means, i.e. binary segmentation with a permutation test.
// - Matteson & James, "A Nonparametric Approach for Multiple Change Point Analysis of
//   Multivariate Data", JASA 109 (2014): E-divisive, hierarchical splits tested by permutation.
// - MongoDB runs E-divisive means on its CI performance series (Daly et al., "The Use of Change
//   Point Detection to Identify Software Performance Regressions in a CI System", ICPE 2020).
// With the energy distance's exponent at 2 the E-divisive statistic between a segment's first
// tau values and the kappa - tau values after them is proportional to
//     n1 n2 / (n1 + n2) (mean1 - mean2)^2,   n1 = tau, n2 = kappa - tau
// (a standardised difference of means): it looks for shifts of the mean only, which is what a
// performance level change is, where the paper's exponent below 2 would also react to changes
// of spread. As in the paper the candidate is the tau maximising it over tau AND kappa (both
// sides at least min_segment values): letting the "after" side stop short of the segment's end
// is what finds a level that goes up and comes back down, which one split over the whole
// segment barely sees. Its significance: the same maximum over random permutations of the
// segment, p = (1 + #{permutations with max >= observed}) / (1 + permutations). While p < alpha
// the split is kept and both sides are searched again the same way (binary segmentation).
// Cost: O(permutations n^2) per segment tested, n its length: about 0.05 s for n = 200 and 1 s
// for n = 1000 with 999 permutations on one core. The permutations stop early once p can no
// longer fall below alpha, so segments without a change cost far less.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace converge::analysis {

/// A level shift: `index` is the first element at the new level (series[index] belongs to the
/// after segment). before_mean and after_mean are the means of the final segments on either
/// side (from the previous change point, or the start, up to `index`; from `index` to the next
/// change point, or the end). p_value is the permutation p of the test that found it, computed
/// on the segment being split at the time.
struct ChangePoint {
  std::size_t index = 0;
  double before_mean = 0, after_mean = 0, p_value = 1;
};

/// Change points of `series` (one value per run, in time order), sorted by index; empty when
/// there are fewer than 2 min_segment values. Deterministic for a given seed on every
/// platform (std::mt19937_64 and an own Fisher-Yates shuffle, never std::shuffle).
/// min_segment guards against single outliers: a spike shorter than min_segment values can
/// never be a segment of its own, and the permutation test does not find it significant.
/// Throws std::invalid_argument when a value is not finite (leave runs without a figure out
/// and keep your own map of positions), when permutations < 1 or min_segment < 1.
std::vector<ChangePoint> detect_change_points(const std::vector<double>& series, double alpha = 0.01,
                                              int permutations = 999, std::size_t min_segment = 3,
                                              std::uint64_t seed = 42);

}  // namespace converge::analysis
