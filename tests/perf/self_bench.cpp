// Benchmarks of converge's own code: statistics, harness overhead per repetition, and the
// cost of serialising a result. Run: build/tests/converge_self_bench
#include <random>

#include <benchmark/benchmark.h>

#include "core/harness.hpp"
#include "core/stats.hpp"
#include "results/run_document.hpp"

using namespace converge;

namespace {

std::vector<double> samples(std::size_t n) {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> d(0, 0.1);
  std::vector<double> s(n);
  for (auto& x : s) x = d(rng);
  return s;
}

void BM_Summarize(benchmark::State& state) {
  const auto s = samples(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(core::summarize(s));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_Summarize)->RangeMultiplier(10)->Range(10, 100000)->Complexity();

// should_stop runs after every repetition: its cost bounds the shortest useful repetition.
void BM_ShouldStop(benchmark::State& state) {
  const auto s = samples(static_cast<std::size_t>(state.range(0)));
  core::RepetitionPolicy p;
  p.max_reps = 1 << 30;
  for (auto _ : state) benchmark::DoNotOptimize(core::should_stop(p, s, 1.0));
}
BENCHMARK(BM_ShouldStop)->Arg(10)->Arg(100)->Arg(1000);

void BM_ResultToJson(benchmark::State& state) {
  core::Result r;
  r.benchmark = "micro.stream.triad";
  r.samples_s = samples(static_cast<std::size_t>(state.range(0)));
  r.time = core::summarize(r.samples_s);
  for (auto _ : state) benchmark::DoNotOptimize(results::to_json(r).dump());
}
BENCHMARK(BM_ResultToJson)->Arg(10)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
