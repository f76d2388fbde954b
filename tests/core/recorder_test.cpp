// The energy recorder with in-process fake meters: counters, integrated power, totals, the
// quality flags, reasons when nothing is measured, the sampler's own cost, and the harness
// measuring the timed region (long enough for 10 sensor updates).
#include "core/energy/recorder.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "core/harness.hpp"
#include "core/timer.hpp"

namespace converge::core::energy {
namespace {

// Counts joules at a constant power per domain, from the clock.
class FakeCounter : public Meter {
 public:
  FakeCounter(std::vector<std::string> domains, std::vector<double> watts)
      : domains_(std::move(domains)), watts_(std::move(watts)), t0_(monotonic_seconds()) {}
  std::string name() const override { return "fakecounter"; }
  std::vector<std::string> domains() const override { return domains_; }
  bool counts_energy() const override { return true; }
  double resolution() const override { return 1e-6; }
  double update_period_s() const override { return 0.001; }
  Expected<std::vector<double>> read() override {
    const double t = monotonic_seconds() - t0_;
    std::vector<double> out;
    for (double w : watts_) out.push_back(w * t);
    return out;
  }

 private:
  std::vector<std::string> domains_;
  std::vector<double> watts_;
  double t0_;
};

// Power that steps from 100 W to 300 W at a given time after construction.
class FakePower : public Meter {
 public:
  FakePower(double step_at_s, double period_s) : step_at_(step_at_s), period_(period_s), t0_(monotonic_seconds()) {}
  std::string name() const override { return "fakepower"; }
  std::vector<std::string> domains() const override { return {"node"}; }
  bool counts_energy() const override { return false; }
  double resolution() const override { return 1; }
  double update_period_s() const override { return period_; }
  Expected<std::vector<double>> read() override {
    return std::vector<double>{monotonic_seconds() - t0_ < step_at_ ? 100.0 : 300.0};
  }
  std::map<std::string, double> telemetry() override { return {{"node.calls", ++calls_}}; }
  std::vector<std::string> flags(const std::map<std::string, double>& before,
                                 const std::map<std::string, double>& after) const override {
    if (after.at("node.calls") > before.at("node.calls")) return {"node: telemetry moved"};
    return {};
  }

 private:
  double step_at_, period_, t0_;
  double calls_ = 0;
};

class Broken : public Meter {
 public:
  std::string name() const override { return "broken"; }
  std::vector<std::string> domains() const override { return {"package-0"}; }
  bool counts_energy() const override { return true; }
  double resolution() const override { return 1e-6; }
  double update_period_s() const override { return 0.001; }
  Expected<std::vector<double>> read() override { return make_error("package-0: energy_uj vanished"); }
};

std::vector<std::unique_ptr<Meter>> meters_of(std::unique_ptr<Meter> a, std::unique_ptr<Meter> b = nullptr) {
  std::vector<std::unique_ptr<Meter>> v;
  v.push_back(std::move(a));
  if (b) v.push_back(std::move(b));
  return v;
}

void busy_for(double seconds) {
  const double end = monotonic_seconds() + seconds;
  while (monotonic_seconds() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST(Recorder, CountersGiveEnergyAndTheTotalSumsPackagesDramAndGpus) {
  Recorder rec(meters_of(std::make_unique<FakeCounter>(
                   std::vector<std::string>{"package-0", "dram-0", "core-0", "package-1", "psys"},
                   std::vector<double>{50, 10, 30, 40, 500})),
               {}, 0.02);
  rec.start();
  busy_for(0.3);
  const auto e = rec.stop();
  ASSERT_TRUE(e.measured) << e.reason;
  ASSERT_EQ(e.domains.size(), 5u);
  const double region = e.domains[0].region_s;
  EXPECT_NEAR(e.domains[0].joules, 50 * region, 50 * region * 0.01);
  EXPECT_EQ(e.domains[0].method, "counter");
  EXPECT_EQ(e.domains[0].level, 3);
  EXPECT_GE(e.domains[0].readings, 5);  // the sampler read in between
  EXPECT_EQ(e.total_of, "package-0+dram-0+package-1");  // core and psys overlap the packages
  EXPECT_NEAR(e.joules, 100 * region, 100 * region * 0.01);
  EXPECT_NEAR(e.avg_watts, 100, 1);
  EXPECT_FALSE(e.low_confidence);
}

TEST(Recorder, PowerSamplesIntegrateToTheKnownAnswerWithinOnePercent) {
  // 100 W for the first 0.5 s, 300 W after: over 1.0 s, 200 J (the step is sampled at 100 Hz).
  auto power = std::make_unique<FakePower>(0.5, 0.01);
  Recorder rec(meters_of(std::move(power)), {}, 0.01);
  rec.start();
  busy_for(1.0);
  const auto e = rec.stop();
  ASSERT_TRUE(e.measured) << e.reason;
  const double region = e.domains[0].region_s;
  const double expected = 100 * 0.5 + 300 * (region - 0.5);
  EXPECT_NEAR(e.joules, expected, expected * 0.01) << "region " << region;
  EXPECT_EQ(e.total_of, "node");
  EXPECT_EQ(e.domains[0].method, "power");
  EXPECT_EQ(e.domains[0].level, 1);  // at 1 Hz or faster over the whole region
  EXPECT_NEAR(e.domains[0].covered_s, region, 1e-9);
  EXPECT_EQ(e.flags, std::vector<std::string>{"node: telemetry moved"});
  EXPECT_EQ(e.telemetry_before.at("node.calls"), 1);
  EXPECT_EQ(e.telemetry_after.at("node.calls"), 2);
}

TEST(Recorder, ShortRegionAgainstASlowSensorIsLowConfidence) {
  Recorder rec(meters_of(std::make_unique<FakePower>(100, 1.0)), {}, 0.05);
  EXPECT_DOUBLE_EQ(rec.slowest_update_period_s(), 1.0);
  rec.start();
  busy_for(0.2);
  const auto e = rec.stop();
  ASSERT_TRUE(e.measured);
  EXPECT_TRUE(e.low_confidence);
  EXPECT_TRUE(e.domains[0].low_confidence);
}

TEST(Recorder, NothingReadableIsNotMeasuredWithEveryReason) {
  Recorder none({}, {"rapl: no powercap directory /x", "nvml: NVML not found: cannot load libnvidia-ml.so.1"});
  EXPECT_FALSE(none.active());
  EXPECT_EQ(none.unavailable_reason(),
            "rapl: no powercap directory /x; nvml: NVML not found: cannot load libnvidia-ml.so.1");
  Recorder broken(meters_of(std::make_unique<Broken>()), {"nvml: no GPU"}, 0.01);
  broken.start();
  busy_for(0.05);
  const auto e = broken.stop();
  EXPECT_FALSE(e.measured);
  EXPECT_EQ(e.reason, "nvml: no GPU; broken: package-0: energy_uj vanished");
  EXPECT_TRUE(e.domains.empty());
}

TEST(Recorder, AutoOnThisMachineSaysWhyForEachMeter) {
  Recorder rec(RecorderOptions{"auto"});
  if (rec.active()) GTEST_SKIP() << "this machine has a readable meter";
  const std::string why = rec.unavailable_reason();
  EXPECT_NE(why.find("rapl: "), std::string::npos) << why;
  EXPECT_NE(why.find("nvml: "), std::string::npos) << why;
  Recorder off(RecorderOptions{"none"});
  EXPECT_EQ(off.unavailable_reason(), "no energy meter configured (energy: none)");
  Recorder unknown(RecorderOptions{"rapl,bogus"});
  EXPECT_NE(unknown.unavailable_reason().find("bogus: no energy meter 'bogus' in this build"), std::string::npos);
}

TEST(Recorder, TheSamplerCostsUnderOnePercentOfACoreAtTheDefaultRate) {
  Recorder rec(meters_of(std::make_unique<FakeCounter>(std::vector<std::string>{"package-0"}, std::vector<double>{1}),
                         std::make_unique<FakePower>(100, 0.1)),
               {}, RecorderOptions{}.sample_period_s);
  rec.start();
  busy_for(1.0);
  const auto e = rec.stop();
  EXPECT_LT(e.sampler_cpu_fraction, 0.01);
  RecordProperty("sampler_cpu_fraction", std::to_string(e.sampler_cpu_fraction));
  std::printf("sampler CPU time per second of region at 10 Hz with two meters: %.2e s\n", e.sampler_cpu_fraction);
}

TEST(Recorder, IntegratePowerIsTheTrapezoidRule) {
  EXPECT_DOUBLE_EQ(integrate_power({0, 1, 3}, {10, 20, 20}), 15 + 40);
  EXPECT_DOUBLE_EQ(integrate_power({0}, {10}), 0);
}

}  // namespace
}  // namespace converge::core::energy

namespace converge::core::energy {
namespace {

TEST(Recorder, IdleBaselineGivesDynamicEnergyAndLevelTwo) {
  // 100 W while idle (the first 0.3 s), 300 W during the region.
  Recorder rec(meters_of(std::make_unique<FakePower>(0.3, 0.01)), {}, 0.01);
  rec.measure_idle(0.25);
  ASSERT_TRUE(rec.has_idle());
  busy_for(0.1);
  rec.start();
  busy_for(0.5);
  const auto e = rec.stop();
  ASSERT_TRUE(e.measured);
  EXPECT_NEAR(e.domains[0].idle_watts, 100, 1);
  EXPECT_EQ(e.domains[0].level, 2);
  EXPECT_NEAR(e.idle_watts, 100, 1);
  const double region = e.domains[0].region_s;
  EXPECT_NEAR(e.dynamic_joules, 200 * region, 200 * region * 0.02);
  Recorder none(meters_of(std::make_unique<FakePower>(0.3, 0.01)), {}, 0.01);
  none.start();
  busy_for(0.05);
  EXPECT_TRUE(std::isnan(none.stop().dynamic_joules));
}

}  // namespace
}  // namespace converge::core::energy

namespace converge::core::energy {
namespace {

TEST(Recorder, ClockBelowTheConfiguredFractionOfMaximumIsFlagged) {
  const std::map<std::string, double> t = {{"gpu-0.sm_clock_mhz", 1410}, {"gpu-0.sm_clock_max_mhz", 1980},
                                           {"gpu-1.sm_clock_mhz", 1980}, {"gpu-1.sm_clock_max_mhz", 1980}};
  EXPECT_EQ(clock_flags(t, 0.9),
            std::vector<std::string>{"gpu-0 clock 1410 MHz at the end, below 90% of its 1980 MHz maximum"});
  EXPECT_TRUE(clock_flags(t, 0.7).empty());
  EXPECT_TRUE(clock_flags(t, 0).empty());  // off
}

}  // namespace
}  // namespace converge::core::energy
