#include "core/energy/ipmi.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace converge::core::energy;

namespace {

// ipmitool 1.8.18 and older (ctime timestamp on its own line). From influxdata/telegraf issue
// #1566 (2016); note the stated period is the BMC's statistics window, days long.
const char* kIpmitool1818 = R"(
    Instantaneous power reading:                   167 Watts
    Minimum during sampling period:                124 Watts
    Maximum during sampling period:                422 Watts
    Average power reading over sample period:      156 Watts
    IPMI timestamp:                           Mon Aug  1 21:22:51 2016
    Sampling period:                          00699043 Seconds.
    Power reading state is:                   activated

)";

// ipmitool 1.8.19 (Debian 12's 1.8.19-4+deb12u2, checked against the binary's format strings):
// the numeric timestamp is printed without a newline, so "Sampling period" shares its line.
const char* kIpmitool1819 =
    "\n"
    "    Instantaneous power reading:                   195 Watts\n"
    "    Minimum during sampling period:                188 Watts\n"
    "    Maximum during sampling period:               1940 Watts\n"
    "    Average power reading over sample period:      194 Watts\n"
    "    IPMI timestamp:                           08/28/26 07:12:06 UTC"
    "    Sampling period:                          00000005 Seconds.\n"
    "    Power reading state is:                   activated\n"
    "\n";

// OpenBMC, deactivated: openbmc/openbmc issue #3257 (2018, Witherspoon, over lanplus).
const char* kOpenBmcDeactivated = R"(
    Instantaneous power reading:                   319 Watts
    Minimum during sampling period:                319 Watts
    Maximum during sampling period:                319 Watts
    Average power reading over sample period:      319 Watts
    IPMI timestamp:                           Thu Jan  1 00:00:00 1970
    Sampling period:                          00000000 Seconds.
    Power reading state is:                   deactivated

)";

// ipmitool 1.8.18's layout with a one-second window; illustrative values.
const char* kOneSecond = R"(
    Instantaneous power reading:                   220 Watts
    Minimum during sampling period:                 48 Watts
    Maximum during sampling period:                400 Watts
    Average power reading over sample period:      215 Watts
    IPMI timestamp:                           Wed Nov 25 10:00:00 2026
    Sampling period:                          00000001 Seconds.
    Power reading state is:                   activated

)";

// Another 1.8.18-era BMC: lovoo/ipmi_exporter issue #18 (2017).
const char* kLovoo = R"(
    Instantaneous power reading:                   215 Watts
    Minimum during sampling period:                162 Watts
    Maximum during sampling period:                276 Watts
    Average power reading over sample period:      176 Watts
    IPMI timestamp:                           Wed Feb 15 12:49:51 2017
    Sampling period:                          01131466 Seconds.
    Power reading state is:                   activated

)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

}  // namespace

TEST(DcmiParse, Ipmitool1818) {
  auto r = parse_dcmi_power_reading(kIpmitool1818);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->watts, 167);
  EXPECT_EQ(r->minimum, 124);
  EXPECT_EQ(r->maximum, 422);
  EXPECT_EQ(r->average, 156);
  EXPECT_EQ(r->sampling_period_s, 699043);  // leading zeros
  EXPECT_TRUE(r->active);
}

TEST(DcmiParse, Exporter2017) {
  auto r = parse_dcmi_power_reading(kLovoo);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->watts, 215);
  EXPECT_EQ(r->minimum, 162);
  EXPECT_EQ(r->sampling_period_s, 1131466);
  EXPECT_TRUE(r->active);
}

TEST(DcmiParse, Ipmitool1819TimestampSharesLineWithPeriod) {
  auto r = parse_dcmi_power_reading(kIpmitool1819);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->watts, 195);
  EXPECT_EQ(r->maximum, 1940);
  EXPECT_EQ(r->sampling_period_s, 5);
  EXPECT_TRUE(r->active);
}

TEST(DcmiParse, OneSecondPeriod) {
  auto r = parse_dcmi_power_reading(kOneSecond);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->watts, 220);
  EXPECT_EQ(r->average, 215);
  EXPECT_EQ(r->sampling_period_s, 1);
}

TEST(DcmiParse, DeactivatedIsParsedNotActive) {
  auto r = parse_dcmi_power_reading(kOpenBmcDeactivated);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->watts, 319);
  EXPECT_EQ(r->sampling_period_s, 0);
  EXPECT_FALSE(r->active);
}

TEST(DcmiParse, EnhancedSampleTime) {
  // `ipmitool dcmi power reading 15_min` prints the window by name ("%s \n").
  auto r = parse_dcmi_power_reading(replace(kOneSecond, "00000001 Seconds.", "15_min "));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->sampling_period_s, 900);
}

TEST(DcmiParse, Errors) {
  auto empty = parse_dcmi_power_reading("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), "no 'Instantaneous power reading' in ipmitool output");

  auto bad = parse_dcmi_power_reading(replace(kOneSecond, "220 Watts", "2x0 Watts"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(),
            "unparsable number in ipmitool output line "
            "'Instantaneous power reading:                   2x0 Watts'");

  auto bad_period = parse_dcmi_power_reading(replace(kOneSecond, "00000001 Seconds.", "soon"));
  ASSERT_FALSE(bad_period);
  EXPECT_NE(bad_period.error().find("'Sampling period:                          soon'"),
            std::string::npos)
      << bad_period.error();

  auto no_state = parse_dcmi_power_reading(
      replace(kOneSecond, "    Power reading state is:                   activated\n", ""));
  ASSERT_FALSE(no_state);
  EXPECT_EQ(no_state.error(), "no 'Power reading state is' in ipmitool output");

  auto odd_state = parse_dcmi_power_reading(replace(kOneSecond, "activated", "pending"));
  ASSERT_FALSE(odd_state);
  EXPECT_NE(odd_state.error().find("unknown power reading state"), std::string::npos);
}

TEST(DcmiParse, BmcErrorsAreQuoted) {
  // chk_rsp() in ipmitool's lib/ipmi_dcmi.c: "\n    DCMI request failed because: %s (%x)";
  // c1 is IPMI's "Invalid command" completion code.
  auto invalid =
      parse_dcmi_power_reading("\n    DCMI request failed because: Invalid command (c1)\n");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error(), "ipmitool: DCMI request failed because: Invalid command (c1)");
  // xen-api pull request #5561 (Dell PowerEdge R750, queried too often).
  auto busy =
      parse_dcmi_power_reading("\n    DCMI request failed because: Unspecified error (ff)\n");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error(), "ipmitool: DCMI request failed because: Unspecified error (ff)");
  // The lanplus interface (src/plugins/lanplus/lanplus.c).
  auto lan = parse_dcmi_power_reading("Error: Unable to establish IPMI v2 / RMCP+ session\n");
  ASSERT_FALSE(lan);
  EXPECT_EQ(lan.error(), "ipmitool: Error: Unable to establish IPMI v2 / RMCP+ session");
  // Debian 12's ipmitool 1.8.19 on a machine without a BMC (this project's CI VM).
  auto dev = parse_dcmi_power_reading(
      "Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file or "
      "directory\n");
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().rfind("ipmitool: Could not open device at /dev/ipmi0 or /dev/ipmi/0 or "
                              "/dev/ipmidev/0: No such file or directory (",
                              0),
            0u)
      << dev.error();
}

// --- the meter, end to end, with a fake ipmitool --------------------------------------------

class FakeIpmitool : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "converge-ipmi-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes an executable `ipmitool` script with `body` and returns the command to run it.
  std::vector<std::string> script(const std::string& body) {
    const auto path = dir_ / "ipmitool";
    {
      std::ofstream f(path);
      f << "#!/bin/sh\n" << body;
    }
    chmod(path.c_str(), 0755);
    return {path.string(), "dcmi", "power", "reading"};
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string slurp(const std::string& name) {
    std::ifstream f(dir_ / name);
    return {std::istreambuf_iterator<char>(f), {}};
  }

  std::filesystem::path dir_;
};

TEST_F(FakeIpmitool, ReadsTwoDifferentValues) {
  write("watts", "220");
  // Prints ipmitool 1.8.19's exact layout ("%8d Watts", timestamp without newline).
  IpmiOptions options;
  options.command =
      script("echo \"$@\" > " + (dir_ / "args").string() +
             "\n"
             "w=$(cat " +
             (dir_ / "watts").string() +
             ")\n"
             "printf '\\n'\n"
             "printf '    Instantaneous power reading:              %8d Watts\\n' \"$w\"\n"
             "printf '    Minimum during sampling period:           %8d Watts\\n' 48\n"
             "printf '    Maximum during sampling period:           %8d Watts\\n' 400\n"
             "printf '    Average power reading over sample period: %8d Watts\\n' 215\n"
             "printf '    IPMI timestamp:                           11/25/26 10:00:00 UTC'\n"
             "printf '    Sampling period:                          %08u Seconds.\\n' 2\n"
             "printf '    Power reading state is:                   activated\\n\\n'\n");
  auto meter = open_ipmi(options);
  ASSERT_TRUE(meter) << meter.error();
  EXPECT_EQ((*meter)->name(), "ipmi");
  EXPECT_EQ((*meter)->domains(), std::vector<std::string>{"node"});
  EXPECT_FALSE((*meter)->counts_energy());
  EXPECT_EQ((*meter)->resolution(), 1);
  EXPECT_EQ((*meter)->update_period_s(), 2);
  EXPECT_EQ(slurp("args"), "dcmi power reading\n");

  auto first = (*meter)->read();
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(*first, std::vector<double>{220});
  write("watts", "1234");
  auto second = (*meter)->read();
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(*second, std::vector<double>{1234});

  // A reading that later fails names the domain and quotes ipmitool.
  // (script() rewrites the same file the meter runs.)
  script("echo '    DCMI request failed because: Unspecified error (ff)' >&2\nexit 1\n");
  auto third = (*meter)->read();
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), "node: ipmitool: DCMI request failed because: Unspecified error (ff)");
}

TEST_F(FakeIpmitool, StatisticsWindowIsNotAnUpdatePeriod) {
  IpmiOptions options;
  options.command = script(std::string("cat <<'EOF'\n") + kIpmitool1818 + "EOF\n");
  auto meter = open_ipmi(options);
  ASSERT_TRUE(meter) << meter.error();
  EXPECT_EQ((*meter)->update_period_s(), 1);  // "00699043 Seconds." is a window, not a rate
}

TEST_F(FakeIpmitool, DeactivatedFailsToOpen) {
  IpmiOptions options;
  options.command = script(std::string("cat <<'EOF'\n") + kOpenBmcDeactivated + "EOF\n");
  auto meter = open_ipmi(options);
  ASSERT_FALSE(meter);
  EXPECT_EQ(meter.error().rfind("power reading is deactivated on this BMC", 0), 0u)
      << meter.error();
}

TEST_F(FakeIpmitool, CouldNotOpenDevice) {
  IpmiOptions options;
  options.command = script(
      "echo 'Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file "
      "or directory' >&2\nexit 1\n");
  auto meter = open_ipmi(options);
  ASSERT_FALSE(meter);
  EXPECT_NE(meter.error().find("ipmitool: Could not open device at /dev/ipmi0 or /dev/ipmi/0 or "
                               "/dev/ipmidev/0: No such file or directory"),
            std::string::npos)
      << meter.error();
}

TEST_F(FakeIpmitool, UnknownFailureQuotesLastLine) {
  IpmiOptions options;
  options.command = script("echo 'something odd' >&2\nexit 3\n");
  auto meter = open_ipmi(options);
  ASSERT_FALSE(meter);
  EXPECT_NE(meter.error().find("exited with status 3: something odd"), std::string::npos)
      << meter.error();
}

TEST_F(FakeIpmitool, CommandNotFound) {
  IpmiOptions absent;
  absent.command = {(dir_ / "no-such-ipmitool").string(), "dcmi", "power", "reading"};
  auto meter = open_ipmi(absent);
  ASSERT_FALSE(meter);
  EXPECT_EQ(meter.error(), (dir_ / "no-such-ipmitool").string() + " not found");

  IpmiOptions not_on_path;
  not_on_path.command = {"converge-no-such-ipmitool", "dcmi", "power", "reading"};
  auto on_path = open_ipmi(not_on_path);
  ASSERT_FALSE(on_path);
  EXPECT_EQ(on_path.error(), "converge-no-such-ipmitool not found on PATH (install ipmitool)");
}

TEST_F(FakeIpmitool, HangingCommandTimesOut) {
  IpmiOptions options;
  // A child that keeps the pipe open: the whole process group must be killed.
  options.command = script("sleep 30 &\nsleep 30\n");
  auto meter = open_ipmi(options);
  ASSERT_FALSE(meter);
  EXPECT_NE(meter.error().find("did not finish within 5 s"), std::string::npos) << meter.error();
}
