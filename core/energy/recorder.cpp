#include "core/energy/recorder.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "core/timer.hpp"

namespace converge::core::energy {

struct Recorder::Shared {
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  double cpu_s = 0;  // the sampler thread's own CPU time
};

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

bool in_total(const std::string& domain) {
  return domain.rfind("package-", 0) == 0 || domain.rfind("dram-", 0) == 0 || domain.rfind("gpu-", 0) == 0;
}

}  // namespace

double integrate_power(const std::vector<double>& t, const std::vector<double>& w) {
  double e = 0;
  for (std::size_t i = 1; i < t.size() && i < w.size(); ++i) e += 0.5 * (w[i] + w[i - 1]) * (t[i] - t[i - 1]);
  return e;
}

std::vector<std::string> clock_flags(const std::map<std::string, double>& after, double fraction) {
  std::vector<std::string> out;
  if (fraction <= 0) return out;
  const std::string suffix = ".sm_clock_mhz";
  for (const auto& [key, mhz] : after) {
    if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string device = key.substr(0, key.size() - suffix.size());
    auto max = after.find(device + ".sm_clock_max_mhz");
    if (max == after.end() || !(max->second > 0) || mhz >= fraction * max->second) continue;
    out.push_back(fmt::format("{} clock {:.0f} MHz at the end, below {:.0f}% of its {:.0f} MHz maximum", device, mhz,
                              100 * fraction, max->second));
  }
  return out;
}

Recorder::Recorder(const RecorderOptions& options)
    : period_s_(options.sample_period_s), min_clock_fraction_(options.min_clock_fraction), shared_(new Shared) {
  std::vector<std::string> names;
  if (options.meters == "auto") {
    names = {"rapl", "nvml"};
  } else if (options.meters != "none" && !options.meters.empty()) {
    std::stringstream ss(options.meters);
    for (std::string n; std::getline(ss, n, ',');)
      if (!n.empty()) names.push_back(n);
  }
  for (const auto& n : names) {
    auto m = open_meter(n);
    if (m) meters_.push_back(std::move(*m));
    else unavailable_.push_back(n + ": " + m.error());
  }
  if (options.meters == "none") unavailable_.push_back("no energy meter configured (energy: none)");
}

Recorder::Recorder(std::vector<std::unique_ptr<Meter>> meters, std::vector<std::string> unavailable, double period,
                   double min_clock_fraction)
    : meters_(std::move(meters)),
      unavailable_(std::move(unavailable)),
      period_s_(period),
      min_clock_fraction_(min_clock_fraction),
      shared_(new Shared) {}

Recorder::~Recorder() {
  if (sampler_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(shared_->m);
      shared_->stop = true;
    }
    shared_->cv.notify_all();
    sampler_.join();
  }
}

std::string Recorder::unavailable_reason() const {
  if (active()) return "";
  if (unavailable_.empty()) return "no energy meter configured";
  return fmt::format("{}", fmt::join(unavailable_, "; "));
}

double Recorder::slowest_update_period_s() const {
  double p = 0;
  for (const auto& m : meters_) p = std::max(p, m->update_period_s());
  return p;
}

void Recorder::sample_all(double now, bool all) {
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    auto& s = series_[i];
    if (!s.error.empty()) continue;
    // Between the ends, a coarse meter (a sensor updated every 0.5 s or slower: IPMI) is read at
    // twice its update rate, not at the sampling rate: faster only repeats its values, and each
    // IPMI read costs a process.
    const double update = meters_[i]->update_period_s();
    if (!all && !s.t.empty() && update >= 0.5 && now - s.t.back() < std::max(period_s_, 0.5 * update)) continue;
    auto r = meters_[i]->read();
    if (!r) {
      s.error = r.error();
      continue;
    }
    s.t.push_back(now);
    s.v.push_back(std::move(*r));
  }
}

void Recorder::sampler_loop() {
  const double cpu0 = thread_cpu_seconds();
  std::unique_lock<std::mutex> lock(shared_->m);
  while (!shared_->stop) {
    shared_->cv.wait_for(lock, std::chrono::duration<double>(period_s_));
    if (shared_->stop) break;
    lock.unlock();
    sample_all(monotonic_seconds(), false);
    lock.lock();
  }
  shared_->cpu_s = thread_cpu_seconds() - cpu0;
}

void Recorder::measure_idle(double seconds) {
  if (!active() || seconds <= 0) return;
  start();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const EnergyResult e = stop();
  idle_.clear();
  for (const auto& d : e.domains) idle_[d.meter + "/" + d.domain] = d.avg_watts;
}

void Recorder::start() {
  series_.assign(meters_.size(), Series{});
  telemetry_before_.clear();
  for (auto& m : meters_) telemetry_before_.push_back(m->telemetry());
  shared_->stop = false;
  shared_->cpu_s = 0;
  t0_ = monotonic_seconds();
  sample_all(t0_, true);
  if (active()) sampler_ = std::thread([this] { sampler_loop(); });
}

EnergyResult Recorder::stop() {
  const double t1 = monotonic_seconds();
  if (sampler_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(shared_->m);
      shared_->stop = true;
    }
    shared_->cv.notify_all();
    sampler_.join();
  }
  sample_all(t1, true);
  EnergyResult out;
  const double region = t1 - t0_;
  std::vector<std::string> problems = unavailable_;
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    auto& meter = *meters_[i];
    const auto& s = series_[i];
    const auto after = meter.telemetry();
    for (const auto& [k, v] : telemetry_before_[i]) out.telemetry_before[k] = v;
    for (const auto& [k, v] : after) out.telemetry_after[k] = v;
    for (auto& f : meter.flags(telemetry_before_[i], after)) out.flags.push_back(std::move(f));
    for (auto& f : clock_flags(after, min_clock_fraction_)) out.flags.push_back(std::move(f));
    if (!s.error.empty() || s.t.size() < 2) {
      problems.push_back(meter.name() + ": " + (s.error.empty() ? "fewer than two readings" : s.error));
      continue;
    }
    const auto names = meter.domains();
    for (std::size_t d = 0; d < names.size(); ++d) {
      DomainEnergy e;
      e.meter = meter.name();
      e.domain = names[d];
      e.region_s = region;
      e.readings = static_cast<int>(s.t.size());
      e.resolution = meter.resolution();
      e.update_period_s = meter.update_period_s();
      e.covered_s = s.t.back() - s.t.front();
      if (meter.counts_energy()) {
        e.method = "counter";
        e.joules = s.v.back()[d] - s.v.front()[d];
        e.level = 3;
      } else {
        e.method = "power";
        std::vector<double> w;
        for (const auto& v : s.v) w.push_back(v[d]);
        e.joules = integrate_power(s.t, w);
        // Level 1: averaged at 1 Hz or faster over the whole region (Level 2 below, with idle power).
        const double interval = e.readings > 1 ? e.covered_s / (e.readings - 1) : INFINITY;
        e.level = interval <= 1.0 && e.covered_s >= 0.99 * region ? 1 : 0;
      }
      e.avg_watts = region > 0 ? e.joules / region : 0;
      e.low_confidence = region < 10 * e.update_period_s;
      if (auto it = idle_.find(e.meter + "/" + e.domain); it != idle_.end()) {
        e.idle_watts = it->second;
        if (e.level == 1 && e.readings >= 10) e.level = 2;  // idle power and at least 10 readings
      }
      out.domains.push_back(e);
    }
  }
  const bool node = std::any_of(out.domains.begin(), out.domains.end(), [](const auto& e) { return e.domain == "node"; });
  for (const auto& e : out.domains) {
    if (node ? e.domain != "node" : !in_total(e.domain)) continue;
    out.joules += e.joules;
    out.low_confidence = out.low_confidence || e.low_confidence;
    parts.push_back(e.domain);
  }
  out.total_of = fmt::format("{}", fmt::join(parts, "+"));
  if (!idle_.empty()) {
    double idle = 0;
    bool all = true;
    for (const auto& e : out.domains)
      if (std::find(parts.begin(), parts.end(), e.domain) != parts.end()) {
        all = all && std::isfinite(e.idle_watts);
        idle += e.idle_watts;
      }
    if (all && !parts.empty()) {
      out.idle_watts = idle;
      out.dynamic_joules = out.joules - idle * region;
    }
  }
  out.avg_watts = region > 0 ? out.joules / region : 0;
  out.measured = !parts.empty();
  out.reason = fmt::format("{}", fmt::join(problems, "; "));
  if (!out.measured && out.reason.empty()) out.reason = "no energy meter configured";
  out.sampler_cpu_fraction = region > 0 ? shared_->cpu_s / region : 0;
  return out;
}

}  // namespace converge::core::energy
