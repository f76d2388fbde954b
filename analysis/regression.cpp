#include "analysis/regression.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace converge::analysis {

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

std::vector<double> finite_only(const std::vector<double>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v)
    if (std::isfinite(x)) out.push_back(x);
  return out;
}

// Median in place (reorders v); v non-empty.
double median_inplace(std::vector<double>& v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  if (v.size() % 2 == 1) return v[mid];
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + v[mid]) / 2.0;
}

// Unbiased draw in [0, n) by rejection: the same on every standard library, unlike
// std::uniform_int_distribution, whose algorithm is implementation-defined.
std::size_t draw_index(std::mt19937_64& rng, std::size_t n) {
  const std::uint64_t range = n;
  const std::uint64_t limit = (0 - range) % range;  // 2^64 mod n: reject the short last block
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= limit) return static_cast<std::size_t>(r % range);
  }
}

// Quantile q of sorted data, linear interpolation between order statistics (R type 7).
double quantile_sorted(const std::vector<double>& s, double q) {
  const double h = q * static_cast<double>(s.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (h - static_cast<double>(lo)) * (s[hi] - s[lo]);
}

// P(U = k) counts for sizes m, n without ties: the number of arrangements of m a's and n b's
// with exactly k (a, b) pairs where a > b. c(i, j, k) = c(i-1, j, k-j) + c(i, j-1, k): the
// largest value is an a (beating all j b's) or a b. Doubles hold C(40, 20) ~ 1.4e11 exactly.
std::vector<double> u_counts(std::size_t m, std::size_t n) {
  const std::size_t kmax = m * n;
  // prev[j][k] = c(i-1, j, k); cur[j][k] = c(i, j, k)
  std::vector<std::vector<double>> prev(n + 1, std::vector<double>(kmax + 1, 0.0)), cur = prev;
  for (std::size_t j = 0; j <= n; ++j) prev[j][0] = 1;  // i = 0: only k = 0
  for (std::size_t i = 1; i <= m; ++i) {
    for (std::size_t j = 0; j <= n; ++j) {
      for (std::size_t k = 0; k <= kmax; ++k) {
        double c = k >= j ? prev[j][k - j] : 0.0;
        if (j > 0) c += cur[j - 1][k];
        cur[j][k] = c;
      }
    }
    std::swap(prev, cur);
  }
  return prev[n];
}

std::string percent(double fraction) { return fmt::format("{:+.1f}%", 100.0 * fraction); }

}  // namespace

RatioCI bootstrap_median_ratio(const std::vector<double>& baseline, const std::vector<double>& candidate,
                               int resamples, double level, std::uint64_t seed) {
  if (resamples < 1) throw std::invalid_argument("bootstrap_median_ratio: resamples must be at least 1");
  if (!(level > 0 && level < 1)) throw std::invalid_argument("bootstrap_median_ratio: level must be in (0, 1)");
  std::vector<double> base = finite_only(baseline), cand = finite_only(candidate);
  RatioCI out{nan_v, nan_v, nan_v, 0};
  if (base.empty() || cand.empty()) return out;
  {
    std::vector<double> b = base, c = cand;
    const double mb = median_inplace(b);
    if (mb == 0) return out;
    out.ratio = median_inplace(c) / mb;
  }
  std::mt19937_64 rng(seed);
  std::vector<double> ratios(static_cast<std::size_t>(resamples));
  std::vector<double> rb(base.size()), rc(cand.size());
  for (double& r : ratios) {
    for (double& x : rb) x = base[draw_index(rng, base.size())];
    for (double& x : rc) x = cand[draw_index(rng, cand.size())];
    r = median_inplace(rc) / median_inplace(rb);
  }
  std::sort(ratios.begin(), ratios.end());
  const double tail = (1.0 - level) / 2.0;
  out.low = quantile_sorted(ratios, tail);
  out.high = quantile_sorted(ratios, 1.0 - tail);
  out.resamples = resamples;
  return out;
}

MannWhitney mann_whitney_u(const std::vector<double>& a_in, const std::vector<double>& b_in) {
  const std::vector<double> a = finite_only(a_in), b = finite_only(b_in);
  MannWhitney out;
  if (a.empty() || b.empty()) return out;
  const std::size_t m = a.size(), n = b.size(), total = m + n;

  // Midranks of the pooled sample; U_a = R_a - m (m + 1) / 2.
  std::vector<std::pair<double, bool>> pooled;  // value, is from a
  pooled.reserve(total);
  for (double x : a) pooled.emplace_back(x, true);
  for (double x : b) pooled.emplace_back(x, false);
  std::sort(pooled.begin(), pooled.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  double rank_sum_a = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < total;) {
    std::size_t j = i;
    while (j < total && pooled[j].first == pooled[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double midrank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].second) rank_sum_a += midrank;
    if (j - i > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  const double md = static_cast<double>(m), nd = static_cast<double>(n), N = static_cast<double>(total);
  out.u = rank_sum_a - md * (md + 1) / 2.0;
  const double mean = md * nd / 2.0;
  const double var = md * nd / 12.0 * ((N + 1) - tie_term / (N * (N - 1)));
  const double sd = var > 0 ? std::sqrt(var) : 0.0;

  if (m <= 20 && n <= 20 && !ties) {
    out.exact = true;
    out.z = (out.u - mean) / sd;  // sd > 0: no ties and both sides non-empty
    const std::vector<double> counts = u_counts(m, n);
    const auto uk = static_cast<std::size_t>(std::llround(out.u));
    double all = 0, le = 0, ge = 0;
    for (std::size_t k = 0; k < counts.size(); ++k) {
      all += counts[k];
      if (k <= uk) le += counts[k];
      if (k >= uk) ge += counts[k];
    }
    out.p_value = std::min(1.0, 2.0 * std::min(le, ge) / all);
    return out;
  }
  if (sd == 0) {
    out.z = 0;
    out.p_value = 1;
    return out;
  }
  const double d = out.u - mean;
  out.z = std::copysign(std::max(0.0, std::fabs(d) - 0.5), d) / sd;
  out.p_value = std::min(1.0, std::erfc(std::fabs(out.z) / std::sqrt(2.0)));
  return out;
}

std::string to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::faster: return "faster";
    case Verdict::slower: return "slower";
    case Verdict::unchanged: return "unchanged";
    case Verdict::noisy: return "noisy";
  }
  return "noisy";
}

Comparison compare_samples(const std::vector<double>& baseline_times, const std::vector<double>& candidate_times,
                           double threshold, double alpha) {
  Comparison out;
  out.verdict = Verdict::noisy;
  out.change = nan_v;
  out.ratio = RatioCI{nan_v, nan_v, nan_v, 0};
  const std::vector<double> base = finite_only(baseline_times), cand = finite_only(candidate_times);
  const std::size_t n_min = std::min(base.size(), cand.size());
  if (n_min < 3) {
    out.why = fmt::format("too few samples (n={})", n_min);
    return out;
  }
  {
    std::vector<double> b = base, c = cand;
    const double mb = median_inplace(b), mc = median_inplace(c);
    if (!(mb > 0) || !(mc > 0)) {
      out.why = fmt::format("median time is not positive (baseline {:g} s, candidate {:g} s)", mb, mc);
      return out;
    }
  }
  // The same samples (a run compared with itself, or an unchanged copy): nothing changed, and
  // resampling them independently would only measure their spread.
  if (base == cand) {
    out.ratio = RatioCI{1.0, 1.0, 1.0, 0};
    out.test = mann_whitney_u(cand, base);
    out.change = 0;
    out.verdict = Verdict::unchanged;
    out.why = fmt::format("identical samples (n={}): the same measurement", base.size());
    return out;
  }
  out.ratio = bootstrap_median_ratio(base, cand, 2000, 1.0 - alpha);
  out.test = mann_whitney_u(cand, base);
  out.change = out.ratio.ratio - 1.0;
  const RatioCI& r = out.ratio;
  const double p = out.test.p_value;
  const std::string numbers =
      fmt::format("median time {} ({:g}% CI {} .. {}), Mann-Whitney p={:.2g}{}, n={}/{}", percent(out.change),
                  100.0 * (1.0 - alpha), percent(r.low - 1.0), percent(r.high - 1.0), p,
                  out.test.exact ? " exact" : "", base.size(), cand.size());
  const std::string t = fmt::format("{:g}%", 100.0 * threshold);
  std::string reason;
  if (r.low > 1 && out.change > threshold && p < alpha) {
    out.verdict = Verdict::slower;
    reason = "slower by more than " + t;
  } else if (r.high < 1 && out.change < -threshold && p < alpha) {
    out.verdict = Verdict::faster;
    reason = "faster by more than " + t;
  } else if (r.low >= 1 - threshold && r.high <= 1 + threshold) {
    out.verdict = Verdict::unchanged;
    reason = "CI within +-" + t;
  } else if (p >= alpha && r.high - r.low < 2 * threshold) {
    out.verdict = Verdict::unchanged;
    reason = "no significant shift, and the CI is narrow enough to have shown one beyond +-" + t;
  } else {
    out.verdict = Verdict::noisy;
    reason = "cannot tell whether the time changed by more than +-" + t;
  }
  out.why = numbers + "; " + reason;
  return out;
}

}  // namespace converge::analysis
