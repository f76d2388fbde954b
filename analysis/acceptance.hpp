#pragma once
// Acceptance checks (`converge check RUN --site S`): a run's results against the reference
// figures a partition was promised, ReFrame-style (a value with relative lower and upper
// tolerances), rendered for a terminal, for people (Markdown) and for CI (JUnit XML).
//
// analysis/ does not include runners/: the caller turns the site's references into
// Expectations (value converted to the metric's base unit, source "site.yaml:27").
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results/run_document.hpp"

namespace converge::analysis {

/// One reference figure for one metric of one benchmark instance.
struct Expectation {
  std::string benchmark;                      ///< id, e.g. "micro.gemm.dgemm"
  /// Only the params the site names; a result matches when each of them equals, textually,
  /// the value the result ran with or the value the run's plan gave it ("threads=auto" and
  /// "threads=64" both match a result that resolved auto to 64; "4096" does not match "4K").
  std::map<std::string, std::string> params;
  std::string metric;                         ///< metric name, e.g. "flop_rate"
  double value = 0;                           ///< reference, in the metric's base unit
  std::optional<double> lower;                ///< relative, <= 0 (-0.1: 10% below); none: unbounded
  std::optional<double> upper;                ///< relative, >= 0; none: unbounded
  std::string unit;                           ///< base unit of `value` ("B/s"); empty: take the result's
  std::string source;                         ///< where it was written, for messages: "site.yaml:27"
};

enum class CheckStatus { pass, fail, missing };

/// "pass", "fail", "missing".
std::string to_string(CheckStatus status);

/// One expectation checked against one result (or against none: missing).
struct CheckResult {
  Expectation expected;
  CheckStatus status = CheckStatus::missing;
  double measured = 0;   ///< the metric's value, base unit; NaN when missing
  std::string unit;      ///< the metric's unit as the result gives it (the expectation's when missing)
  std::string host;      ///< the result's host; empty when no result matched
  int rank = 0;          ///< the result's rank (tells apart several ranks on one host)
  std::string message;   ///< "measured 180.2 GB/s, reference 200.0 GB/s, bounds [180.0 GB/s, +inf): ..."
};

/// value * (1 + lower), or -inf without a lower tolerance.
double lower_bound(const Expectation& e);
/// value * (1 + upper), or +inf without an upper tolerance.
double upper_bound(const Expectation& e);

/// Checks every expectation against `run` (a run document, or just its "results" array).
/// Each matching result (benchmark equal, every named param equal) gives one CheckResult:
/// pass iff lower_bound <= measured <= upper_bound and the result carries no energy flag
/// (throttling, new ECC errors: "flagged during the measurement"), else fail; a matching result that is not
/// "ok", lacks the metric, has no finite value for it or has another unit is missing, with
/// the reason. An expectation no result matches gives one missing CheckResult saying so (and
/// which params the run's results of that benchmark have). Order: expectations' order, then
/// results' order in the run.
std::vector<CheckResult> check_run(const results::json& run, const std::vector<Expectation>& expectations);

/// What a check is called: "micro.gemm.dgemm n=4096" and, when its expectation matched
/// several results, "@host" (and "#rank" when several of them share a host). One per check.
std::vector<std::string> check_subjects(const std::vector<CheckResult>& checks);

/// Plain-text table, columns aligned: check, metric, measured, reference, bounds, status; then
/// the summary line "N passed, M failed, K missing" and one line per check that did not pass,
/// with its message and source.
std::string check_table(const std::vector<CheckResult>& checks);

/// A Markdown table with the same columns, the summary line, and a list of the checks that
/// did not pass with their messages ('|' in cells escaped).
std::string check_markdown(const std::vector<CheckResult>& checks);

/// JUnit XML as Jenkins' JUnit plugin and GitLab read it, valid against the Ant JUnit schema
/// (windyroad JUnit.xsd, kept in tests/analysis/junit.xsd): one <testsuite name=suite_name>
/// in <testsuites>; one <testcase classname="converge.<suite_name>" name="<benchmark>
/// <params> <metric>[@host]" time="0"> per check. A fail has <failure type="below_reference"
/// or "above_reference">. A missing figure is an <error type="missing">, not <skipped>: a
/// figure the vendor promised and the run did not deliver must turn CI red, and errors say
/// "the check could not be made" where failures say "the figure is out of bounds".
/// `timestamp` is the run's UTC start ("2026-11-23T10:15:00.123Z"); the schema allows no
/// fraction and no zone, so they are dropped (the current UTC time when it is not ISO 8601).
/// hostname is the checks' one host, or "localhost" when they have several or none (the
/// schema's convention). Text is XML-escaped; characters XML 1.0 forbids (control
/// characters, invalid UTF-8, U+FFFE/U+FFFF) are removed. The text table is the suite's
/// <system-out>.
std::string check_junit(const std::vector<CheckResult>& checks, const std::string& suite_name,
                        const std::string& timestamp);

/// True iff every check passed (missing is not passed; no checks at all is passed): the
/// caller's exit status.
bool all_passed(const std::vector<CheckResult>& checks);

}  // namespace converge::analysis
