#include "analysis/changepoint.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace converge::analysis {

namespace {

// Same draw as in regression.cpp: rejection sampling, identical on every standard library.
std::size_t draw_index(std::mt19937_64& rng, std::size_t n) {
  const std::uint64_t range = n;
  const std::uint64_t limit = (0 - range) % range;
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= limit) return static_cast<std::size_t>(r % range);
  }
}

struct Split {
  std::size_t at = 0;  // offset from the segment's start of the first "after" value
  double stat = -1;    // squared: n1 n2 / (n1 + n2) (mean1 - mean2)^2, same order, no sqrt
};

// Best split of v as E-divisive searches it: the first maximum over tau and kappa of
// sqrt(n1 n2 / (n1 + n2)) |mean(v[0, tau)) - mean(v[tau, kappa))|, n1 = tau, n2 = kappa - tau,
// both at least min_seg. Letting the "after" side end before the segment does (kappa < n) is
// what finds a level that goes up and comes back down (a regression later fixed), which a
// single split over the whole segment barely sees. `prefix` is scratch space.
Split best_split(const std::vector<double>& v, std::size_t min_seg, std::vector<double>& prefix) {
  const std::size_t n = v.size();
  // Centred sums: the statistic is shift-invariant, and large values (1e9 B/s) would lose
  // digits to cancellation in differences of raw prefix sums.
  double centre = 0;
  for (double x : v) centre += x;
  centre /= static_cast<double>(n);
  prefix.assign(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + (v[i] - centre);
  Split best;
  for (std::size_t tau = min_seg; tau + min_seg <= n; ++tau) {
    const double n1 = static_cast<double>(tau), mean1 = prefix[tau] / n1;
    for (std::size_t kappa = tau + min_seg; kappa <= n; ++kappa) {
      const double n2 = static_cast<double>(kappa - tau);
      const double diff = mean1 - (prefix[kappa] - prefix[tau]) / n2;
      const double stat = n1 * n2 / (n1 + n2) * diff * diff;
      if (stat > best.stat) best = {tau, stat};
    }
  }
  return best;
}

struct Found {
  std::size_t index;
  double p;
};

void segment(const std::vector<double>& series, std::size_t lo, std::size_t hi, double alpha, int permutations,
             std::size_t min_seg, std::mt19937_64& rng, std::vector<Found>& found) {
  if (hi - lo < 2 * min_seg) return;
  std::vector<double> v(series.begin() + static_cast<std::ptrdiff_t>(lo),
                        series.begin() + static_cast<std::ptrdiff_t>(hi));
  std::vector<double> prefix;
  const Split observed = best_split(v, min_seg, prefix);
  // Sums in another order round differently: a permutation equal in substance to the observed
  // split must count as ">=", so compare with a relative tolerance.
  const double bar = observed.stat * (1.0 - 1e-9);
  // Stop as soon as p can no longer fall below alpha: the decision is the same, and segments
  // without a change (most of them, at the leaves) then cost a few dozen permutations.
  int at_least = 0;
  for (int p = 0; p < permutations; ++p) {
    for (std::size_t i = v.size() - 1; i > 0; --i) std::swap(v[i], v[draw_index(rng, i + 1)]);
    if (best_split(v, min_seg, prefix).stat >= bar) ++at_least;
    if ((1.0 + at_least) / (1.0 + permutations) >= alpha) return;
  }
  const double p_value = (1.0 + at_least) / (1.0 + permutations);
  const std::size_t at = lo + observed.at;
  found.push_back({at, p_value});
  segment(series, lo, at, alpha, permutations, min_seg, rng, found);
  segment(series, at, hi, alpha, permutations, min_seg, rng, found);
}

double mean_of(const std::vector<double>& s, std::size_t lo, std::size_t hi) {
  double sum = 0;
  for (std::size_t i = lo; i < hi; ++i) sum += s[i];
  return sum / static_cast<double>(hi - lo);
}

}  // namespace

std::vector<ChangePoint> detect_change_points(const std::vector<double>& series, double alpha, int permutations,
                                              std::size_t min_segment, std::uint64_t seed) {
  if (permutations < 1) throw std::invalid_argument("detect_change_points: permutations must be at least 1");
  if (min_segment < 1) throw std::invalid_argument("detect_change_points: min_segment must be at least 1");
  for (std::size_t i = 0; i < series.size(); ++i)
    if (!std::isfinite(series[i]))
      throw std::invalid_argument("detect_change_points: value " + std::to_string(i) + " is not finite");

  std::mt19937_64 rng(seed);
  std::vector<Found> found;
  segment(series, 0, series.size(), alpha, permutations, min_segment, rng, found);
  std::sort(found.begin(), found.end(), [](const Found& l, const Found& r) { return l.index < r.index; });

  std::vector<ChangePoint> out;
  out.reserve(found.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    const std::size_t prev = i == 0 ? 0 : found[i - 1].index;
    const std::size_t next = i + 1 == found.size() ? series.size() : found[i + 1].index;
    out.push_back({found[i].index, mean_of(series, prev, found[i].index), mean_of(series, found[i].index, next),
                   found[i].p});
  }
  return out;
}

}  // namespace converge::analysis
