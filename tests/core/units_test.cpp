#include "core/units.hpp"

#include <gtest/gtest.h>

using namespace converge::core;

TEST(Units, Rates) {
  EXPECT_EQ(format_value(159.2e9, "FLOP/s"), "159.2 GFLOP/s");
  EXPECT_EQ(format_value(27.81e9, "B/s"), "27.81 GB/s");
  EXPECT_EQ(format_value(1.5e12, "FLOP/s"), "1.500 TFLOP/s");
  EXPECT_EQ(format_value(950, "1/s"), "950.0 /s");
  EXPECT_EQ(format_value(17780, "1/s"), "17.78 k/s");
}

TEST(Units, TimesAndBytes) {
  EXPECT_EQ(format_value(83.1e-9, "s"), "83.10 ns");
  EXPECT_EQ(format_seconds(1.25e-3), "1.250 ms");
  EXPECT_EQ(format_seconds(2), "2.000 s");
  EXPECT_EQ(format_bytes(65536), "64 KiB");
  EXPECT_EQ(format_bytes(1610612736), "1.500 GiB");
  EXPECT_EQ(format_bytes(100), "100 B");
}
