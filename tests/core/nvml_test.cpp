// The NVML meter against a fake libnvidia-ml (tests/core/fake_nvml.c, loaded with dlopen like
// the real one and driven by a state file rewritten between reads): energy from the counter,
// power without it, power samples integrated by the recorder, telemetry and its flags, and
// the reasons it cannot be used.
#include "core/energy/nvml.hpp"

#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/energy/recorder.hpp"

#ifndef CONVERGE_FAKE_NVML
#error "CONVERGE_FAKE_NVML: the fake NVML library's path, set by tests/CMakeLists.txt"
#endif

namespace converge::core::energy {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The fake's state file, named in $FAKE_NVML_STATE for as long as this lives.
class FakeState {
 public:
  explicit FakeState(const std::string& text) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fmt::format("{}/converge-fake-nvml-{}-{}.txt", ::testing::TempDir(), ::getpid(), test->name());
    ::setenv("FAKE_NVML_STATE", path_.c_str(), 1);
    write(text);
  }
  ~FakeState() {
    std::remove(path_.c_str());
    ::unsetenv("FAKE_NVML_STATE");
  }
  void write(const std::string& text) const { std::ofstream(path_, std::ios::trunc) << text << "\n"; }

 private:
  std::string path_;
};

// The fake's test hook: NVML initialisations not yet shut down. Holding the library open here
// keeps its counters alive between the meter's dlopen and dlclose.
class FakeHooks {
 public:
  FakeHooks() : handle_(dlopen(CONVERGE_FAKE_NVML, RTLD_NOW | RTLD_LOCAL)) {}
  ~FakeHooks() {
    if (handle_) dlclose(handle_);
  }
  int active() const {
    auto fn = reinterpret_cast<int (*)()>(dlsym(handle_, "fake_nvml_active"));
    return fn ? fn() : -1;
  }

 private:
  void* handle_;
};

std::unique_ptr<Meter> open_fake() {
  auto m = open_nvml({CONVERGE_FAKE_NVML});
  if (!m) ADD_FAILURE() << m.error();
  return m ? std::move(*m) : nullptr;
}

double clock_monotonic() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

TEST(Nvml, EnergyFromTheCounterInJoules) {
  FakeState state("gpus=2 energy_mj=1000000,2000000");
  auto m = open_fake();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name(), "nvml");
  EXPECT_EQ(m->domains(), (std::vector<std::string>{"gpu-0", "gpu-1"}));
  EXPECT_TRUE(m->counts_energy());
  EXPECT_DOUBLE_EQ(m->resolution(), 1e-3);
  EXPECT_DOUBLE_EQ(m->update_period_s(), 0.1);
  auto a = m->read();
  ASSERT_TRUE(a) << a.error();
  EXPECT_DOUBLE_EQ((*a)[0], 1000.0);
  EXPECT_DOUBLE_EQ((*a)[1], 2000.0);
  state.write("gpus=2 energy_mj=1250500,2000001");
  auto b = m->read();
  ASSERT_TRUE(b) << b.error();
  EXPECT_NEAR((*b)[0] - (*a)[0], 250.5, 1e-9);
  EXPECT_NEAR((*b)[1] - (*a)[1], 0.001, 1e-9);
}

TEST(Nvml, PowerInWattsWithoutTheCounter) {
  FakeState state("energy_mj=- power_mw=123456");
  auto m = open_fake();
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->counts_energy());
  EXPECT_DOUBLE_EQ(m->resolution(), 1e-3);
  auto r = m->read();
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_DOUBLE_EQ((*r)[0], 123.456);
}

TEST(Nvml, OneGpuWithoutTheCounterMeansPowerForAll) {
  FakeState state("gpus=2 energy_mj=5000,- power_mw=200000,300000");
  auto m = open_fake();
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->counts_energy());
  auto r = m->read();
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, (std::vector<double>{200.0, 300.0}));
}

TEST(Nvml, ReadErrorNamesTheGpu) {
  FakeState state("gpus=2 energy_mj=1000");
  auto m = open_fake();
  ASSERT_TRUE(m);
  state.write("gpus=2 energy_mj=1000,-");
  auto r = m->read();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "gpu-1: nvmlDeviceGetTotalEnergyConsumption: Not Supported");
}

TEST(Nvml, EnergyFromIntegratedPowerSamplesWithinOnePercent) {
  // A GPU without the counter whose power steps from 100 W to 300 W 0.4 s after clock0; the
  // recorder samples it at 100 Hz for about 1.6 s and integrates.
  const double clock0 = clock_monotonic();
  FakeState state(fmt::format("energy_mj=- power_mw=100000 power_after_mw=300000 power_step_s=0.4 clock0={:.9f}",
                              clock0));
  auto m = open_fake();
  ASSERT_TRUE(m);
  ASSERT_FALSE(m->counts_energy());
  std::vector<std::unique_ptr<Meter>> meters;
  meters.push_back(std::move(m));
  Recorder rec(std::move(meters), {}, 0.01);
  const double started = clock_monotonic() - clock0;
  rec.start();
  std::this_thread::sleep_until(std::chrono::steady_clock::now() +
                                std::chrono::duration<double>(1.6 - (clock_monotonic() - clock0)));
  const auto e = rec.stop();
  ASSERT_TRUE(e.measured) << e.reason;
  ASSERT_EQ(e.domains.size(), 1u);
  const auto& d = e.domains[0];
  EXPECT_EQ(d.meter, "nvml");
  EXPECT_EQ(d.domain, "gpu-0");
  EXPECT_EQ(d.method, "power");
  ASSERT_GT(started, 0.0);
  ASSERT_LT(started, 0.4) << "the step must fall inside the region";
  const double expected = 100 * (0.4 - started) + 300 * (started + d.region_s - 0.4);
  EXPECT_NEAR(d.joules, expected, 0.01 * expected) << "region " << d.region_s << " s from " << started << " s";
  RecordProperty("relative_error", std::to_string(d.joules / expected - 1));
  EXPECT_EQ(e.total_of, "gpu-0");
  EXPECT_FALSE(d.low_confidence);  // 1.6 s is over 10 NVML updates
}

TEST(Nvml, TelemetryPerGpu) {
  FakeState state("gpus=2 sm_mhz=1980,1755 mem_mhz=2619 temp_c=41,55 throttle=0x1 ecc=3,- retired=2,- remapped=-,7");
  auto m = open_fake();
  ASSERT_TRUE(m);
  const auto t = m->telemetry();
  const std::map<std::string, double> expected = {
      {"gpu-0.sm_clock_mhz", 1980}, {"gpu-0.sm_clock_max_mhz", 1980}, {"gpu-0.mem_clock_mhz", 2619}, {"gpu-0.temperature_c", 41},
      {"gpu-0.throttle_reasons", 1}, {"gpu-0.ecc_uncorrected", 3}, {"gpu-0.retired_pages", 4},  // both causes
      {"gpu-1.sm_clock_mhz", 1755}, {"gpu-1.sm_clock_max_mhz", 1980}, {"gpu-1.mem_clock_mhz", 2619}, {"gpu-1.temperature_c", 55},
      {"gpu-1.throttle_reasons", 1}, {"gpu-1.remapped_rows", 7},  // no ECC count, no retirement: left out
  };
  EXPECT_EQ(t, expected);
}

TEST(Nvml, ThrottleFlaggedInWords) {
  FakeState state("throttle=0x0");
  auto m = open_fake();
  ASSERT_TRUE(m);
  const auto before = m->telemetry();
  state.write("throttle=0x4");
  EXPECT_EQ(m->flags(before, m->telemetry()), std::vector<std::string>{"gpu-0 throttled: power cap"});
  state.write("throttle=0xe8");  // HwSlowdown, SwThermal, HwThermal, HwPowerBrake
  EXPECT_EQ(m->flags(before, m->telemetry()),
            std::vector<std::string>{"gpu-0 throttled: hardware slowdown, thermal, power brake"});
  state.write("throttle=0x103");  // idle, application clocks, display clock: chosen, not flagged
  EXPECT_TRUE(m->flags(before, m->telemetry()).empty());
}

TEST(Nvml, NewEccErrorsAndRetiredPagesFlagged) {
  FakeState state("gpus=2 ecc=3 retired=1 remapped=0");
  auto m = open_fake();
  ASSERT_TRUE(m);
  const auto before = m->telemetry();
  EXPECT_TRUE(m->flags(before, before).empty());
  state.write("gpus=2 ecc=3,5 retired=1,2 remapped=0,1");
  EXPECT_EQ(m->flags(before, m->telemetry()), (std::vector<std::string>{
                                                  "gpu-1 ECC uncorrected errors rose from 3 to 5",
                                                  "gpu-1 retired pages rose from 2 to 4",
                                                  "gpu-1 remapped rows rose from 0 to 1",
                                              }));
}

TEST(Nvml, LibraryNotFound) {
  auto m = open_nvml({"/nonexistent/libnvidia-ml.so.1"});
  ASSERT_FALSE(m);
  EXPECT_TRUE(contains(m.error(), "NVML not found: cannot load /nonexistent/libnvidia-ml.so.1 (")) << m.error();
  EXPECT_TRUE(contains(m.error(), "No such file")) << m.error();
}

TEST(Nvml, LibraryFromTheEnvironment) {
  FakeState state("gpus=3");
  ::setenv("CONVERGE_NVML_LIBRARY", CONVERGE_FAKE_NVML, 1);
  auto m = open_nvml();
  ::unsetenv("CONVERGE_NVML_LIBRARY");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ((*m)->domains().size(), 3u);
}

TEST(Nvml, NotAnNvmlLibraryNamesTheMissingSymbol) {
  auto m = open_nvml({"libm.so.6"});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), "NVML: libm.so.6 has no nvmlInit_v2 (not an NVML library, or too old)");
}

TEST(Nvml, InitFailureGivesNvmlsOwnString) {
  FakeHooks hooks;
  FakeState state("init_rc=9");
  auto m = open_nvml({CONVERGE_FAKE_NVML});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), "NVML: Driver Not Loaded");
  EXPECT_EQ(hooks.active(), 0);
}

TEST(Nvml, ZeroGpus) {
  FakeHooks hooks;
  FakeState state("gpus=0");
  auto m = open_nvml({CONVERGE_FAKE_NVML});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), "NVML: no GPU visible");
  EXPECT_EQ(hooks.active(), 0) << "shut down again after a failed open";
}

TEST(Nvml, GpusThisProcessMayNotOpenAreLeftOut) {
  FakeState state("gpus=3 handle_rc=4,0,4");
  auto m = open_fake();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->domains(), std::vector<std::string>{"gpu-1"});
  state.write("gpus=2 handle_rc=4");
  auto none = open_nvml({CONVERGE_FAKE_NVML});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), "NVML: no GPU visible (2 GPUs, none accessible: Insufficient Permissions)");
}

TEST(Nvml, ShutsDownWhenDestroyed) {
  FakeHooks hooks;
  FakeState state("gpus=1");
  {
    auto m = open_fake();
    ASSERT_TRUE(m);
    EXPECT_EQ(hooks.active(), 1);
  }
  EXPECT_EQ(hooks.active(), 0);
}

TEST(Nvml, ThroughOpenMeter) {
  FakeState state("gpus=1");
  ::setenv("CONVERGE_NVML_LIBRARY", CONVERGE_FAKE_NVML, 1);
  auto m = open_meter("nvml");
  ::unsetenv("CONVERGE_NVML_LIBRARY");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ((*m)->name(), "nvml");
}


TEST(Nvml, DeviceFactsForTheInventory) {
  FakeHooks hooks;
  FakeState state("gpus=2 sm_mhz=345,1755 mem_mhz=2619 power_limit_mw=700000,350000 ecc_mode=1,0");
  auto f = nvml_device_facts("GPU-fake-1", {CONVERGE_FAKE_NVML});
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->sm_mhz, 1755);
  EXPECT_EQ(f->mem_mhz, 2619);
  EXPECT_DOUBLE_EQ(f->power_limit_w, 350);
  EXPECT_EQ(f->ecc, "off");
  EXPECT_EQ(f->driver_version, "999.1.2");
  EXPECT_EQ(hooks.active(), 0);  // shut down again
}

TEST(Nvml, DeviceFactsUnknownUuidAndUnsupportedFigures) {
  FakeHooks hooks;
  FakeState state("gpus=1 ecc_mode=- power_limit_mw=-");
  auto missing = nvml_device_facts("GPU-fake-7", {CONVERGE_FAKE_NVML});
  ASSERT_FALSE(missing);
  EXPECT_TRUE(contains(missing.error(), "nvmlDeviceGetHandleByUUID(GPU-fake-7)")) << missing.error();
  auto f = nvml_device_facts("GPU-fake-0", {CONVERGE_FAKE_NVML});
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->ecc, "");
  EXPECT_EQ(f->power_limit_w, 0);
  EXPECT_EQ(hooks.active(), 0);
  EXPECT_FALSE(nvml_device_facts("GPU-fake-0", {"/nonexistent/libnvidia-ml.so.1"}));
}

}  // namespace
}  // namespace converge::core::energy
