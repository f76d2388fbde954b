#pragma once
// Reports for people (HTML with charts, Markdown) and for spreadsheets (CSV), behind
// `converge report`. Pure: run documents in, a report model, text out. The HTML is one
// self-contained file: the caller passes the charting libraries' texts (Vega, Vega-Lite,
// vega-embed), which are inlined, so the report opens with no network.
//
// Every format holds the same tables; HTML adds the charts, whose Vega-Lite specs (with
// their data inline) are part of the model, so they can be tested without a browser.
// The model is built in report.cpp, the writers are in report_writers.cpp.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/regression.hpp"
#include "analysis/acceptance.hpp"
#include "results/run_document.hpp"

namespace converge::analysis {

/// Energy of one result: the figures, or why there are none. Never an invented number.
struct EnergyFigures {
  bool measured = false;
  double joules = 0;            ///< J per repetition (median repetition)
  double avg_power_w = 0;       ///< W, averaged over the timed repetitions
  double efficiency = 0;        ///< work of the primary metric's quantity per joule (FLOP/J = GFLOP/s per GW)
  std::string efficiency_unit;  ///< "FLOP/J", "B/J", "1/J"
  std::string reason;           ///< when not measured: "not measured: no energy meter configured"
  bool low_confidence = false;  ///< the region spanned fewer than 10 updates of a sensor
};

/// Reads `result["energy"]` (SCHEMA.md, Energy): measured: joules per repetition, average
/// watts and the primary metric's work per joule; else "not measured: " and its reason.
/// The one place the report reads energy fields.
EnergyFigures result_energy(const results::json& result, const results::json& run);

/// One row of a run's results table (figures in base units; NaN when absent).
struct ResultRow {
  std::string benchmark;
  std::string params;            ///< the parameters the plan gave, plus resolved threads, n, size
  std::string place;             ///< "host#rank" when the run has results from several places, else ""
  std::string metric, unit;      ///< primary metric; "-" and "" when the result has none
  double median = 0, ci_low = 0, ci_high = 0;
  bool ci_valid = false;
  double fraction_of_peak = 0;   ///< NaN without a peak
  int reps = 0;
  double cv = 0;                 ///< of the times, dimensionless
  std::string status;            ///< "ok, verified", "ok, unverified", "skipped: <reason>", ...
  EnergyFigures energy;
};

/// One run: its header, inventory summary, environment and results.
struct RunSection {
  std::string run_id, suite, partition_label;  ///< partition_label: "site/partition"
  std::vector<std::pair<std::string, std::string>> header, inventory, environment;
  std::vector<ResultRow> results;
};

/// The same benchmark instance on several partitions (runs of one suite).
struct ComparisonRow {
  std::string benchmark, params, metric, unit;
  std::vector<std::optional<double>> values;  ///< primary metric's median per partition; none: no ok result
  std::vector<EnergyFigures> energy;          ///< per partition
  std::vector<std::string> missing;           ///< per partition: why there is no value ("" when there is)
};
struct PartitionComparison {
  std::vector<std::string> partitions;  ///< column labels, "site/partition" (with the run id when repeated)
  std::vector<ComparisonRow> rows;
};

/// A storage tier, as a column of the tier comparison.
struct TierColumn {
  std::string label;       ///< the `tier` parameter, else the path; "site/partition: " before it when the runs span several
  std::string kind;        ///< the site's kind for the tier ("flash", "hdd", ...), "" when the run does not say
  std::string filesystem;  ///< "xfs on /flash (/dev/nvme0n1; rw,noatime)": the inventory's storage entry, else the
                           ///< results' notes.filesystem; "" when neither says
};
/// One IO benchmark instance (its parameters but path and tier) at one rank count, on each tier.
struct TierRow {
  std::string benchmark, params, metric, unit;
  int ranks = 1;
  std::vector<std::optional<double>> values;  ///< primary metric's median per tier; none: no ok result
  std::vector<double> cv;                     ///< coefficient of variation of the times per tier (NaN: none)
  std::vector<std::string> missing;           ///< per tier: why there is no value ("" when there is)
};
struct TierComparison {
  std::vector<TierColumn> tiers;
  std::vector<TierRow> rows;  ///< by benchmark and parameters (first seen first), then rank count
};

/// The storage tier table of io results (benchmark family io): rows (benchmark, parameters
/// other than path and tier, ranks from the plan), columns the tiers, across all `runs` (e.g.
/// runs at 1, 2 and 4 ranks, or of several partitions). A cell without a figure says why:
/// "failed: ...", "skipped: ...", "invalid: ...", "not run" (no such instance on that tier),
/// or "no result (incomplete run)" (planned, never finished). nullopt without io results.
std::optional<TierComparison> tier_comparison(const std::vector<results::json>& runs);

/// One instance of a candidate run against the baseline's same instance.
struct RegressionRow {
  std::string benchmark, params, place, metric, unit;
  double baseline_value = 0, candidate_value = 0;  ///< primary metric medians (NaN when absent)
  bool compared = false;
  std::string reason;       ///< why not compared ("missing in the baseline", "candidate failed")
  Comparison comparison;    ///< of the times (samples_s); change > 0 is slower
};
struct RegressionSection {
  std::string baseline_id, candidate_id;
  std::vector<RegressionRow> rows;
};

/// A chart: a Vega-Lite spec with its data inline, shown only in HTML.
struct Chart {
  std::string id;        ///< HTML element id
  std::string title, caption;
  results::json spec;
};

/// A run checked against its partition's reference figures (converge report --site).
struct AcceptanceSection {
  std::string run_id, site;
  std::vector<CheckResult> checks;
};

struct Report {
  std::vector<RunSection> runs;
  std::vector<AcceptanceSection> acceptance;      ///< with --site: each run's checks
  std::optional<PartitionComparison> comparison;  ///< when the runs are of one suite on several partitions
  std::optional<TierComparison> tiers;            ///< when the runs have io results
  std::vector<RegressionSection> regressions;     ///< one per run, when a baseline is given
  std::vector<Chart> charts;
  std::vector<std::string> notes;                 ///< what was left out of a chart and why
};

/// Builds the model. Results are matched across runs by benchmark, the parameters the plan
/// gave (the result's own when it has no plan entry) and rank, and by host too when either
/// run has results from several hosts (so a single-node rerun on another node still matches).
/// Takes documents as results::run_from_json accepts them; optional fields that are missing
/// (energy, plan, peaks, inventory parts) read as absent.
Report build_report(const std::vector<results::json>& runs, const results::json* baseline = nullptr);

/// Adds a run's acceptance checks to the report: a table and a chart of measured/reference
/// per figure, coloured pass / fail / missing, with the tolerance band.
void add_acceptance(Report& report, const std::string& run_id, const std::string& site,
                    const std::vector<CheckResult>& checks);

/// Markdown: headings, tables ('|' escaped), the acceptance checks (or how to get them).
std::string render_markdown(const Report& report);

/// CSV (RFC 4180: fields with ',', '"' or line breaks quoted, '"' doubled, CRLF-free "\n"
/// line ends): one block per table, each a title row of one field, a header row and the
/// data rows, blocks separated by an empty line. Figures in base units with a unit column.
std::string render_csv(const Report& report);

/// The texts of the charting libraries, inlined in <script> elements.
struct ChartLibraries {
  std::string vega, vega_lite, vega_embed;
};

/// One self-contained HTML page: the tables, and per chart one <div id=...> and one
/// vegaEmbed('#id', spec, {actions:false, renderer:'svg'}) call. "</script" in inlined texts
/// is escaped, so neither a library nor a run's text can end its script element.
std::string render_html(const Report& report, const ChartLibraries& libraries);

}  // namespace converge::analysis
