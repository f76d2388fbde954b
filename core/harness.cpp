#include "core/harness.hpp"

#include "core/energy/recorder.hpp"
#include "core/group.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include <fmt/format.h>

namespace converge::core {

std::string should_stop(const RepetitionPolicy& policy, const std::vector<double>& samples,
                        double wall_elapsed_s) {
  const int reps = static_cast<int>(samples.size());
  if (reps >= policy.max_reps) return "max_reps";
  // The budget bounds the wall time; it wins over min_reps so a slow instance cannot run away.
  if (wall_elapsed_s >= policy.budget_s && reps >= 1) return "budget";
  if (reps < policy.min_reps) return "";
  double timed = 0;
  for (double s : samples) timed += s;
  if (timed < policy.min_time_s) return "";
  const Summary s = summarize(samples);
  if (s.ci_valid && s.median > 0 && (s.ci_high - s.ci_low) / s.median <= policy.ci_target)
    return "ci_target";
  return "";
}

namespace {

double quantity_of(const WorkModel& w, Quantity q) {
  switch (q) {
    case Quantity::flops: return w.flops;
    case Quantity::bytes: return w.bytes;
    case Quantity::items: return w.items;
    case Quantity::bus_bytes: return w.bus_bytes;
  }
  return 0;
}

// One formula for value, best and CI bounds: a metric is a monotonic function of time, so the
// median (and its CI) of the metric is the metric of the median time (and of its CI bounds).
double metric_from_time(const MetricSpec& m, double amount, double seconds) {
  if (m.kind == MetricKind::rate) return seconds > 0 ? amount / seconds : NAN;
  return amount > 0 ? seconds / amount : NAN;
}

}  // namespace

std::vector<MetricResult> compute_metrics(const BenchmarkSpec& spec, const Benchmark& bench,
                                          const Summary& time, const WorkModel& work,
                                          const Context& ctx) {
  std::vector<MetricResult> out;
  for (const auto& m : spec.metrics) {
    MetricResult r;
    r.spec = m;
    const double amount = quantity_of(work, m.quantity);
    r.value = metric_from_time(m, amount, time.median);
    r.best = metric_from_time(m, amount, time.min);
    r.ci_valid = time.ci_valid;
    if (time.ci_valid) {
      const double a = metric_from_time(m, amount, time.ci_low);
      const double b = metric_from_time(m, amount, time.ci_high);
      r.ci_low = std::min(a, b);
      r.ci_high = std::max(a, b);
    }
    r.peak = bench.peak(m.name, ctx);
    if (r.peak && r.peak->value > 0 && std::isfinite(r.value))
      r.fraction_of_peak = r.value / r.peak->value;
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

// Repetitions the harness may add so that an energy region spans 10 sensor updates.
constexpr int kEnergyMaxReps = 100000;

// Efficiency from the node's energy: each rate metric per watt, energy per repetition.
void add_efficiency(Result& r) {
  auto& e = r.energy;
  if (!e.measured || !(e.avg_watts > 0) || r.samples_s.empty()) return;
  e.joules_per_rep = e.joules / static_cast<double>(r.samples_s.size());
  for (const auto& m : r.metrics)
    if (m.spec.kind == MetricKind::rate && std::isfinite(m.value))
      e.efficiency.push_back({m.spec.name + "_per_watt", m.spec.unit + "/W", m.value / e.avg_watts});
}

constexpr const char* kStopReasons[] = {"", "ci_target", "max_reps", "budget"};
int stop_code(const std::string& reason) {
  for (int i = 1; i < 4; ++i)
    if (reason == kStopReasons[i]) return i;
  return 0;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

Result run_instance(const BenchmarkSpec& spec, const std::map<std::string, std::string>& given,
                    const RepetitionPolicy& policy, const Context& ctx, const ProgressFn& progress) {
  Result r;
  r.benchmark = spec.id;
  r.family = spec.family;
  r.backend = spec.backend;
  r.policy = policy;
  r.started_at = utc_timestamp();
  r.energy.reason = ctx.energy == nullptr ? (ctx.energy_reason.empty() ? "no energy meter configured" : ctx.energy_reason)
                                          : ctx.energy->unavailable_reason();
  bool energy_running = false;
  const double t_begin = monotonic_seconds();
  auto finish = [&](Status status, std::string reason) {
    r.status = status;
    r.reason = std::move(reason);
    r.finished_at = utc_timestamp();
    r.wall_s = monotonic_seconds() - t_begin;
    return r;
  };

  auto params = ParamValues::make(spec.params, given);
  if (!params) return finish(Status::failed, params.error());
  r.params = params->all();
  // Several ranks: every collective step below is taken by all of them, in the same order.
  Group* group = ctx.group != nullptr && ctx.group->size() > 1 ? ctx.group : nullptr;

  std::unique_ptr<Benchmark> bench;
  std::string phase = "setup";
  try {
    bench = spec.make();
    SetupStatus st;
    if (group == nullptr) {
      st = bench->setup(*params, ctx);
    } else {
      try {  // one rank's failure must reach the others, not leave them waiting
        st = bench->setup(*params, ctx);
      } catch (const std::exception& e) {
        st = SetupStatus::fail(e.what());
      }
      const std::string mine = st.kind == SetupStatus::Kind::ok ? "" : (st.kind == SetupStatus::Kind::skipped ? "S" : "F") + st.reason;
      std::string agreed = group->first_message(mine);
      if (!agreed.empty() && mine.empty()) bench->teardown();
      if (!agreed.empty()) {
        // "rank R: S<reason>": the kind is the first letter after the prefix.
        const auto at = agreed.find(": ") == std::string::npos ? 0 : agreed.find(": ") + 2;
        const char kind = agreed[at];
        agreed.erase(at, 1);
        st = kind == 'S' ? SetupStatus::skip(agreed) : SetupStatus::fail(agreed);
      }
    }
    r.params = params->all();  // with "auto" values resolved
    r.notes = bench->notes();
    if (st.kind == SetupStatus::Kind::skipped) return finish(Status::skipped, st.reason);
    if (st.kind == SetupStatus::Kind::failed) {
      bench->teardown();
      return finish(Status::failed, "setup: " + st.reason);
    }
    r.work = bench->work();
    auto timer = bench->make_timer();
    r.timer = timer->name();
    r.timer_resolution_s = timer->resolution_s();

    phase = "warm-up";
    const double loop_begin = monotonic_seconds();
    for (int i = 0; i < policy.warmup; ++i) {
      bench->before_repetition();
      if (group) group->barrier();
      bench->run();
      ++r.warmup_reps;
      const bool over = monotonic_seconds() - loop_begin >= policy.budget_s;
      if (group ? group->broadcast(over) != 0 : over) break;
    }
    phase = "timed repetitions";
    // Energy over the timed region, all repetitions: long enough for 10 updates of the
    // slowest sensor when the budget allows (else the figure says low_confidence).
    RepetitionPolicy loop_policy = policy;
    if (ctx.energy != nullptr && ctx.energy->active()) {
      loop_policy.min_time_s = std::max(loop_policy.min_time_s, 10 * ctx.energy->slowest_update_period_s());
      loop_policy.max_reps = std::max(loop_policy.max_reps, kEnergyMaxReps);
      ctx.energy->start();
      energy_running = true;
    }
    std::vector<double> rank_min, rank_avg;
    while (true) {
      bench->before_repetition();
      if (group) group->barrier();  // every rank starts the region together
      timer->start();
      bench->run();
      double t = timer->stop();
      if (group) {  // the repetition took as long as its slowest rank
        std::vector<double> extremes = {t, -t}, total = {t};
        group->max(extremes);
        group->sum(total);
        t = extremes[0];
        rank_min.push_back(-extremes[1]);
        rank_avg.push_back(total[0] / group->size());
      }
      r.samples_s.push_back(t);
      bench->after_repetition(static_cast<int>(r.samples_s.size()));
      const double elapsed = monotonic_seconds() - loop_begin;
      if (progress) progress(static_cast<int>(r.samples_s.size()), elapsed);
      r.stop_reason = should_stop(loop_policy, r.samples_s, elapsed);
      if (group) r.stop_reason = kStopReasons[group->broadcast(stop_code(r.stop_reason))];  // rank 0 decides
      if (!r.stop_reason.empty()) break;
    }
    if (group) {
      r.ranks.count = group->size();
      r.ranks.reduction = "max";
      r.ranks.min_s = median_of(rank_min);
      r.ranks.avg_s = median_of(rank_avg);
      r.ranks.max_s = median_of(r.samples_s);
    }
    if (energy_running) r.energy = ctx.energy->stop(), energy_running = false;
    r.time = summarize(r.samples_s);

    phase = "verification";
    r.verification = bench->verify();
    if (group) {  // one rank's wrong output makes the result invalid, naming that rank
      const bool failed = r.verification.status == VerifyStatus::failed;
      const std::string bad = group->first_message(
          failed ? (r.verification.message.empty() ? r.verification.method : r.verification.message) : "");
      if (!bad.empty()) {
        r.verification.status = VerifyStatus::failed;
        r.verification.message = bad;
      }
    }
    r.notes = bench->notes();
    phase = "teardown";
    bench->teardown();
  } catch (const std::exception& e) {
    if (energy_running) ctx.energy->stop();  // the sampler thread must not outlive the region
    if (bench && phase != "teardown") {
      try { bench->teardown(); } catch (...) {}
    }
    // Every rank threw it together: nobody waits, an ordinary failed result.
    if (dynamic_cast<const GroupFailure*>(&e) != nullptr) return finish(Status::failed, fmt::format("{}: {}", phase, e.what()));
    // With several ranks the others may be waiting in a collective step: the caller records
    // this rank's failure and aborts the whole group (RankFailure).
    if (group) throw RankFailure(fmt::format("{}: {}", phase, e.what()));
    return finish(Status::failed, fmt::format("{}: {}", phase, e.what()));
  } catch (...) {
    if (energy_running) ctx.energy->stop();
    return finish(Status::failed, fmt::format("{}: unknown exception", phase));
  }

  // An unverified figure is never reported: invalid results keep their raw samples for
  // diagnosis but get no metrics.
  if (r.verification.status == VerifyStatus::failed)
    return finish(Status::invalid, "verification failed: " +
                                       (r.verification.message.empty() ? r.verification.method
                                                                       : r.verification.message));
  r.metrics = compute_metrics(spec, *bench, r.time, r.work, ctx);
  add_efficiency(r);
  return finish(Status::ok, "");
}

}  // namespace converge::core
