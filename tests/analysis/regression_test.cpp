// Regression statistics: bootstrap CI of the median ratio, Mann-Whitney U, and the verdicts,
// on data from a seeded generator so every answer is known and reproducible.
#include "analysis/regression.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/analysis/normal.hpp"

using namespace converge::analysis;
using converge::analysis::test_support::Normal;

namespace {

// n times around `center` with coefficient of variation `cv`.
std::vector<double> times(std::uint64_t seed, std::size_t n, double center, double cv) {
  Normal normal(seed);
  std::vector<double> out(n);
  for (double& x : out) x = normal(center, cv * center);
  return out;
}

}  // namespace

// --- bootstrap ------------------------------------------------------------------------------

TEST(BootstrapMedianRatio, SameDataGivesRatioOneAndCiAroundIt) {
  const auto x = times(1, 30, 1.0, 0.01);
  const RatioCI r = bootstrap_median_ratio(x, x);
  EXPECT_EQ(r.ratio, 1.0);
  EXPECT_EQ(r.resamples, 2000);
  EXPECT_LT(r.low, 1.0);
  EXPECT_GT(r.high, 1.0);
  EXPECT_GT(r.low, 0.99);
  EXPECT_LT(r.high, 1.01);
}

TEST(BootstrapMedianRatio, DeterministicForASeedAndDifferentForAnother) {
  const auto a = times(2, 20, 1.0, 0.05), b = times(3, 20, 1.1, 0.05);
  const RatioCI r1 = bootstrap_median_ratio(a, b, 500, 0.9, 7);
  const RatioCI r2 = bootstrap_median_ratio(a, b, 500, 0.9, 7);
  EXPECT_EQ(r1.low, r2.low);
  EXPECT_EQ(r1.high, r2.high);
  const RatioCI r3 = bootstrap_median_ratio(a, b, 500, 0.9, 8);
  EXPECT_EQ(r1.ratio, r3.ratio);
  EXPECT_TRUE(r1.low != r3.low || r1.high != r3.high);
}

TEST(BootstrapMedianRatio, UndefinedRatioIsNaN) {
  const RatioCI empty = bootstrap_median_ratio({}, {1, 2, 3});
  EXPECT_TRUE(std::isnan(empty.ratio));
  EXPECT_EQ(empty.resamples, 0);
  const RatioCI zero = bootstrap_median_ratio({0, 0, 1}, {1, 2, 3});
  EXPECT_TRUE(std::isnan(zero.ratio));
  EXPECT_THROW(bootstrap_median_ratio({1}, {1}, 0), std::invalid_argument);
  EXPECT_THROW(bootstrap_median_ratio({1}, {1}, 10, 1.0), std::invalid_argument);
}

// --- Mann-Whitney ---------------------------------------------------------------------------

TEST(MannWhitney, ExactTextbookCompleteSeparation) {
  // a = {1,2,3}, b = {4,5,6}: no a beats any b, U = 0. Under H0 all C(6,3) = 20 ways to
  // place the a's among the 6 ranks are equally likely; only {1,2,3} gives U = 0, so
  // P(U <= 0) = 1/20 and the two-sided p = 2/20 = 0.1.
  const MannWhitney t = mann_whitney_u({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 0);
  EXPECT_DOUBLE_EQ(t.p_value, 0.1);
  EXPECT_LT(t.z, 0);
  // Swapped: U = 3 * 3 - 0 = 9, same p.
  const MannWhitney s = mann_whitney_u({4, 5, 6}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(s.u, 9);
  EXPECT_DOUBLE_EQ(s.p_value, 0.1);
  EXPECT_DOUBLE_EQ(s.z, -t.z);
}

TEST(MannWhitney, ExactOneInversion) {
  // a = {1,2,4}, b = {3,5,6}: only 4 > 3, U = 1. Rank sets of a with U <= 1: {1,2,3} (U = 0)
  // and {1,2,4} (U = 1): P(U <= 1) = 2/20, two-sided p = 4/20 = 0.2.
  const MannWhitney t = mann_whitney_u({1, 2, 4}, {3, 5, 6});
  EXPECT_TRUE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 1);
  EXPECT_DOUBLE_EQ(t.p_value, 0.2);
  // Unequal sizes: a = {1,2,3,4}, b = {5..9}: U = 0, p = 2 / C(9,4) = 2/126.
  const MannWhitney u = mann_whitney_u({1, 2, 3, 4}, {5, 6, 7, 8, 9});
  EXPECT_DOUBLE_EQ(u.p_value, 2.0 / 126.0);
  // Interleaved perfectly in the middle of the distribution: p = 1.
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 4}, {2, 3}).p_value, 1.0);
}

TEST(MannWhitney, TiesUseNormalApproximationWithTieAndContinuityCorrection) {
  // a = {1,2,2,3,3,4,5,5}, b = {3,4,4,5,6,6,7,7}. U (a > b, ties 1/2): 1,2,2 beat nothing;
  // each 3 ties one 3 (0.5 each); 4 beats 3 and ties 4,4 (2); each 5 beats 3,4,4 and ties 5
  // (3.5 each): U = 1 + 2 + 7 = 10; mean 8*8/2 = 32. Tie groups 2,3,3,3,2,2 (values 2..7):
  // sum(t^3 - t) = 3*6 + 3*24 = 90. var = 64/12 (17 - 90/240) = 88.6667, sd = 9.41630.
  // z = -(22 - 0.5)/9.41630 = -2.28328; p = erfc(2.28328 / sqrt 2) = 0.022414.
  const MannWhitney t = mann_whitney_u({1, 2, 2, 3, 3, 4, 5, 5}, {3, 4, 4, 5, 6, 6, 7, 7});
  EXPECT_FALSE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 10);
  EXPECT_NEAR(t.z, -2.28328, 1e-5);
  EXPECT_NEAR(t.p_value, 0.022414, 1e-6);
}

TEST(MannWhitney, NormalApproximationForLargeSamplesAndDegenerateCases) {
  // 25 values each, well separated, no ties: too big for the exact path.
  const MannWhitney big = mann_whitney_u(times(4, 25, 1.0, 0.01), times(5, 25, 1.1, 0.01));
  EXPECT_FALSE(big.exact);
  EXPECT_DOUBLE_EQ(big.u, 0);
  EXPECT_GT(big.p_value, 0);
  EXPECT_LT(big.p_value, 1e-8);
  // Same distribution: p far from significant.
  const MannWhitney same = mann_whitney_u(times(6, 40, 1.0, 0.02), times(7, 40, 1.0, 0.02));
  EXPECT_GT(same.p_value, 0.05);
  EXPECT_LE(same.p_value, 1.0);
  // Every value tied: no information, p = 1.
  const MannWhitney tied = mann_whitney_u({2, 2, 2}, {2, 2, 2, 2});
  EXPECT_FALSE(tied.exact);
  EXPECT_DOUBLE_EQ(tied.p_value, 1);
  EXPECT_DOUBLE_EQ(tied.z, 0);
  // An empty side (after dropping non-finite values).
  const MannWhitney empty = mann_whitney_u({std::nan("")}, {1, 2});
  EXPECT_DOUBLE_EQ(empty.p_value, 1);
  EXPECT_FALSE(empty.exact);
}

TEST(MannWhitney, ExactAndNormalAgreeRoughlyAtTwenty) {
  const auto a = times(8, 20, 1.0, 0.02), b = times(9, 20, 1.01, 0.02);
  const MannWhitney t = mann_whitney_u(a, b);
  ASSERT_TRUE(t.exact);
  const double mean = 200, sd = std::sqrt(20.0 * 20.0 * 41.0 / 12.0);
  const double d = t.u - mean;
  const double z = std::copysign(std::max(0.0, std::fabs(d) - 0.5), d) / sd;
  EXPECT_NEAR(t.p_value, std::erfc(std::fabs(z) / std::sqrt(2.0)), 0.01);
}

// --- verdicts -------------------------------------------------------------------------------

TEST(CompareSamples, TenPercentSlowdownWithLowNoiseIsSlower) {
  const Comparison c = compare_samples(times(10, 30, 1.0, 0.01), times(11, 30, 1.1, 0.01));
  EXPECT_EQ(c.verdict, Verdict::slower) << c.why;
  EXPECT_GT(c.change, 0.09);
  EXPECT_LT(c.change, 0.11);
  EXPECT_GT(c.ratio.low, 1.0);
  EXPECT_LT(c.test.p_value, 1e-6);
  EXPECT_NE(c.why.find("median time +"), std::string::npos) << c.why;
  EXPECT_NE(c.why.find("95% CI"), std::string::npos) << c.why;
}

TEST(CompareSamples, TenPercentInsideHighNoiseIsNoisyNotSlower) {
  const Comparison c = compare_samples(times(12, 10, 1.0, 0.30), times(13, 10, 1.1, 0.30));
  EXPECT_EQ(c.verdict, Verdict::noisy) << c.why;
  EXPECT_LT(c.ratio.low, 1.0);  // cannot exclude "no change"
}

TEST(CompareSamples, SameValuesShuffledAreUnchanged) {
  const auto base = times(14, 50, 1.0, 0.02);
  auto cand = base;
  std::mt19937_64 rng(15);
  for (std::size_t i = cand.size() - 1; i > 0; --i) std::swap(cand[i], cand[rng() % (i + 1)]);
  const Comparison c = compare_samples(base, cand);
  EXPECT_EQ(c.verdict, Verdict::unchanged) << c.why;
  EXPECT_EQ(c.ratio.ratio, 1.0);
  EXPECT_DOUBLE_EQ(c.test.p_value, 1.0);
}

TEST(CompareSamples, IndependentDrawsOfOneDistributionAreUnchanged) {
  const Comparison c = compare_samples(times(16, 50, 1.0, 0.02), times(17, 50, 1.0, 0.02));
  EXPECT_EQ(c.verdict, Verdict::unchanged) << c.why;
  EXPECT_LT(std::fabs(c.change), 0.02);
}

TEST(CompareSamples, RunAgainstItselfIsUnchangedWithRatioExactlyOne) {
  const auto x = times(18, 20, 2.5e-3, 0.03);
  const Comparison c = compare_samples(x, x);
  EXPECT_EQ(c.verdict, Verdict::unchanged) << c.why;
  EXPECT_EQ(c.ratio.ratio, 1.0);
  EXPECT_EQ(c.change, 0.0);
}

TEST(CompareSamples, TenPercentSpeedupIsFaster) {
  const Comparison c = compare_samples(times(19, 30, 1.0, 0.01), times(20, 30, 0.9, 0.01));
  EXPECT_EQ(c.verdict, Verdict::faster) << c.why;
  EXPECT_GT(c.change, -0.11);
  EXPECT_LT(c.change, -0.09);
  EXPECT_LT(c.ratio.high, 1.0);
}

TEST(CompareSamples, SignificantButSmallShiftIsNotARegression) {
  // 2% slower, measured precisely: real, but inside the 5% threshold.
  const Comparison c = compare_samples(times(21, 40, 1.0, 0.005), times(22, 40, 1.02, 0.005));
  EXPECT_EQ(c.verdict, Verdict::unchanged) << c.why;
  EXPECT_LT(c.test.p_value, 0.05);
}

TEST(CompareSamples, TooFewSamplesAreNoisy) {
  const Comparison c = compare_samples({1.0, 1.1}, times(23, 30, 1.0, 0.01));
  EXPECT_EQ(c.verdict, Verdict::noisy);
  EXPECT_EQ(c.why, "too few samples (n=2)");
  // Non-finite values do not count.
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  const Comparison d = compare_samples({1.0, nan, 1.1, inf}, {1.0, 1.0, 1.0});
  EXPECT_EQ(d.verdict, Verdict::noisy);
  EXPECT_EQ(d.why, "too few samples (n=2)");
}

TEST(CompareSamples, NonFiniteValuesAreDropped) {
  auto base = times(24, 30, 1.0, 0.01), cand = times(25, 30, 1.1, 0.01);
  const Comparison clean = compare_samples(base, cand);
  base.push_back(std::nan(""));
  cand.insert(cand.begin(), std::numeric_limits<double>::infinity());
  const Comparison dirty = compare_samples(base, cand);
  EXPECT_EQ(dirty.verdict, Verdict::slower) << dirty.why;
  EXPECT_EQ(dirty.ratio.ratio, clean.ratio.ratio);
  EXPECT_EQ(dirty.ratio.low, clean.ratio.low);
  EXPECT_EQ(dirty.why, clean.why);
}

TEST(CompareSamples, ZeroMedianIsNoisy) {
  const Comparison c = compare_samples({0, 0, 0, 1}, {1, 1, 1});
  EXPECT_EQ(c.verdict, Verdict::noisy);
  EXPECT_NE(c.why.find("not positive"), std::string::npos) << c.why;
}

TEST(Verdict, ToString) {
  EXPECT_EQ(to_string(Verdict::faster), "faster");
  EXPECT_EQ(to_string(Verdict::slower), "slower");
  EXPECT_EQ(to_string(Verdict::unchanged), "unchanged");
  EXPECT_EQ(to_string(Verdict::noisy), "noisy");
}

TEST(CompareSamples, ANoisyRunAgainstItselfIsStillUnchanged) {
  // 30% noise and 5 samples: independent resampling alone would give a CI far wider than 5%.
  const auto x = times(21, 5, 1e-3, 0.30);
  const Comparison c = compare_samples(x, x);
  EXPECT_EQ(c.verdict, Verdict::unchanged) << c.why;
  EXPECT_EQ(c.ratio.low, 1.0);
  EXPECT_EQ(c.ratio.high, 1.0);
  EXPECT_NE(c.why.find("identical samples (n=5)"), std::string::npos) << c.why;
  // A shuffled copy is not "identical": it goes through the statistics.
  auto y = x;
  std::swap(y[0], y[1]);
  EXPECT_NE(compare_samples(x, y).why.find("Mann-Whitney"), std::string::npos);
}
