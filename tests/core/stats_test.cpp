#include "core/stats.hpp"

#include <cmath>

#include <gtest/gtest.h>

using namespace converge::core;

TEST(Stats, SummaryOfKnownSample) {
  // 1..10: mean 5.5, median 5.5, sample stddev sqrt(55/6) = 3.0277
  std::vector<double> s = {7, 3, 10, 1, 5, 9, 2, 8, 4, 6};
  const Summary r = summarize(s);
  EXPECT_EQ(r.n, 10u);
  EXPECT_DOUBLE_EQ(r.min, 1);
  EXPECT_DOUBLE_EQ(r.max, 10);
  EXPECT_DOUBLE_EQ(r.mean, 5.5);
  EXPECT_DOUBLE_EQ(r.median, 5.5);
  EXPECT_NEAR(r.stddev, 3.0276503540974917, 1e-12);
  EXPECT_NEAR(r.cv, 3.0276503540974917 / 5.5, 1e-12);
  // n = 10: the 95% CI of the median is [x(2), x(9)] with coverage 1 - 2*11/1024.
  ASSERT_TRUE(r.ci_valid);
  EXPECT_DOUBLE_EQ(r.ci_low, 2);
  EXPECT_DOUBLE_EQ(r.ci_high, 9);
  EXPECT_NEAR(r.ci_level, 1 - 22.0 / 1024, 1e-12);
}

TEST(Stats, MedianCiRanksMatchBinomialTables) {
  // Ranks from tables of the sign-test CI (e.g. Conover, Practical Nonparametric Statistics).
  EXPECT_EQ(median_ci_ranks(5).lo, 0u);  // too few: 2/32 > 0.05
  auto r6 = median_ci_ranks(6);
  EXPECT_EQ(r6.lo, 1u);
  EXPECT_EQ(r6.hi, 6u);
  EXPECT_NEAR(r6.coverage, 1 - 2.0 / 64, 1e-12);
  auto r20 = median_ci_ranks(20);
  EXPECT_EQ(r20.lo, 6u);
  EXPECT_EQ(r20.hi, 15u);
  EXPECT_NEAR(r20.coverage, 0.9586105, 1e-6);
  auto r100 = median_ci_ranks(100);
  EXPECT_EQ(r100.lo, 40u);
  EXPECT_EQ(r100.hi, 61u);
  EXPECT_GE(r100.coverage, 0.95);
  // Large n stays finite and near the normal approximation n/2 - 0.98 sqrt(n).
  auto big = median_ci_ranks(10000);
  EXPECT_NEAR(static_cast<double>(big.lo), 5000 - 0.98 * 100, 2);
  EXPECT_GE(big.coverage, 0.95);
}

TEST(Stats, OddMedianAndSingleSample) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  const Summary one = summarize({4.0});
  EXPECT_EQ(one.n, 1u);
  EXPECT_DOUBLE_EQ(one.median, 4);
  EXPECT_DOUBLE_EQ(one.stddev, 0);
  EXPECT_FALSE(one.ci_valid);
  EXPECT_EQ(summarize({}).n, 0u);
}
