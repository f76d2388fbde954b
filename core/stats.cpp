#include "core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace converge::core {

namespace {

// P(X = k) for X ~ Binomial(n, 1/2), in log space so that large n does not overflow.
double binom_half_pmf(std::size_t n, std::size_t k) {
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  return std::exp(std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) -
                  nd * std::log(2.0));
}

}  // namespace

MedianCiRanks median_ci_ranks(std::size_t n, double level) {
  // Distribution-free CI of the median (Le Boudec, "Performance Evaluation", thm 2.1):
  // [x_(j), x_(n-j+1)] covers the median with probability 1 - 2 P(X <= j-1), X ~ Bin(n, 1/2).
  // Take the largest j whose coverage is still >= level.
  const double alpha_half = (1.0 - level) / 2.0;
  MedianCiRanks out;
  double tail = 0;  // P(X <= j-1)
  for (std::size_t j = 1; 2 * j <= n + 1; ++j) {
    const double next_tail = tail + binom_half_pmf(n, j - 1);  // P(X <= j-1)
    if (next_tail > alpha_half) break;
    tail = next_tail;
    out.lo = j;
    out.hi = n - j + 1;
    out.coverage = 1.0 - 2.0 * tail;
  }
  return out;
}

double median(std::vector<double> s) {
  if (s.empty()) return 0;
  const std::size_t mid = s.size() / 2;
  std::nth_element(s.begin(), s.begin() + mid, s.end());
  if (s.size() % 2 == 1) return s[mid];
  const double upper = s[mid];
  const double lower = *std::max_element(s.begin(), s.begin() + mid);
  return (lower + upper) / 2.0;
}

Summary summarize(std::vector<double> s, double ci_level) {
  Summary out;
  out.n = s.size();
  if (s.empty()) return out;
  std::sort(s.begin(), s.end());
  const std::size_t n = s.size();
  out.min = s.front();
  out.max = s.back();
  out.median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
  out.mean = std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(n);
  if (n > 1) {
    double ss = 0;
    for (double x : s) ss += (x - out.mean) * (x - out.mean);
    out.stddev = std::sqrt(ss / static_cast<double>(n - 1));
  }
  out.cv = out.mean != 0 ? out.stddev / out.mean : 0;
  const auto ranks = median_ci_ranks(n, ci_level);
  if (ranks.lo > 0) {
    out.ci_valid = true;
    out.ci_low = s[ranks.lo - 1];
    out.ci_high = s[ranks.hi - 1];
    out.ci_level = ranks.coverage;
  }
  return out;
}

}  // namespace converge::core
