#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "core/energy/recorder.hpp"
#include "core/group.hpp"
#include "core/harness.hpp"

using namespace converge::core;

TEST(RepetitionPolicy, StopsOnlyAfterMinRepsAndMinTime) {
  RepetitionPolicy p;
  p.min_reps = 10;
  p.min_time_s = 1.0;
  p.ci_target = 0.02;
  p.max_reps = 100;
  p.budget_s = 60;
  std::vector<double> s(9, 0.2);
  EXPECT_EQ(should_stop(p, s, 2.0), "");  // 9 < min_reps
  s.push_back(0.2);
  EXPECT_EQ(should_stop(p, s, 2.0), "ci_target");  // identical samples: CI width 0
  std::vector<double> short_samples(10, 0.01);   // 0.1 s timed < min_time
  EXPECT_EQ(should_stop(p, short_samples, 0.2), "");
}

TEST(RepetitionPolicy, NoisySamplesContinueUntilMaxRepsOrBudget) {
  RepetitionPolicy p;
  p.min_reps = 5;
  p.min_time_s = 0;
  p.ci_target = 0.01;
  p.max_reps = 12;
  p.budget_s = 100;
  std::vector<double> s;
  for (int i = 0; i < 11; ++i) s.push_back(i % 2 ? 1.0 : 2.0);  // CI spans 1..2
  EXPECT_EQ(should_stop(p, s, 5), "");
  s.push_back(1.0);
  EXPECT_EQ(should_stop(p, s, 5), "max_reps");
  s.pop_back();
  EXPECT_EQ(should_stop(p, s, 100), "budget");
}

namespace {

struct Behaviour {
  bool skip = false, throw_in_setup = false, throw_in_run = false, wrong = false;
  int throw_at = 0;  ///< throw on this call of run() (1-based), 0: never
  bool agreed = false;  ///< throw_at throws GroupFailure (every rank agreed on it) instead
  int sleep_us = 0;  ///< each repetition lasts at least this long
};

class Counting : public Benchmark {
 public:
  explicit Counting(Behaviour b) : b_(b) {}
  SetupStatus setup(ParamValues& p, const Context&) override {
    if (b_.skip) return SetupStatus::skip("no such device");
    if (b_.throw_in_setup) throw std::runtime_error("allocation refused");
    if (p.is_auto("n")) p.resolve("n", "64");
    n_ = p.integer("n");
    return SetupStatus::ok();
  }
  void run() override {
    if (b_.throw_in_run) throw std::runtime_error("kernel exploded");
    if (++runs_ == b_.throw_at) {
      if (b_.agreed) throw GroupFailure("rank 1: ENOSPC: No space left on device: writing f.1 at offset 0");
      throw std::runtime_error("kernel exploded in a timed repetition");
    }
    if (b_.sleep_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(b_.sleep_us));
  }
  Verification verify() override {
    if (b_.wrong) return Verification::failed("count", "element 3: 1 != 2", 1, 0);
    return Verification::passed("count", 0, 0);
  }
  WorkModel work() const override { return {2.0 * n_, 8.0 * n_, 1.0 * n_}; }
  std::optional<Peak> peak(const std::string& metric, const Context&) const override {
    if (metric != "flop_rate") return std::nullopt;
    return Peak{1e12, "FLOP/s", "model", "test"};
  }
  std::map<std::string, std::string> notes() const override { return {{"runs", std::to_string(runs_)}}; }

 private:
  Behaviour b_;
  std::int64_t n_ = 0;
  int runs_ = 0;
};

BenchmarkSpec spec(Behaviour b) {
  BenchmarkSpec s;
  s.id = "test.harness.counting";
  s.family = "test";
  s.backend = "cpu";
  s.params = {{"n", ParamType::integer, "auto", "elements", {}, 1, {}}};
  s.metrics = {{"flop_rate", "FLOP/s", MetricKind::rate, Quantity::flops, Direction::higher_is_better},
               {"time_per_item", "s", MetricKind::time_per_item, Quantity::items, Direction::lower_is_better}};
  s.make = [b] { return std::make_unique<Counting>(b); };
  return s;
}

RepetitionPolicy fast_policy() {
  RepetitionPolicy p;
  p.warmup = 3;
  p.min_reps = 7;
  p.max_reps = 7;
  p.min_time_s = 0;
  p.budget_s = 10;
  return p;
}

}  // namespace

TEST(Harness, RunsWarmupAndTimedRepetitionsAndResolvesAuto) {
  Context ctx;
  const Result r = run_instance(spec({}), {}, fast_policy(), ctx);
  ASSERT_EQ(r.status, Status::ok) << r.reason;
  EXPECT_EQ(r.warmup_reps, 3);
  EXPECT_EQ(r.samples_s.size(), 7u);
  EXPECT_EQ(r.notes.at("runs"), "10");  // 3 warm-up + 7 timed, and notes read after the loop
  EXPECT_EQ(r.params.at("n"), "64");
  EXPECT_EQ(r.stop_reason, "max_reps");
  EXPECT_EQ(r.verification.status, VerifyStatus::passed);
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_DOUBLE_EQ(r.metrics[0].value, 128 / r.time.median);
  EXPECT_DOUBLE_EQ(r.metrics[0].best, 128 / r.time.min);
  ASSERT_TRUE(r.metrics[0].fraction_of_peak.has_value());
  EXPECT_DOUBLE_EQ(*r.metrics[0].fraction_of_peak, r.metrics[0].value / 1e12);
  EXPECT_DOUBLE_EQ(r.metrics[1].value, r.time.median / 64);
  EXPECT_FALSE(r.metrics[1].fraction_of_peak.has_value());
}

TEST(Harness, FailedVerificationIsInvalidWithoutFigures) {
  Behaviour b;
  b.wrong = true;
  const Result r = run_instance(spec(b), {}, fast_policy(), Context{});
  EXPECT_EQ(r.status, Status::invalid);
  EXPECT_NE(r.reason.find("element 3"), std::string::npos);
  EXPECT_TRUE(r.metrics.empty());
  EXPECT_EQ(r.samples_s.size(), 7u);  // raw samples kept for diagnosis
}

TEST(Harness, SkipsFailuresAndBadParameters) {
  Behaviour skip;
  skip.skip = true;
  auto r = run_instance(spec(skip), {}, fast_policy(), Context{});
  EXPECT_EQ(r.status, Status::skipped);
  EXPECT_EQ(r.reason, "no such device");

  Behaviour boom;
  boom.throw_in_setup = true;
  r = run_instance(spec(boom), {}, fast_policy(), Context{});
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.reason, "setup: allocation refused");

  Behaviour run_boom;
  run_boom.throw_in_run = true;
  r = run_instance(spec(run_boom), {}, fast_policy(), Context{});
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.reason, "warm-up: kernel exploded");

  r = run_instance(spec({}), {{"n", "0"}}, fast_policy(), Context{});
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_NE(r.reason.find("parameter 'n'"), std::string::npos);
}

namespace {
// Rank 0 of a two-rank group whose other rank behaves exactly like it: every collective step
// returns this rank's own values. abort() throws, so a test sees that it was called.
class EchoGroup final : public Group {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void barrier() override {}
  void max(std::vector<double>&) override {}
  void sum(std::vector<double>& v) override {
    for (double& x : v) x *= 2;
  }
  int broadcast(int value) override { return value; }
  std::string first_message(const std::string& m) override { return m.empty() ? "" : "rank 0: " + m; }
  [[noreturn]] void abort(int) override { throw std::logic_error("abort called"); }
};
}  // namespace

TEST(Harness, AFailureEveryRankAgreedOnIsAnOrdinaryResultAndOneRanksIsARankFailure) {
  EchoGroup group;
  Context ctx;
  ctx.group = &group;
  Behaviour agreed;
  agreed.throw_at = 5;  // the second timed repetition
  agreed.agreed = true;
  const Result r = run_instance(spec(agreed), {}, fast_policy(), ctx);
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.reason, "timed repetitions: rank 1: ENOSPC: No space left on device: writing f.1 at offset 0");

  Behaviour alone;  // one rank's own exception: the others may be waiting for it
  alone.throw_at = 5;
  EXPECT_THROW(run_instance(spec(alone), {}, fast_policy(), ctx), RankFailure);
}

TEST(Harness, MetricCiMapsThroughTheFormula) {
  Summary t;
  t.median = 2;
  t.min = 1;
  t.ci_valid = true;
  t.ci_low = 1.5;
  t.ci_high = 4;
  Counting bench({});
  const WorkModel w{8, 0, 2};
  auto m = compute_metrics(spec({}), bench, t, w, Context{});
  EXPECT_DOUBLE_EQ(m[0].value, 4);
  EXPECT_DOUBLE_EQ(m[0].ci_low, 2);  // the slow time bound gives the low rate
  EXPECT_DOUBLE_EQ(m[0].ci_high, 8.0 / 1.5);
  EXPECT_DOUBLE_EQ(m[1].value, 1);  // 2 s / 2 items
  EXPECT_DOUBLE_EQ(m[1].ci_low, 0.75);
  EXPECT_DOUBLE_EQ(m[1].ci_high, 2);
}

namespace {

// A power meter whose sensor updates every 50 ms: 100 W flat.
class FlatPower : public energy::Meter {
 public:
  std::string name() const override { return "flat"; }
  std::vector<std::string> domains() const override { return {"package-0"}; }
  bool counts_energy() const override { return false; }
  double resolution() const override { return 1; }
  double update_period_s() const override { return 0.05; }
  Expected<std::vector<double>> read() override { return std::vector<double>{100.0}; }
};

}  // namespace

TEST(Harness, MeasuresTheTimedRegionsEnergyForTenSensorUpdatesAndDerivesEfficiency) {
  std::vector<std::unique_ptr<energy::Meter>> meters;
  meters.push_back(std::make_unique<FlatPower>());
  energy::Recorder rec(std::move(meters), {}, 0.01);
  Context ctx;
  ctx.energy = &rec;
  RepetitionPolicy p = fast_policy();
  p.max_reps = 100000;  // the min time (10 updates = 0.5 s) decides, not the count
  p.ci_target = 1;
  Behaviour slow;
  slow.sleep_us = 2000;
  const Result r = run_instance(spec(slow), {}, p, ctx);
  ASSERT_EQ(r.status, Status::ok) << r.reason;
  ASSERT_TRUE(r.energy.measured) << r.energy.reason;
  double timed = 0;
  for (double s : r.samples_s) timed += s;
  EXPECT_GE(timed, 0.5);
  EXPECT_GE(r.energy.domains[0].region_s, 0.5);
  EXPECT_FALSE(r.energy.low_confidence);
  EXPECT_NEAR(r.energy.avg_watts, 100, 1);
  EXPECT_NEAR(r.energy.joules_per_rep, r.energy.joules / static_cast<double>(r.samples_s.size()), 1e-12);
  ASSERT_EQ(r.energy.efficiency.size(), 1u);  // the rate metric, not the time-per-item one
  EXPECT_EQ(r.energy.efficiency[0].metric, "flop_rate_per_watt");
  EXPECT_EQ(r.energy.efficiency[0].unit, "FLOP/s/W");
  EXPECT_NEAR(r.energy.efficiency[0].value, r.metrics[0].value / r.energy.avg_watts, 1e-6 * r.metrics[0].value);
}

TEST(Harness, WithoutARecorderEnergyIsNotMeasuredWithTheReason) {
  Context ctx;
  ctx.energy_reason = "not measured by this rank: local rank 0 on n1 reads the node's meters";
  const Result r = run_instance(spec({}), {}, fast_policy(), ctx);
  EXPECT_FALSE(r.energy.measured);
  EXPECT_EQ(r.energy.reason, ctx.energy_reason);
  EXPECT_EQ(run_instance(spec({}), {}, fast_policy(), Context{}).energy.reason, "no energy meter configured");
}

TEST(Harness, ARepetitionThatThrowsStopsTheSampler) {
  std::vector<std::unique_ptr<energy::Meter>> meters;
  meters.push_back(std::make_unique<FlatPower>());
  energy::Recorder rec(std::move(meters), {}, 0.01);
  Context ctx;
  ctx.energy = &rec;
  Behaviour b;
  b.throw_at = 5;  // after 3 warm-up repetitions: inside the measured region
  const Result r = run_instance(spec(b), {}, fast_policy(), ctx);
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_NE(r.reason.find("timed repetitions: kernel exploded in a timed repetition"), std::string::npos) << r.reason;
  // The recorder can measure again: its sampler thread was stopped and joined.
  const Result again = run_instance(spec({}), {}, fast_policy(), ctx);
  EXPECT_EQ(again.status, Status::ok) << again.reason;
  EXPECT_TRUE(again.energy.measured);
}
