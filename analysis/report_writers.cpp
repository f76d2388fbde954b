// The writers of analysis/report.hpp: the report model as Markdown, CSV and HTML. Every format
// holds the same tables (built once, in tables()); HTML adds the charts of the model.
#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "analysis/report.hpp"
#include "core/units.hpp"

namespace converge::analysis {

namespace {

using results::json;

std::string percent(double fraction, bool sign = false) {
  if (!std::isfinite(fraction)) return "-";
  return sign ? fmt::format("{:+.1f}%", 100 * fraction) : fmt::format("{:.1f}%", 100 * fraction);
}
std::string figure(double v, const std::string& unit) { return std::isfinite(v) ? core::format_value(v, unit) : "-"; }
// Plain number for CSV: shortest text that reads back exactly; empty when absent.
std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : ""; }

// A table as every writer sees it: title, header, rows of text cells.
struct Table {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string energy_cell(const EnergyFigures& e, int which) {
  if (!e.measured) return which == 0 ? e.reason : "not measured";
  if (which == 0) return core::format_si(e.joules, "J") + (e.low_confidence ? " (low confidence)" : "");
  if (which == 1) return core::format_si(e.avg_power_w, "W");
  return std::isfinite(e.efficiency) ? core::format_si(e.efficiency, e.efficiency_unit) : "-";
}
std::string energy_csv(const EnergyFigures& e, int which) {
  if (!e.measured) return which == 0 ? e.reason : "not measured";
  return csv_number(which == 0 ? e.joules : which == 1 ? e.avg_power_w : e.efficiency);
}

std::string instance_name(const std::string& benchmark, const std::string& place) {
  return place.empty() ? benchmark : benchmark + " @" + place;
}

// "flash (kind flash): xfs on /flash (/dev/nvme0n1; rw,noatime)": what each tier column measured.
std::string tier_header(const TierColumn& t) {
  return fmt::format("{}{}: {}", t.label, t.kind.empty() ? "" : " (kind " + t.kind + ")",
                     t.filesystem.empty() ? "filesystem not recorded" : t.filesystem);
}

// IO results side by side per tier: the median with its CV (a noisy metadata figure shows it),
// or why a cell has none. CSV: the figure in base units and the CV in columns of their own.
Table tier_table(const TierComparison& c, bool csv) {
  Table t{"storage tiers: median of the primary metric (CV of the times) per tier and rank count",
          {"benchmark", "params", "ranks", "metric"}, {}};
  if (csv) t.header.push_back("unit");
  for (const auto& tier : c.tiers) {
    t.header.push_back(tier_header(tier));
    if (csv) t.header.push_back(tier.label + " cv");
  }
  for (const auto& row : c.rows) {
    std::vector<std::string> cells = {row.benchmark, row.params, std::to_string(row.ranks), row.metric};
    if (csv) cells.push_back(row.unit);
    for (std::size_t k = 0; k < c.tiers.size(); ++k) {
      if (!row.values[k]) {
        cells.push_back(row.missing[k]);
        if (csv) cells.push_back("");
      } else if (csv) {
        cells.push_back(csv_number(*row.values[k]));
        cells.push_back(csv_number(row.cv[k]));
      } else {
        cells.push_back(fmt::format("{} (CV {})", figure(*row.values[k], row.unit), percent(row.cv[k])));
      }
    }
    t.rows.push_back(std::move(cells));
  }
  return t;
}

// The tables of a report; `csv` chooses plain numbers with unit columns over display text.
std::vector<Table> tables(const Report& report, bool csv) {
  std::vector<Table> out;
  for (const auto& run : report.runs) {
    const std::string name = fmt::format("run {} ({}, {})", run.run_id, run.suite, run.partition_label);
    Table h{name + ": header", {"field", "value"}, {}};
    for (const auto& [k, v] : run.header) h.rows.push_back({k, v});
    Table inv{name + ": inventory", {"item", "value"}, {}};
    for (const auto& [k, v] : run.inventory) inv.rows.push_back({k, v});
    Table env{name + ": environment", {"variable", "value"}, {}};
    for (const auto& [k, v] : run.environment) env.rows.push_back({k, v});
    Table res{name + ": results", {}, {}};
    if (csv)
      res.header = {"benchmark", "place", "params", "metric", "median", "unit", "ci_low", "ci_high", "fraction_of_peak",
                    "reps", "cv", "status", "energy (J)", "avg power (W)", "efficiency", "efficiency unit"};
    else
      res.header = {"benchmark", "params", "metric", "median", "95% CI", "of peak", "reps", "CV", "status",
                    "energy (J)", "avg power (W)", "efficiency"};
    for (const auto& r : run.results) {
      const bool fig = std::isfinite(r.median);
      if (csv) {
        res.rows.push_back({r.benchmark, r.place, r.params, r.metric, csv_number(r.median), r.unit,
                            r.ci_valid ? csv_number(r.ci_low) : "", r.ci_valid ? csv_number(r.ci_high) : "",
                            csv_number(r.fraction_of_peak), fig ? std::to_string(r.reps) : "", csv_number(r.cv), r.status,
                            energy_csv(r.energy, 0), energy_csv(r.energy, 1), energy_csv(r.energy, 2),
                            r.energy.measured ? r.energy.efficiency_unit : ""});
        continue;
      }
      res.rows.push_back(
          {instance_name(r.benchmark, r.place), r.params, r.metric, fig ? figure(r.median, r.unit) : "-",
           !fig ? "-" : r.ci_valid ? fmt::format("{} .. {}", figure(r.ci_low, r.unit), figure(r.ci_high, r.unit))
                                  : "n/a (too few reps)",
           percent(r.fraction_of_peak), fig ? std::to_string(r.reps) : "-", fig ? percent(r.cv) : "-", r.status,
           energy_cell(r.energy, 0), energy_cell(r.energy, 1), energy_cell(r.energy, 2)});
    }
    out.push_back(std::move(h));
    out.push_back(std::move(inv));
    if (!env.rows.empty()) out.push_back(std::move(env));
    out.push_back(std::move(res));
  }
  if (report.comparison) {
    const auto& c = *report.comparison;
    Table t{"partition comparison", {"benchmark", "params", "metric"}, {}};
    if (csv) t.header.push_back("unit");
    for (const auto& p : c.partitions) {
      t.header.push_back(p);
      t.header.push_back(p + " per watt");
    }
    for (const auto& row : c.rows) {
      std::vector<std::string> cells = {row.benchmark, row.params, row.metric.empty() ? "-" : row.metric};
      if (csv) cells.push_back(row.unit);
      for (std::size_t k = 0; k < c.partitions.size(); ++k) {
        if (!row.values[k]) {
          cells.push_back(row.missing[k]);
          cells.push_back("-");
          continue;
        }
        cells.push_back(csv ? csv_number(*row.values[k]) : figure(*row.values[k], row.unit));
        const auto& e = row.energy[k];
        cells.push_back(!e.measured ? e.reason
                        : csv       ? csv_number(e.efficiency) + " " + e.efficiency_unit
                                    : energy_cell(e, 2));
      }
      t.rows.push_back(std::move(cells));
    }
    out.push_back(std::move(t));
  }
  if (report.tiers) out.push_back(tier_table(*report.tiers, csv));
  for (const auto& s : report.regressions) {
    Table t{fmt::format("regression: {} against baseline {}", s.candidate_id, s.baseline_id), {}, {}};
    if (csv)
      t.header = {"benchmark", "place", "params", "metric", "unit", "baseline", "this run", "time change",
                  "change ci_low", "change ci_high", "p", "verdict", "note"};
    else
      t.header = {"benchmark", "params", "metric", "baseline", "this run", "time change", "95% CI of change", "p",
                  "verdict", "note"};
    for (const auto& r : s.rows) {
      const auto& c = r.comparison;
      const double lo = c.ratio.low - 1, hi = c.ratio.high - 1;
      const std::string verdict = r.compared ? to_string(c.verdict) : "not compared";
      const std::string note = r.compared ? c.why : r.reason;
      if (csv) {
        t.rows.push_back({r.benchmark, r.place, r.params, r.metric, r.unit, csv_number(r.baseline_value),
                          csv_number(r.candidate_value), r.compared ? csv_number(c.change) : "",
                          r.compared ? csv_number(lo) : "", r.compared ? csv_number(hi) : "",
                          r.compared ? csv_number(c.test.p_value) : "", verdict, note});
        continue;
      }
      t.rows.push_back({instance_name(r.benchmark, r.place), r.params, r.metric.empty() ? "-" : r.metric,
                        figure(r.baseline_value, r.unit), figure(r.candidate_value, r.unit),
                        r.compared ? percent(c.change, true) : "-",
                        r.compared && std::isfinite(lo) ? fmt::format("{} .. {}", percent(lo, true), percent(hi, true)) : "-",
                        r.compared ? fmt::format("{:.3g}", c.test.p_value) : "-", verdict, note});
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::string md_cell(std::string s);
std::string html_escape(const std::string& s);

std::string md_table(const Table& t) {
  std::string out = fmt::format("\n## {}\n\n|", t.title);
  for (const auto& h : t.header) out += fmt::format(" {} |", md_cell(h));
  out += "\n|";
  for (std::size_t i = 0; i < t.header.size(); ++i) out += " --- |";
  out += "\n";
  for (const auto& row : t.rows) {
    out += "|";
    for (const auto& c : row) out += fmt::format(" {} |", md_cell(c));
    out += "\n";
  }
  return out;
}

std::string html_table(const Table& t) {
  std::string out = "<h2>" + html_escape(t.title) + "</h2>\n<table>\n<tr>";
  for (const auto& h : t.header) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const auto& c : row) out += "<td>" + html_escape(c) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// With --site: one table per checked run (the same columns as `converge check`).
std::vector<Table> acceptance_tables(const Report& report) {
  std::vector<Table> out;
  for (const auto& a : report.acceptance) {
    Table t;
    t.title = fmt::format("acceptance: run {} against site {}", a.run_id, a.site);
    t.header = {"check", "metric", "measured", "reference", "bounds", "status", "message"};
    const auto subjects = check_subjects(a.checks);
    for (std::size_t i = 0; i < a.checks.size(); ++i) {
      const auto& c = a.checks[i];
      const std::string unit = c.unit.empty() ? c.expected.unit : c.unit;
      const double lo = lower_bound(c.expected), hi = upper_bound(c.expected);
      t.rows.push_back({subjects[i], c.expected.metric,
                        std::isfinite(c.measured) ? core::format_value(c.measured, unit) : "-",
                        core::format_value(c.expected.value, unit),
                        fmt::format("{}{}, {}{}", std::isfinite(lo) ? "[" : "(",
                                    std::isfinite(lo) ? core::format_value(lo, unit) : "-inf",
                                    std::isfinite(hi) ? core::format_value(hi, unit) : "+inf", std::isfinite(hi) ? "]" : ")"),
                        to_string(c.status), c.message});
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::string acceptance_note(const Report& report) {
  std::string ids;
  for (const auto& r : report.runs) ids += (ids.empty() ? "" : " ") + r.run_id;
  return fmt::format("acceptance: not checked here (a check needs the site's reference figures): run "
                     "`converge check RUN --site S` (RUN: {})",
                     ids.empty() ? "each run" : ids);
}

std::string md_cell(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n') out += "<br>";
    else out += ch;
  }
  return out.empty() ? " " : out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

// Inlined script text must not close its <script> element early.
std::string script_safe(const std::string& js) {
  std::string out;
  out.reserve(js.size());
  for (std::size_t i = 0; i < js.size(); ++i) {
    if (js[i] == '<' && i + 1 < js.size() && js[i + 1] == '/' && js.size() - i >= 8) {
      std::string tag = js.substr(i + 2, 6);
      std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      if (tag == "script") {
        out += "<\\/";
        ++i;
        continue;
      }
    }
    out += js[i];
  }
  return out;
}
// JSON inside a script: '<' only occurs in strings, where \u003c means the same.
std::string json_in_script(const json& j) {
  std::string out;
  for (char ch : j.dump()) out += ch == '<' ? std::string("\\u003c") : std::string(1, ch);
  return out;
}

}  // namespace

std::string render_markdown(const Report& report) {
  std::string out = "# converge report\n\n";
  for (const auto& r : report.runs) out += fmt::format("- run {}: suite {} on {}\n", r.run_id, r.suite, r.partition_label);
  if (!report.charts.empty()) {
    std::vector<std::string> titles;
    for (const auto& c : report.charts) titles.push_back(c.title);
    out += fmt::format("\nCharts in the HTML report (`--format html`): {}.\n", fmt::join(titles, "; "));
  }
  for (const auto& t : tables(report, false)) out += md_table(t);
  if (report.acceptance.empty()) out += "\n## acceptance\n\n" + acceptance_note(report) + "\n";
  for (const auto& t : acceptance_tables(report)) out += md_table(t);
  if (!report.notes.empty()) {
    out += "\n## notes\n\n";
    for (const auto& n : report.notes) out += "- " + n + "\n";
  }
  return out;
}

std::string render_csv(const Report& report) {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      out += csv_field(cells[i]);
    }
    out += "\n";
  };
  for (const auto& t : tables(report, true)) {
    if (!out.empty()) out += "\n";
    line({t.title});
    line(t.header);
    for (const auto& row : t.rows) line(row);
  }
  if (report.acceptance.empty()) {
    out += "\n";
    line({"acceptance"});
    line({acceptance_note(report)});
  }
  for (const auto& t : acceptance_tables(report)) {
    out += "\n";
    line({t.title});
    line(t.header);
    for (const auto& row : t.rows) line(row);
  }
  return out;
}

std::string render_html(const Report& report, const ChartLibraries& libraries) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>converge report</title>\n"
      "<style>\nbody{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}"
      "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top;font-size:13px}"
      "th{background:#f0f0f0}.charts{display:flex;flex-wrap:wrap;gap:0 2em}figure{margin:1em 0 2em;width:620px}"
      "figcaption{font-size:13px;color:#444}"
      ".chart-error{color:#b00;font-weight:bold}\n</style>\n";
  for (const auto* lib : {&libraries.vega, &libraries.vega_lite, &libraries.vega_embed})
    out += "<script>\n" + script_safe(*lib) + "\n</script>\n";
  out += "</head>\n<body>\n<h1>converge report</h1>\n<ul>\n";
  for (const auto& r : report.runs)
    out += fmt::format("<li>run {}: suite {} on {}</li>\n", html_escape(r.run_id), html_escape(r.suite),
                       html_escape(r.partition_label));
  out += "</ul>\n";
  if (!report.charts.empty()) {
    out += "<h2>charts</h2>\n<div class=\"charts\">\n";
    for (const auto& c : report.charts)
      out += fmt::format("<figure>\n<div id=\"{}\" class=\"chart\"></div>\n<figcaption>{}</figcaption>\n</figure>\n",
                         html_escape(c.id), html_escape(c.caption));
    out += "</div>\n";
  }
  for (const auto& t : tables(report, false)) out += html_table(t);
  if (report.acceptance.empty()) out += "<h2>acceptance</h2>\n<p>" + html_escape(acceptance_note(report)) + "</p>\n";
  for (const auto& t : acceptance_tables(report)) out += html_table(t);
  if (!report.notes.empty()) {
    out += "<h2>notes</h2>\n<ul>\n";
    for (const auto& n : report.notes) out += "<li>" + html_escape(n) + "</li>\n";
    out += "</ul>\n";
  }
  // A chart that fails to render says so in its place, where a reader (and the browser test) sees it.
  out += "<script>\nfunction chartError(id, e) { const d = document.getElementById(id); d.className = 'chart-error'; "
         "d.textContent = 'chart error: ' + e; }\n";
  for (const auto& c : report.charts)
    out += fmt::format("vegaEmbed('#{0}', {1}, {{actions:false, renderer:'svg'}}).catch(e => chartError('{0}', e));\n", c.id,
                       json_in_script(c.spec));
  out += "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace converge::analysis
