#include "runners/report_cmd.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "analysis/report.hpp"
#include "results/run_document.hpp"
#include "results/store.hpp"
#include "runners/analyze_cmd.hpp"
#include "runners/results_cmd.hpp"
#include "runners/run.hpp"

#ifndef CONVERGE_VEGA_DIR_DEFAULT
#define CONVERGE_VEGA_DIR_DEFAULT ""
#endif

namespace converge::runners {

namespace fs = std::filesystem;
using results::json;

namespace {

core::Expected<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string vega_dir() {
  const char* env = std::getenv("CONVERGE_VEGA_DIR");
  return env && *env ? std::string(env) : std::string(CONVERGE_VEGA_DIR_DEFAULT);
}

int report_main(const ReportRequest& q) {
  if (q.format != "html" && q.format != "md" && q.format != "csv")
    return bad_input(fmt::format("unknown report format '{}': html, md or csv", q.format));
  if (q.runs.empty()) return bad_input("report needs at least one run (id, unique id prefix, tag or document path)");

  // The libraries first: a missing install should not cost the reading of every run.
  analysis::ChartLibraries libs;
  if (q.format == "html") {
    const fs::path dir = vega_dir();
    std::vector<std::string> missing;
    for (auto [text, rel] : {std::pair{&libs.vega, "vega/build/vega.min.js"},
                             std::pair{&libs.vega_lite, "vega-lite/build/vega-lite.min.js"},
                             std::pair{&libs.vega_embed, "vega-embed/build/vega-embed.min.js"}}) {
      auto t = read_text(dir / rel);
      if (t) *text = std::move(*t);
      else missing.push_back((dir / rel).string());
    }
    if (!missing.empty())
      return failure(fmt::format("--format html needs the charting libraries, missing: {} (run scripts/install-deps.sh, "
                              "which installs them with npm into report/node_modules, or point CONVERGE_VEGA_DIR at a "
                              "node_modules directory with vega, vega-lite and vega-embed); --format md and csv need none",
                              fmt::join(missing, ", ")));
  }

  std::vector<json> runs;
  for (const auto& ref : q.runs) {
    auto doc = load_run(ref, q.db);
    if (!doc) return failure(doc.error());
    runs.push_back(std::move(*doc));
  }
  std::optional<json> baseline;
  if (!q.baseline.empty()) {
    auto doc = load_run(q.baseline, q.db);
    if (!doc) return failure("baseline: " + doc.error());
    baseline = std::move(*doc);
  }

  auto report = analysis::build_report(runs, baseline ? &*baseline : nullptr);
  if (!q.site.empty())
    for (const auto& run : runs) {
      auto found = expectations_for(q.site, q.partition, run.value("partition", ""));
      if (!found) return bad_input(found.error());
      analysis::add_acceptance(report, run.value("run_id", ""), found->site,
                               analysis::check_run(run, found->expectations));
    }
  const std::string text = q.format == "html" ? analysis::render_html(report, libs)
                           : q.format == "md" ? analysis::render_markdown(report)
                                              : analysis::render_csv(report);
  if (q.out.empty()) {
    std::cout << text;
    return std::cout.flush() ? 0 : failure("cannot write to standard output");
  }
  if (auto ok = results::write_file_atomic(q.out, text); !ok) return failure(ok.error());
  fmt::print(stderr, "report ({}, {} run(s){}{}) written to {}\n", q.format, runs.size(),
             baseline ? ", baseline " : "", baseline ? baseline->value("run_id", "") : "", q.out);
  return 0;
}

}  // namespace converge::runners
