// Change points in a history: level shifts found where they are, noise and spikes ignored.
#include "analysis/changepoint.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "tests/analysis/normal.hpp"

using namespace converge::analysis;
using converge::analysis::test_support::Normal;

namespace {

// Levels (value, count) one after the other, each value with 1% noise.
std::vector<double> series(std::uint64_t seed, const std::vector<std::pair<double, int>>& levels) {
  Normal normal(seed);
  std::vector<double> out;
  for (const auto& [level, count] : levels)
    for (int i = 0; i < count; ++i) out.push_back(normal(level, 0.01 * level));
  return out;
}

}  // namespace

TEST(ChangePoints, OneShiftFoundAtTheFirstValueOfTheNewLevel) {
  const auto s = series(1, {{100, 20}, {110, 20}});
  const auto cps = detect_change_points(s);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].index, 20u);
  EXPECT_NEAR(cps[0].before_mean, 100, 1);
  EXPECT_NEAR(cps[0].after_mean, 110, 1);
  EXPECT_DOUBLE_EQ(cps[0].p_value, 1.0 / 1000.0);  // no permutation reaches the observed split
}

TEST(ChangePoints, FlatSeriesHasNone) {
  for (std::uint64_t seed : {2, 3, 4}) EXPECT_TRUE(detect_change_points(series(seed, {{100, 40}})).empty()) << seed;
}

TEST(ChangePoints, TwoShiftsBothFoundInOrder) {
  // A regression at run 15, fixed at run 30.
  const auto s = series(5, {{100, 15}, {110, 15}, {100, 15}});
  const auto cps = detect_change_points(s);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[0].index, 15u);
  EXPECT_EQ(cps[1].index, 30u);
  EXPECT_NEAR(cps[0].before_mean, 100, 1);
  EXPECT_NEAR(cps[0].after_mean, 110, 1);
  EXPECT_NEAR(cps[1].before_mean, 110, 1);
  EXPECT_NEAR(cps[1].after_mean, 100, 1);
  // Steps in one direction too.
  const auto up = detect_change_points(series(6, {{100, 15}, {110, 15}, {120, 15}}));
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[0].index, 15u);
  EXPECT_EQ(up[1].index, 30u);
}

TEST(ChangePoints, SingleSpikeIsNotAChangePoint) {
  auto s = series(7, {{100, 40}});
  s[20] = 150;
  EXPECT_TRUE(detect_change_points(s).empty());
  s[20] = 50;
  EXPECT_TRUE(detect_change_points(s).empty());
}

TEST(ChangePoints, ShortSeriesAndBadInput) {
  EXPECT_TRUE(detect_change_points({}).empty());
  EXPECT_TRUE(detect_change_points({1, 1, 1, 2, 2}).empty());  // < 2 * min_segment
  EXPECT_TRUE(detect_change_points(std::vector<double>(10, 5.0)).empty());  // constant: p = 1
  EXPECT_THROW(detect_change_points({1, 2, std::nan(""), 4, 5, 6}), std::invalid_argument);
  EXPECT_THROW(detect_change_points({1, 2, 3, 4, 5, 6}, 0.01, 0), std::invalid_argument);
  EXPECT_THROW(detect_change_points({1, 2, 3, 4, 5, 6}, 0.01, 99, 0), std::invalid_argument);
}

TEST(ChangePoints, DeterministicForASeed) {
  const auto s = series(8, {{100, 12}, {103, 12}});
  const auto a = detect_change_points(s, 0.05, 199, 3, 11);
  const auto b = detect_change_points(s, 0.05, 199, 3, 11);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].p_value, b[i].p_value);
  }
}
