// Every micro/cpu benchmark, instantiated through the registry with tiny parameters:
// setup -> run() a few times -> verify() passes -> teardown. A benchmark that skips (fp16 and
// bf16 on CPUs without those extensions) must say why, and the test reports it skipped.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <set>

#include "core/benchmark.hpp"
#include "core/inventory.hpp"
#include "core/peak.hpp"

namespace converge {
namespace {

// The inventory and peak model of this host, collected once for all tests.
struct Host {
  core::Inventory inventory = core::collect_inventory();
  core::PeakModel peaks = core::PeakModel::from_inventory(inventory);
  core::Context context() const {
    core::Context ctx;
    ctx.inventory = &inventory;
    ctx.peaks = &peaks;
    ctx.threads = std::max(1, inventory.cpu.cores > 0 ? inventory.cpu.cores : omp_get_max_threads());
    return ctx;
  }
};
const Host& host() {
  static const Host h;
  return h;
}

// Tiny sizes: odd element counts exercise the kernels' tails.
std::map<std::string, std::string> tiny_params(const std::string& id) {
  if (id.starts_with("micro.peakflops.")) return {{"iterations", "1000"}};
  if (id.starts_with("micro.stream")) return {{"n", "4099"}};
  if (id.starts_with("micro.latency.")) return {{"size", "64KiB"}};
  if (id.starts_with("micro.cachebw.")) return {{"size", "64KiB"}, {"passes", "3"}};
  if (id.starts_with("micro.gemm.")) return {{"n", "67"}};
  return {};
}

std::vector<std::string> cpu_micro_ids() {
  std::vector<std::string> ids;
  for (const auto& spec : core::Registry::instance().all())
    if (spec.family == "micro" && spec.backend == "cpu") ids.push_back(spec.id);
  return ids;
}

TEST(MicroCpuRegistry, AllBenchmarksRegistered) {
  const std::vector<std::string> ids = cpu_micro_ids();
  const std::set<std::string> have(ids.begin(), ids.end());
  for (const char* id :
       {"micro.peakflops.fp64", "micro.peakflops.fp32", "micro.peakflops.fp16", "micro.peakflops.bf16",
        "micro.stream.copy", "micro.stream.scale", "micro.stream.add", "micro.stream.triad", "micro.stream.dot",
        "micro.stream_nt.copy", "micro.stream_nt.scale", "micro.stream_nt.add", "micro.stream_nt.triad",
        "micro.latency.chase", "micro.cachebw.read", "micro.cachebw.write", "micro.gemm.dgemm",
        "micro.gemm.sgemm"})
    EXPECT_TRUE(have.count(id)) << id;
  EXPECT_EQ(ids.size(), 18u);
}

TEST(MicroCpuRegistry, SpecsAreComplete) {
  for (const auto& id : cpu_micro_ids()) {
    const core::BenchmarkSpec* spec = core::Registry::instance().find(id);
    ASSERT_NE(spec, nullptr);
    EXPECT_FALSE(spec->summary.empty()) << id;
    ASSERT_FALSE(spec->metrics.empty()) << id;
    for (const auto& p : spec->params) EXPECT_FALSE(p.doc.empty()) << id << " " << p.name;
    EXPECT_TRUE(spec->make) << id;
  }
}

class MicroCpuBenchmark : public ::testing::TestWithParam<std::string> {};

TEST_P(MicroCpuBenchmark, SetupRunVerifyTeardown) {
  const core::BenchmarkSpec* spec = core::Registry::instance().find(GetParam());
  ASSERT_NE(spec, nullptr);
  auto params = core::ParamValues::make(spec->params, tiny_params(spec->id));
  ASSERT_TRUE(params.ok()) << params.error();
  const core::Context ctx = host().context();

  std::unique_ptr<core::Benchmark> bench = spec->make();
  const core::SetupStatus setup = bench->setup(*params, ctx);
  if (setup.kind == core::SetupStatus::Kind::skipped) {
    EXPECT_FALSE(setup.reason.empty()) << "a skip must say why";
    GTEST_SKIP() << setup.reason;
  }
  ASSERT_EQ(setup.kind, core::SetupStatus::Kind::ok) << setup.reason;
  for (const auto& [name, value] : params->all()) EXPECT_NE(value, "auto") << name << " left unresolved";

  for (int rep = 0; rep < 3; ++rep) bench->run();
  const core::Verification v = bench->verify();
  EXPECT_EQ(v.status, core::VerifyStatus::passed) << v.method << ": " << v.message;
  EXPECT_FALSE(v.method.empty());

  const core::WorkModel w = bench->work();
  const core::Quantity q = spec->metrics.front().quantity;
  const double primary = q == core::Quantity::flops ? w.flops : q == core::Quantity::bytes ? w.bytes : w.items;
  EXPECT_GT(primary, 0) << "the primary metric's quantity must be counted";
  EXPECT_FALSE(bench->notes().empty());
  bench->teardown();
}

// The checks are not vacuous: without a repetition, outputs still hold their initial values
// (chosen to differ from the results), and verify() must fail and say where. The chase is
// exempt: before any repetition it rightly sits at its start.
TEST_P(MicroCpuBenchmark, VerifyFailsWithoutRun) {
  const core::BenchmarkSpec* spec = core::Registry::instance().find(GetParam());
  ASSERT_NE(spec, nullptr);
  if (spec->id == "micro.latency.chase") GTEST_SKIP() << "no output to leave unwritten";
  auto params = core::ParamValues::make(spec->params, tiny_params(spec->id));
  ASSERT_TRUE(params.ok()) << params.error();
  std::unique_ptr<core::Benchmark> bench = spec->make();
  const core::SetupStatus setup = bench->setup(*params, host().context());
  if (setup.kind != core::SetupStatus::Kind::ok) GTEST_SKIP() << setup.reason;
  const core::Verification v = bench->verify();
  EXPECT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_FALSE(v.message.empty());
  bench->teardown();
}

// A compute ceiling is the one-core peak times the cores used, never the machine's total.
class MicroCpuComputeBenchmark : public ::testing::TestWithParam<std::string> {};

TEST_P(MicroCpuComputeBenchmark, PeakIsCorePeakTimesThreads) {
  const core::BenchmarkSpec* spec = core::Registry::instance().find(GetParam());
  ASSERT_NE(spec, nullptr);
  const core::Context ctx = host().context();
  for (int threads : {1, 2}) {
    auto given = tiny_params(spec->id);
    given["threads"] = std::to_string(threads);
    auto params = core::ParamValues::make(spec->params, given);
    ASSERT_TRUE(params.ok()) << params.error();
    std::unique_ptr<core::Benchmark> bench = spec->make();
    const core::SetupStatus setup = bench->setup(*params, ctx);
    if (setup.kind != core::SetupStatus::Kind::ok) GTEST_SKIP() << setup.reason;
    const std::string precision = spec->id == "micro.gemm.dgemm"   ? "fp64"
                                  : spec->id == "micro.gemm.sgemm" ? "fp32"
                                                                   : spec->id.substr(spec->id.rfind('.') + 1);
    const auto core_peak = ctx.peaks->get("cpu." + precision + ".core");
    const auto peak = bench->peak(spec->metrics.front().name, ctx);
    if (!core_peak) {
      EXPECT_FALSE(peak.has_value());
      GTEST_SKIP() << "no cpu." << precision << ".core peak in the model";
    }
    ASSERT_TRUE(peak.has_value());
    const int cores = std::min(threads, std::max(1, ctx.inventory->cpu.cores));
    EXPECT_DOUBLE_EQ(peak->value, core_peak->value * cores) << threads << " threads";
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Registered, MicroCpuBenchmark, ::testing::ValuesIn(cpu_micro_ids()), test_name);
INSTANTIATE_TEST_SUITE_P(Registered, MicroCpuComputeBenchmark,
                         ::testing::Values("micro.peakflops.fp64", "micro.peakflops.fp32", "micro.peakflops.fp16",
                                           "micro.peakflops.bf16", "micro.gemm.dgemm", "micro.gemm.sgemm"),
                         test_name);

}  // namespace
}  // namespace converge
