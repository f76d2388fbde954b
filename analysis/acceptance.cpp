#include "analysis/acceptance.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (moved here in fmt 11)

#include "core/units.hpp"

namespace converge::analysis {

using results::json;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::string json_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string params_text(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

std::string with_params(const std::string& benchmark, const std::map<std::string, std::string>& params) {
  const std::string p = params_text(params);
  return p.empty() ? benchmark : benchmark + " " + p;
}

// A named param matches the value the result ran with, or the value the suite gave it (the
// run's plan): "threads=auto" matches a result that resolved auto to 64, as does "threads=64".
bool params_match(const Expectation& e, const json& r, const json& given) {
  const json params = r.value("params", json::object());
  for (const auto& [k, v] : e.params) {
    const bool ran = params.is_object() && params.contains(k) && json_text(params[k]) == v;
    const bool asked = given.is_object() && given.contains(k) && json_text(given[k]) == v;
    if (!ran && !asked) return false;
  }
  return true;
}

// A relative difference for people: "12%", "2.5%", "0.11%".
std::string percent(double fraction) {
  const double p = std::fabs(fraction) * 100;
  if (p >= 10) return fmt::format("{:.0f}%", p);
  if (p >= 1) return fmt::format("{:.1f}%", p);
  return fmt::format("{:.2g}%", p);
}

std::string figure(double value, const std::string& unit) { return core::format_value(value, unit); }

std::string bounds_text(const Expectation& e, const std::string& unit) {
  const double lo = lower_bound(e), hi = upper_bound(e);
  return fmt::format("{}{}, {}{}", std::isfinite(lo) ? "[" : "(", std::isfinite(lo) ? figure(lo, unit) : "-inf",
                     std::isfinite(hi) ? figure(hi, unit) : "+inf", std::isfinite(hi) ? "]" : ")");
}

std::string display_unit(const CheckResult& c) { return c.unit.empty() ? c.expected.unit : c.unit; }

CheckResult missing(const Expectation& e, const std::string& host, int rank, std::string message) {
  CheckResult c{e, CheckStatus::missing, std::nan(""), e.unit, host, rank, std::move(message)};
  return c;
}

std::string who(const json& r) {
  const std::string host = r.value("host", "");
  return fmt::format("rank {}{}", r.value("rank", 0), host.empty() ? "" : " on " + host);
}

// The check of one matching result.
CheckResult check_one(const Expectation& e, const json& r) {
  const std::string host = r.value("host", "");
  const int rank = r.value("rank", 0);
  const std::string status = r.value("status", "");
  if (status != "ok") {
    const std::string reason = r.value("reason", "");
    return missing(e, host, rank,
                   fmt::format("no figure: the result of {} is {}{}", who(r), status.empty() ? "without status" : status,
                               reason.empty() ? "" : ": " + reason));
  }
  const json metrics = r.value("metrics", json::array());
  const json* m = nullptr;
  std::vector<std::string> names;
  for (const auto& x : metrics) {
    names.push_back(x.value("name", ""));
    if (x.value("name", "") == e.metric) m = &x;
  }
  if (m == nullptr)
    return missing(e, host, rank,
                   fmt::format("no figure: the result of {} has no metric '{}' (its metrics: {})", who(r), e.metric,
                               names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
  const std::string unit = m->value("unit", "");
  if (!e.unit.empty() && unit != e.unit)
    return missing(e, host, rank,
                   fmt::format("no comparable figure: {} of {} is in {}, the reference in {}", e.metric, who(r), unit,
                               e.unit));
  const json value = m->value("value", json());
  if (!value.is_number() || !std::isfinite(value.get<double>()))
    return missing(e, host, rank, fmt::format("no figure: {} of {} has no finite value", e.metric, who(r)));

  const double measured = value.get<double>();
  const double lo = lower_bound(e), hi = upper_bound(e);
  CheckResult c{e, CheckStatus::pass, measured, unit, host, rank, ""};
  std::string verdict;
  if (measured < lo) {
    c.status = CheckStatus::fail;
    verdict = "below the lower bound by " + percent((lo - measured) / std::fabs(lo));
  } else if (measured > hi) {
    c.status = CheckStatus::fail;
    verdict = "above the upper bound by " + percent((measured - hi) / std::fabs(hi));
  } else {
    verdict = e.value != 0 ? fmt::format("within the bounds, {}{} from the reference",
                                         measured >= e.value ? "+" : "-", percent((measured - e.value) / e.value))
                           : "within the bounds";
  }
  c.message = fmt::format("measured {}, reference {}, bounds {}: {}", figure(measured, unit), figure(e.value, unit),
                          bounds_text(e, unit), verdict);
  // A figure measured while the hardware throttled or logged new errors is not an acceptance.
  const json flags = r.contains("energy") ? r["energy"].value("flags", json::array()) : json::array();
  if (!flags.empty()) {
    std::vector<std::string> f;
    for (const auto& x : flags) f.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    c.status = CheckStatus::fail;
    c.message += fmt::format("; flagged during the measurement: {}", fmt::join(f, "; "));
  }
  return c;
}

// Why nothing matched: what the run has of that benchmark, for the params the site names.
std::string no_match_message(const Expectation& e, const json& results) {
  std::set<std::string> seen;
  for (const auto& r : results) {
    if (r.value("benchmark", "") != e.benchmark) continue;
    const json params = r.value("params", json::object());
    std::map<std::string, std::string> named;
    for (const auto& [k, v] : e.params)
      named[k] = params.is_object() && params.contains(k) ? json_text(params[k]) : "(none)";
    seen.insert(params_text(named));
  }
  if (seen.empty()) return fmt::format("no figure: the run has no result of {}", e.benchmark);
  return fmt::format("no figure: no result of {} has {} (the run's have {}); the site must write values as the "
                     "run records them",
                     e.benchmark, params_text(e.params), fmt::format("{}", fmt::join(seen, "; ")));
}

// What identifies an expectation among the checks.
struct Key {
  std::string benchmark, params, metric, source;
  auto operator<=>(const Key&) const = default;
};
Key key_of(const CheckResult& c) {
  return {c.expected.benchmark, params_text(c.expected.params), c.expected.metric, c.expected.source};
}

// "@host" when the check's expectation matched several results; "#rank" too when several of
// those share a host; else "".
std::vector<std::string> suffixes(const std::vector<CheckResult>& checks) {
  std::map<Key, int> per_key;
  std::map<std::pair<Key, std::string>, int> per_host;
  for (const auto& c : checks) {
    ++per_key[key_of(c)];
    ++per_host[{key_of(c), c.host}];
  }
  std::vector<std::string> out;
  for (const auto& c : checks) {
    const Key k = key_of(c);
    std::string s;
    if (per_key[k] > 1 && !c.host.empty()) s += "@" + c.host;
    if (per_key[k] > 1 && per_host[{k, c.host}] > 1) s += fmt::format("#{}", c.rank);
    out.push_back(s);
  }
  return out;
}

std::string status_text(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass: return "PASS";
    case CheckStatus::fail: return "FAIL";
    case CheckStatus::missing: return "MISSING";
  }
  return "?";
}

struct Counts {
  int passed = 0, failed = 0, missing = 0;
};
Counts count(const std::vector<CheckResult>& checks) {
  Counts n;
  for (const auto& c : checks) {
    if (c.status == CheckStatus::pass) ++n.passed;
    else if (c.status == CheckStatus::fail) ++n.failed;
    else ++n.missing;
  }
  return n;
}
std::string summary(const std::vector<CheckResult>& checks) {
  const Counts n = count(checks);
  return fmt::format("{} passed, {} failed, {} missing", n.passed, n.failed, n.missing);
}

using Row = std::vector<std::string>;
const Row header = {"check", "metric", "measured", "reference", "bounds", "status"};

std::vector<Row> rows(const std::vector<CheckResult>& checks) {
  const auto subjects = check_subjects(checks);
  std::vector<Row> out;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    const std::string unit = display_unit(c);
    out.push_back({subjects[i], c.expected.metric, std::isfinite(c.measured) ? figure(c.measured, unit) : "-",
                   figure(c.expected.value, unit), bounds_text(c.expected, unit), status_text(c.status)});
  }
  return out;
}

std::string source_suffix(const CheckResult& c) {
  return c.expected.source.empty() ? "" : " (reference: " + c.expected.source + ")";
}

// Display width: UTF-8 code points, so that "µs" lines up.
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
}

std::string markdown_cell(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n' || ch == '\r') out += ' ';
    else out += ch;
  }
  return out;
}

// Appends the code points of `s` that XML 1.0 allows (#x9 | #xA | #xD | [#x20-#xD7FF] |
// [#xE000-#xFFFD] | [#x10000-#x10FFFF]), escaped; bytes that are not UTF-8 are dropped.
std::string xml_escape(const std::string& s, bool attribute) {
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > n) {
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < min_for_len[len]) {  // broken or overlong sequence
      ++i;
      continue;
    }
    const bool legal = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                       (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (legal) {
      switch (cp) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        // in attributes, so that attribute-value normalisation keeps them
        case '\t': out += attribute ? "&#9;" : "\t"; break;
        case '\n': out += attribute ? "&#10;" : "\n"; break;
        case '\r': out += "&#13;"; break;
        default: out.append(s, i, len);
      }
    }
    i += len;
  }
  return out;
}

// "2026-11-23T10:15:00.123Z" -> "2026-11-23T10:15:00"; the current UTC time when not ISO 8601.
std::string junit_timestamp(const std::string& t) {
  static const std::string shape = "dddd-dd-ddTdd:dd:dd";
  bool ok = t.size() >= shape.size();
  for (std::size_t i = 0; ok && i < shape.size(); ++i)
    ok = shape[i] == 'd' ? (t[i] >= '0' && t[i] <= '9') : t[i] == shape[i];
  if (ok) return t.substr(0, shape.size());
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace

std::string to_string(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass: return "pass";
    case CheckStatus::fail: return "fail";
    case CheckStatus::missing: return "missing";
  }
  return "unknown";
}

double lower_bound(const Expectation& e) { return e.lower ? e.value * (1 + *e.lower) : -inf; }
double upper_bound(const Expectation& e) { return e.upper ? e.value * (1 + *e.upper) : inf; }

std::vector<CheckResult> check_run(const json& run, const std::vector<Expectation>& expectations) {
  const json results = run.is_array() ? run : run.value("results", json::array());
  std::map<int, json> given;  // instance -> the params the suite gave
  if (run.is_object())
    for (const auto& p : run.value("plan", json::array())) given[p.value("instance", -1)] = p.value("params", json::object());
  std::vector<CheckResult> out;
  for (const auto& e : expectations) {
    bool matched = false;
    for (const auto& r : results) {
      const auto g = given.find(r.value("instance", -1));
      if (r.value("benchmark", "") != e.benchmark || !params_match(e, r, g == given.end() ? json() : g->second))
        continue;
      matched = true;
      out.push_back(check_one(e, r));
    }
    if (!matched) out.push_back(missing(e, "", 0, no_match_message(e, results)));
  }
  return out;
}

std::vector<std::string> check_subjects(const std::vector<CheckResult>& checks) {
  const auto suffix = suffixes(checks);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < checks.size(); ++i)
    out.push_back(with_params(checks[i].expected.benchmark, checks[i].expected.params) + suffix[i]);
  return out;
}

std::string check_table(const std::vector<CheckResult>& checks) {
  const auto body = rows(checks);
  std::vector<std::size_t> w(header.size());
  for (std::size_t j = 0; j < header.size(); ++j) w[j] = width(header[j]);
  for (const auto& row : body)
    for (std::size_t j = 0; j < row.size(); ++j) w[j] = std::max(w[j], width(row[j]));
  auto line = [&](const Row& row) {
    std::string s;
    for (std::size_t j = 0; j < row.size(); ++j) {
      s += row[j];
      if (j + 1 < row.size()) s += std::string(w[j] - width(row[j]) + 2, ' ');
    }
    return s + "\n";
  };
  std::string out = line(header);
  Row rule;
  for (std::size_t j = 0; j < header.size(); ++j) rule.push_back(std::string(w[j], '-'));
  out += line(rule);
  for (const auto& row : body) out += line(row);
  out += summary(checks) + "\n";
  const auto subjects = check_subjects(checks);
  for (std::size_t i = 0; i < checks.size(); ++i)
    if (checks[i].status != CheckStatus::pass)
      out += fmt::format("{} {} {}: {}{}\n", status_text(checks[i].status), subjects[i], checks[i].expected.metric,
                         checks[i].message, source_suffix(checks[i]));
  return out;
}

std::string check_markdown(const std::vector<CheckResult>& checks) {
  auto line = [](const Row& row) {
    std::string s = "|";
    for (const auto& cell : row) s += fmt::format(" {} |", markdown_cell(cell));
    return s + "\n";
  };
  std::string out = line(header);
  out += line(Row(header.size(), "---"));
  for (const auto& row : rows(checks)) out += line(row);
  out += "\n" + summary(checks) + "\n";
  const auto subjects = check_subjects(checks);
  bool first = true;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (checks[i].status == CheckStatus::pass) continue;
    if (first) out += "\n";
    first = false;
    out += fmt::format("- **{}** {} {}: {}{}\n", status_text(checks[i].status), markdown_cell(subjects[i]),
                       checks[i].expected.metric, markdown_cell(checks[i].message), markdown_cell(source_suffix(checks[i])));
  }
  return out;
}

std::string check_junit(const std::vector<CheckResult>& checks, const std::string& suite_name,
                        const std::string& timestamp) {
  const std::string suite = suite_name.empty() ? "converge" : suite_name;
  const std::string classname = "converge." + suite;
  std::set<std::string> hosts;
  for (const auto& c : checks)
    if (!c.host.empty()) hosts.insert(c.host);
  const std::string hostname = hosts.size() == 1 ? *hosts.begin() : "localhost";
  const Counts n = count(checks);
  auto a = [](const std::string& s) { return xml_escape(s, true); };

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  out += fmt::format(
      "  <testsuite name=\"{}\" package=\"{}\" id=\"0\" hostname=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
      "time=\"0\" timestamp=\"{}\">\n",
      a(suite), a(classname), a(hostname), checks.size(), n.failed, n.missing, junit_timestamp(timestamp));
  // Jenkins' schema wants at least one property when the element is present; Ant's wants the element.
  out += "    <properties>\n      <property name=\"generator\" value=\"converge\"/>\n    </properties>\n";
  const auto suffix = suffixes(checks);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    const std::string name =
        with_params(c.expected.benchmark, c.expected.params) + " " + c.expected.metric + suffix[i];
    out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", a(classname), a(name));
    if (c.status == CheckStatus::pass) {
      out += "/>\n";
      continue;
    }
    std::string type = "missing";
    if (c.status == CheckStatus::fail) type = c.measured < lower_bound(c.expected) ? "below_reference" : "above_reference";
    const char* element = c.status == CheckStatus::fail ? "failure" : "error";
    out += fmt::format(">\n      <{} message=\"{}\" type=\"{}\">{}{}</{}>\n    </testcase>\n", element, a(c.message), type,
                       xml_escape(c.message, false), xml_escape(source_suffix(c), false), element);
  }
  out += "    <system-out>" + xml_escape(check_table(checks), false) + "</system-out>\n";
  out += "    <system-err/>\n  </testsuite>\n</testsuites>\n";
  return out;
}

bool all_passed(const std::vector<CheckResult>& checks) {
  return std::all_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.status == CheckStatus::pass; });
}

}  // namespace converge::analysis
