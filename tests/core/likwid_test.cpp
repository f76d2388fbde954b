// The likwid meter against whatever this machine has. There is no fake for likwid (its state and
// its access daemon live inside liblikwid), so on a machine without RAPL behind a working
// likwid-accessD, a VM without MSRs or a build without likwid, all that can be checked is that
// opening fails cleanly: it names likwid and a reason, the process survives, nothing is printed.
// Where it opens, the readings are checked against the CPU's own work.
#include "core/energy/likwid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <string>

using namespace converge::core::energy;

namespace {

bool names_likwid_and_a_reason(const std::string& error) {
  if (error == "built without likwid (Debian package likwid)") return true;
  return error.find("likwid") != std::string::npos && error.size() > 30;
}

// "package-N", "core-N", "uncore-N", "dram-N" or "psys", as rapl.cpp names powercap zones.
bool known_domain(const std::string& d) {
  if (d == "psys") return true;
  for (const std::string prefix : {"package-", "core-", "uncore-", "dram-"})
    if (d.size() > prefix.size() && d.rfind(prefix, 0) == 0)
      return d.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
  return false;
}

// About `seconds` of work on this thread, so the package counters have something to count.
double spin(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  volatile double x = 1.0;
  while (std::chrono::steady_clock::now() < end)
    for (int i = 0; i < 10000; ++i) x = x * 1.0000001 + 1e-9;
  return x;
}

}  // namespace

TEST(Likwid, ListedAmongMeters) {
  const auto names = meter_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "likwid"), names.end());
}

TEST(Likwid, OpensOrSaysWhyNot) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto m = open_meter("likwid");
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  if (!m) {
    std::cout << "likwid meter unavailable here: " << m.error() << "\n";
    EXPECT_TRUE(names_likwid_and_a_reason(m.error())) << m.error();
    // What likwid prints while failing is in the error, not on this process's streams.
    EXPECT_EQ(out, "");
    EXPECT_EQ(err, "");
    return;
  }
  auto& meter = **m;
  EXPECT_EQ(meter.name(), "likwid");
  EXPECT_TRUE(meter.counts_energy());
  EXPECT_GT(meter.resolution(), 0.0);
  EXPECT_LE(meter.resolution(), 1.0);
  EXPECT_DOUBLE_EQ(meter.update_period_s(), 0.001);
  const auto domains = meter.domains();
  ASSERT_FALSE(domains.empty());
  for (const auto& d : domains) EXPECT_TRUE(known_domain(d)) << d;
  std::cout << "likwid domains:";
  for (const auto& d : domains) std::cout << " " << d;
  std::cout << "\n";

  auto first = meter.read();
  ASSERT_TRUE(first) << first.error();
  spin(0.2);
  auto second = meter.read();
  ASSERT_TRUE(second) << second.error();
  ASSERT_EQ(first->size(), domains.size());
  ASSERT_EQ(second->size(), domains.size());
  bool package_counted = false;
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const double a = (*first)[i], b = (*second)[i];
    std::cout << domains[i] << ": " << a << " J -> " << b << " J\n";
    EXPECT_TRUE(std::isfinite(a) && std::isfinite(b)) << domains[i];
    EXPECT_GE(a, 0.0) << domains[i];
    EXPECT_GE(b, a) << domains[i];
    // 0.2 s with a busy core: a package takes well over a millijoule and under a kilojoule
    // (that would be 5 kW).
    if (domains[i].rfind("package-", 0) == 0 && b - a > 1e-3 && b - a < 1e3) package_counted = true;
  }
  const bool has_package = std::any_of(domains.begin(), domains.end(),
                                      [](const std::string& d) { return d.rfind("package-", 0) == 0; });
  if (has_package) {
    EXPECT_TRUE(package_counted) << "no package domain counted 0.2 s of work";
  }
}

// likwid's state is process-wide: a second meter is refused while one is open, and closing one
// leaves likwid ready to be set up again (every *_finalize ran); a failure repeats the same way.
TEST(Likwid, OneAtATimeAndReopens) {
  auto first = open_meter("likwid");
  const bool opened = static_cast<bool>(first);
  if (opened) {
    auto second = open_meter("likwid");
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().find("already open"), std::string::npos) << second.error();
    first.value().reset();  // closes it
  }
  auto again = open_meter("likwid");
  EXPECT_EQ(static_cast<bool>(again), opened) << (again ? "" : again.error());
  if (!again) {
    EXPECT_TRUE(names_likwid_and_a_reason(again.error())) << again.error();
  }
}
