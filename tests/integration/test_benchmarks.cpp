// Test-only benchmarks, linked into converge-worker-test only: a deliberately wrong kernel,
// one that crashes the worker and one that hangs. They prove that a wrong figure is reported
// invalid, and that a crash or a hang fails one instance while the run goes on.
#include <csignal>
#include <thread>
#include <vector>

#include "core/benchmark.hpp"

namespace converge::tests {

using namespace converge::core;

namespace {

// STREAM triad with one element computed wrongly, as a miscompiled or racy kernel would.
class BrokenTriad : public Benchmark {
 public:
  SetupStatus setup(ParamValues& p, const Context&) override {
    n_ = static_cast<std::size_t>(p.integer("n"));
    a_.assign(n_, 0.0);
    b_.assign(n_, 2.0);
    c_.assign(n_, 1.0);
    return SetupStatus::ok();
  }
  void run() override {
    for (std::size_t i = 0; i < n_; ++i) a_[i] = b_[i] + 3.0 * c_[i];
    a_[n_ / 2] = 0.0;  // the fault
  }
  Verification verify() override {
    for (std::size_t i = 0; i < n_; ++i)
      if (a_[i] != 5.0)
        return Verification::failed("every element exact", "element " + std::to_string(i) + ": " +
                                                                std::to_string(a_[i]) + " != 5");
    return Verification::passed("every element exact");
  }
  WorkModel work() const override { return {2.0 * n_, 24.0 * n_, 0}; }

 private:
  std::size_t n_ = 0;
  std::vector<double> a_, b_, c_;
};

class Crash : public Benchmark {
 public:
  SetupStatus setup(ParamValues&, const Context&) override { return SetupStatus::ok(); }
  void run() override { std::raise(SIGSEGV); }
  Verification verify() override { return Verification::passed("unreachable"); }
  WorkModel work() const override { return {1, 0, 0}; }
};

class Hang : public Benchmark {
 public:
  SetupStatus setup(ParamValues&, const Context&) override { return SetupStatus::ok(); }
  void run() override { std::this_thread::sleep_for(std::chrono::hours(1)); }
  Verification verify() override { return Verification::passed("unreachable"); }
  WorkModel work() const override { return {1, 0, 0}; }
};

MetricSpec bandwidth() {
  return {"bandwidth", "B/s", MetricKind::rate, Quantity::bytes, Direction::higher_is_better};
}

template <typename T>
BenchmarkSpec spec(std::string id, std::string summary, std::vector<ParamSpec> params = {}) {
  return {std::move(id), "test", "cpu", std::move(summary), std::move(params), {bandwidth()},
          [] { return std::make_unique<T>(); }};
}

CONVERGE_REGISTER_BENCHMARK(broken_triad,
                            spec<BrokenTriad>("test.broken.triad", "triad with one wrong element",
                                              {{"n", ParamType::integer, "1024", "elements", {}, 2, {}}}));
CONVERGE_REGISTER_BENCHMARK(crash, spec<Crash>("test.crash.segv", "raises SIGSEGV in its first repetition"));
CONVERGE_REGISTER_BENCHMARK(hang, spec<Hang>("test.hang.sleep", "never finishes a repetition"));

}  // namespace
}  // namespace converge::tests
