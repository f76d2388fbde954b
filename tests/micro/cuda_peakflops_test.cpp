// Host side of micro.gpu_peakflops.* and micro.gpu_launch.* (micro/cuda/peakflops_kernels.hpp):
// the half/bf16 rounding against independent implementations, the recurrence's fixed points,
// the work model, auto iterations, the SM clock from block timestamps, and the output checks
// against a host simulation of the kernel written independently of the reference, including
// that corrupted, unwritten or mis-ordered outputs fail.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <map>
#include <vector>

#include "micro/cuda/peakflops_kernels.hpp"

namespace converge::micro::cuda::gpu_fma {
namespace {

constexpr Precision kAll[] = {Precision::fp64, Precision::fp32, Precision::fp16, Precision::bf16};

std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
// float -> bf16, round to nearest even, the usual bit trick (finite inputs).
std::uint16_t bf16_from_float(float f) {
  const std::uint32_t u = float_bits(f);
  return std::uint16_t((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}
std::uint16_t half_from_gcc(double x) {
  const _Float16 h = static_cast<_Float16>(x);  // GCC's conversion rounds to nearest even
  std::uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

TEST(GpuFmaRounding, HalfKnownValues) {
  EXPECT_EQ(to_half_bits(1.0), 0x3C00);
  EXPECT_EQ(to_half_bits(-2.0), 0xC000);
  EXPECT_EQ(to_half_bits(0.1), 0x2E66);
  EXPECT_EQ(to_half_bits(65504.0), 0x7BFF);
  EXPECT_EQ(to_half_bits(65520.0), 0x7C00);  // the tie above the largest finite rounds to infinity
  EXPECT_EQ(to_half_bits(1 + std::ldexp(1, -11)), 0x3C00);      // tie: to even (down)
  EXPECT_EQ(to_half_bits(1 + 3 * std::ldexp(1, -11)), 0x3C02);  // tie: to even (up)
  EXPECT_EQ(to_half_bits(1 + std::ldexp(1, -11) + std::ldexp(1, -30)), 0x3C01);  // above the tie
  EXPECT_EQ(to_half_bits(std::ldexp(1, -24)), 0x0001);      // smallest subnormal
  EXPECT_EQ(to_half_bits(std::ldexp(1, -25)), 0x0000);      // tie with 0: to even
  EXPECT_EQ(to_half_bits(3 * std::ldexp(1, -25)), 0x0002);  // subnormal tie: to even (up)
  EXPECT_EQ(to_half_bits(std::ldexp(1023, -24) + std::ldexp(1, -25)), 0x0400);  // carries into the normals
  EXPECT_EQ(to_half_bits(-0.0), 0x8000);
  EXPECT_EQ(half_value(0x3555), 0.25 * (1 + 0x155 / 1024.0));
}

TEST(GpuFmaRounding, Bf16KnownValues) {
  EXPECT_EQ(to_bf16_bits(1.0), 0x3F80);
  EXPECT_EQ(to_bf16_bits(3.14159265358979), 0x4049);
  EXPECT_EQ(to_bf16_bits(0.1), 0x3DCD);
  EXPECT_EQ(to_bf16_bits(1 + std::ldexp(1, -8)), 0x3F80);      // tie: to even (down)
  EXPECT_EQ(to_bf16_bits(1 + 3 * std::ldexp(1, -8)), 0x3F82);  // tie: to even (up)
  EXPECT_EQ(to_bf16_bits(-1.5), 0xBFC0);
  EXPECT_EQ(to_bf16_bits(1e39), 0x7F80);
  EXPECT_EQ(bf16_value(0x3F81), 1 + 1.0 / 128);
}

// Every finite pattern decodes to a value that encodes back to itself, in both formats.
TEST(GpuFmaRounding, EveryPatternRoundTrips) {
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    if ((b & 0x7C00) != 0x7C00) {
      ASSERT_EQ(to_half_bits(half_value(std::uint16_t(b))), b) << std::hex << b;
    }
    if ((b & 0x7F80) != 0x7F80) {
      ASSERT_EQ(to_bf16_bits(bf16_value(std::uint16_t(b))), b) << std::hex << b;
    }
  }
}

// Against independent roundings: GCC's double -> _Float16, and float -> bf16 by the bit trick
// (on doubles exact in float, so that one rounding is compared with one rounding).
TEST(GpuFmaRounding, MatchesIndependentImplementations) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> mant(1, 2);
  std::uniform_int_distribution<int> ex(-30, 17);
  for (int i = 0; i < 200000; ++i) {
    const double x = (i % 2 ? -1 : 1) * std::ldexp(mant(rng), ex(rng));
    ASSERT_EQ(to_half_bits(x), half_from_gcc(x)) << x;
    const float f = float(x);
    ASSERT_EQ(to_bf16_bits(double(f)), bf16_from_float(f)) << f;
  }
}

// The step is fused (one rounding) in every precision: x*x - round(x*x) survives.
TEST(GpuFmaRecurrence, StepIsFused) {
  const auto check = [](Precision p, int bits) {
    const double x = 1 + std::ldexp(1, -bits), c = -(1 + std::ldexp(1, 1 - bits));
    EXPECT_EQ(fma_step(p, x, x, c), std::ldexp(1, -2 * bits)) << info(p).name;
  };
  check(Precision::fp64, 27);
  check(Precision::fp32, 12);
  check(Precision::fp16, 6);
  check(Precision::bf16, 4);
}

constexpr int kMaxSteps = 600;

// Every lane of every precision reaches a fixed point from every initial value within the
// steps the reference allows for, within the stall bound ulp/(2(1 - b)) of 1 + lane/64, and
// the lanes' end points are all different (a mixed-up lane shows); no initial value is a result.
TEST(GpuFmaRecurrence, EveryLaneReachesItsOwnFixedPoint) {
  for (const Precision p : kAll) {
    const int lanes = kChains * info(p).lanes;
    const int bits = p == Precision::fp64 ? 53 : p == Precision::fp32 ? 24 : p == Precision::fp16 ? 11 : 8;
    const double stall = std::ldexp(1, 1 - bits) / (2 * (1 - op_b(p)));  // ulp in [1, 2) / (2(1 - b))
    std::map<double, int> owner;
    int max_steps = 0;
    for (int lane = 0; lane < lanes; ++lane) {
      ASSERT_EQ(round_to(p, op_c(p, lane)), op_c(p, lane));
      for (int v = 0; v < 128; ++v) {
        const double x0 = initial_value(std::uint64_t(v), 0, 1);
        ASSERT_EQ(round_to(p, x0), x0);
        int steps = 0;
        for (double x = x0; fma_step(p, x, op_b(p), op_c(p, lane)) != x; x = fma_step(p, x, op_b(p), op_c(p, lane)))
          ++steps;
        EXPECT_LE(steps, kMaxSteps) << info(p).name;
        max_steps = std::max(max_steps, steps);
        const double r = reference(p, x0, lane, 1000);
        EXPECT_EQ(fma_step(p, r, op_b(p), op_c(p, lane)), r);
        EXPECT_LE(std::fabs(r - (1 + lane / 64.0)), stall) << info(p).name << " lane " << lane;
        EXPECT_GT(r, x0);
        const auto [it, inserted] = owner.emplace(r, lane);
        EXPECT_TRUE(inserted || it->second == lane) << info(p).name << ": lanes " << it->second << " and " << lane
                                                    << " both end at " << r;
      }
    }
    EXPECT_GT(max_steps, 0);
  }
  EXPECT_EQ(round_to(Precision::fp16, op_b(Precision::fp16)), op_b(Precision::fp16));
  // Before the fixed point the value depends on the iteration count (a wrong count shows).
  EXPECT_NE(reference(Precision::fp64, 0.5, 3, 8), reference(Precision::fp64, 0.5, 3, 16));
  EXPECT_NE(reference(Precision::bf16, 0.5, 3, 2), reference(Precision::bf16, 0.5, 3, 4));
}

TEST(GpuFmaWorkModel, FlopsAndItems) {
  const auto w64 = work(Precision::fp64, 16, 1000, 270336);
  EXPECT_DOUBLE_EQ(w64.flops, 2.0 * 16 * 1000 * 270336);
  EXPECT_DOUBLE_EQ(w64.items, 16.0 * 1000 * 270336);
  EXPECT_DOUBLE_EQ(w64.bytes, 0);
  EXPECT_DOUBLE_EQ(work(Precision::fp32, 16, 1000, 270336).flops, w64.flops);
  const auto w16 = work(Precision::fp16, 16, 1000, 270336);  // half2: 2 FMA = 4 FLOP per instruction
  EXPECT_DOUBLE_EQ(w16.flops, 4.0 * 16 * 1000 * 270336);
  EXPECT_DOUBLE_EQ(w16.items, w64.items);
  EXPECT_DOUBLE_EQ(work(Precision::bf16, 16, 1000, 270336).flops, w16.flops);
}

TEST(GpuFmaWorkModel, AutoIterations) {
  // H100 SXM fp64: 132 SMs x 128 FLOP/clock x 1980 MHz; 132 x 8 blocks of 256 threads.
  const double peak = 132 * 128 * 1980e6, per_iteration = 2.0 * 16 * 132 * 8 * 256;
  const std::uint64_t it = auto_iterations(peak, per_iteration, 0.02);
  EXPECT_EQ(it, 77344u);  // 0.02 x 3.345e13 / 8650752 = 77342.6, rounded up to a multiple of 8
  EXPECT_EQ(it % kUnroll, 0u);
  EXPECT_NEAR(double(it) * per_iteration / peak, 0.02, 0.02 * 1e-3);
  EXPECT_EQ(auto_iterations(1, 1e9, 0.02), std::uint64_t(kUnroll));
  EXPECT_EQ(round_iterations(1), 8u);
  EXPECT_EQ(round_iterations(8), 8u);
  EXPECT_EQ(round_iterations(9), 16u);
}

TEST(GpuFmaClock, EffectiveClockFromBlockTimestamps) {
  // 1.8e7 cycles in 1e7 ns and 3.6e7 cycles in 2e7 ns: 1800 MHz.
  std::vector<BlockTimes> t = {{100, 100 + 18000000, 1000, 1000 + 10000000, 0, 0}, {5, 5 + 36000000, 0, 20000000, 1, 0}};
  EXPECT_DOUBLE_EQ(effective_clock_mhz(t), 1800);
  t.push_back({0, 0, 0, 0, 2, 0});  // a block that never stamped is left out
  EXPECT_DOUBLE_EQ(effective_clock_mhz(t), 1800);
  EXPECT_EQ(effective_clock_mhz({}), 0);
  EXPECT_EQ(grid_text(264, 256, 2), "264 blocks x 256 threads, 2 blocks/SM");
}

// The kernel simulated on the host without the reference's code: the full iteration count, the
// device's layout, and the step in another arithmetic (fp16/bf16: the exact sum in float, then
// GCC's conversion or the bf16 bit trick).
std::vector<unsigned char> simulate(Precision p, std::uint64_t threads, std::uint64_t iterations) {
  const int L = info(p).lanes;
  const std::size_t elem = p == Precision::fp64 ? 8 : 4;
  std::vector<unsigned char> out(kChains * threads * elem);
  for (std::uint64_t t = 0; t < threads; ++t)
    for (int k = 0; k < kChains; ++k) {
      std::uint64_t word = 0;
      for (int h = 0; h < L; ++h) {
        const int lane = k * L + h;
        double x = initial_value(t, lane, kChains * L);
        for (std::uint64_t i = 0; i < iterations; ++i) {
          if (p == Precision::fp64) x = std::fma(x, 15.0 / 16, (1 + lane / 64.0) / 16);
          else if (p == Precision::fp32) x = std::fmaf(float(x), 15.0f / 16, (1 + lane / 64.0f) / 16);
          else if (p == Precision::fp16) x = double(static_cast<_Float16>(float(x) * (15.0f / 16) + (1 + lane / 64.0f) / 16));
          else x = bf16_value(bf16_from_float(float(x) * 0.5f + (1 + lane / 64.0f) / 2));  // sums exact in float
        }
        word |= element_bits(p, x) << (16 * h);
      }
      std::memcpy(out.data() + (k * threads + t) * elem, &word, elem);
    }
  return out;
}

TEST(GpuFmaCheck, SimulatedKernelPassesAndCorruptionsFail) {
  const std::uint64_t threads = 2 * kBlockThreads;
  for (const Precision p : kAll) {
    for (const std::uint64_t it : {8u, 24u, 1000u}) {
      auto out = simulate(p, threads, it);
      const auto ok = check_output(p, out.data(), threads, kChains, it);
      EXPECT_EQ(ok.status, core::VerifyStatus::passed) << info(p).name << " " << it << ": " << ok.message;
      EXPECT_EQ(ok.tolerance, 0);
      // One bit of one lane: thread 300 (block 1), chain 5, the upper half where there are two.
      const std::size_t elem = p == Precision::fp64 ? 8 : 4;
      auto bad = out;
      bad[(5 * threads + 300) * elem + elem - 2] ^= 1;
      const auto v = check_output(p, bad.data(), threads, kChains, it);
      ASSERT_EQ(v.status, core::VerifyStatus::failed) << info(p).name;
      const std::string where = "thread 300 (block 1) chain 5 lane " + std::to_string(5 * info(p).lanes + info(p).lanes - 1);
      EXPECT_NE(v.message.find("1 lanes differ, first " + where), std::string::npos) << v.message;
      EXPECT_GT(v.max_error, 0);
    }
    // Unwritten output, the wrong iteration count, and two chains swapped all fail.
    std::vector<unsigned char> zero(simulate(p, threads, 8).size(), 0);
    EXPECT_EQ(check_output(p, zero.data(), threads, kChains, 8).status, core::VerifyStatus::failed);
    EXPECT_EQ(check_output(p, simulate(p, threads, 3).data(), threads, kChains, 8).status, core::VerifyStatus::failed);
    auto out = simulate(p, threads, 8);
    const std::size_t row = threads * (p == Precision::fp64 ? 8 : 4);
    std::swap_ranges(out.begin(), out.begin() + std::ptrdiff_t(row), out.begin() + std::ptrdiff_t(row));
    EXPECT_EQ(check_output(p, out.data(), threads, kChains, 8).status, core::VerifyStatus::failed);
  }
}

TEST(GpuFmaCheck, HalvesOfAPairSwappedFail) {
  const std::uint64_t threads = kBlockThreads;
  auto out = simulate(Precision::fp16, threads, 1000);
  std::uint32_t w;
  std::memcpy(&w, out.data(), 4);
  w = (w << 16) | (w >> 16);
  std::memcpy(out.data(), &w, 4);
  const auto v = check_output(Precision::fp16, out.data(), threads, kChains, 1000);
  EXPECT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_NE(v.message.find("2 lanes differ, first thread 0 (block 0) chain 0 lane 0"), std::string::npos) << v.message;
}

// An SM's span is its first start to its last end; the work of its blocks must fit the table's
// rate (with the margin) in that span.
TEST(GpuFmaCheck, CyclesBoundTheWorkPerSm) {
  // Two SMs, two blocks each, 1e6 FLOP per block, 128 FLOP/clock/SM: 2e6 / (1.1 x 128) = 14205 cycles.
  std::vector<BlockTimes> t = {{1000, 17000, 0, 8000, 0, 0}, {1500, 16500, 0, 8000, 0, 0},
                               {0, 15000, 0, 8000, 1, 0}, {10, 14300, 0, 8000, 1, 0}};
  EXPECT_EQ(check_cycles(t, 1e6, 128), "");
  // SM 1's span of 14300 cycles still fits; 14200 does not (16000 cycles at exactly 128 FLOP/clock).
  t[3].clock_end = 14200, t[2].clock_end = 14100;
  const std::string e = check_cycles(t, 1e6, 128);
  EXPECT_NE(e.find("SM 1 ran 2 blocks (2e+06 FLOP) in 14200 cycles"), std::string::npos) << e;
  // Blocks are grouped by SM: two overlapping blocks on one SM need the SM's span for both.
  std::vector<BlockTimes> staggered = {{0, 10000, 0, 5000, 3, 0}, {5000, 15000, 2500, 7500, 3, 0}};
  EXPECT_EQ(check_cycles(staggered, 1e6, 128), "");  // 15000 >= 14205
  staggered[1].clock_start = 0, staggered[1].clock_end = 10000;
  EXPECT_NE(check_cycles(staggered, 1e6, 128), "");  // 10000 < 14205
  staggered[1].sm = 4;  // on two SMs each has 10000 >= 7102
  EXPECT_EQ(check_cycles(staggered, 1e6, 128), "");
  // A coarse %globaltimer (0 ns for a short block) is no failure: the bound uses cycles.
  staggered[0].ns_start = staggered[0].ns_end = 5000;
  EXPECT_EQ(check_cycles(staggered, 1e6, 128), "");
  // A block that never stamped fails with or without a table; without one no rate is checked.
  EXPECT_EQ(check_cycles(staggered, 1e6, 0), "");
  staggered.push_back({0, 0, 0, 0, 0, 0});
  EXPECT_EQ(check_cycles(staggered, 1e6, 0), "block 2 recorded no interval (clock 0..0, ns 0..0)");
}

TEST(GpuLaunchCheck, CountMustBeRunsTimesLaunches) {
  EXPECT_EQ(check_launch_count(12000, 12, 1000).status, core::VerifyStatus::passed);
  const auto v = check_launch_count(11999, 12, 1000);
  EXPECT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_EQ(v.message, "counter 11999 != 12000 (12 run() calls x 1000 launches)");
  EXPECT_EQ(check_launch_count(0, 1, 1).status, core::VerifyStatus::failed);
}

}  // namespace
}  // namespace converge::micro::cuda::gpu_fma
