#pragma once
// `converge report RUN... [--format html|md|csv] [-o FILE] [--baseline RUN] [--db PATH]`:
// stored runs (or run document files) as a report for people or spreadsheets. The model and
// the writers are in analysis/report.hpp; this finds the runs and the charting libraries.
#include <string>
#include <vector>

namespace converge::runners {

struct ReportRequest {
  std::vector<std::string> runs;  ///< run ids, unique id prefixes, tags, or document paths
  std::string format = "html";    ///< html, md, csv
  std::string out;                ///< file to write (atomically); "" = standard output
  std::string baseline;           ///< run to compare each run with ("" = none)
  std::string db;                 ///< results store ("" = default_store_path())
  std::string site, partition;    ///< with a site: each run checked against its partition's references
};

/// The directory holding the npm packages vega, vega-lite and vega-embed:
/// $CONVERGE_VEGA_DIR, else the source tree's report/node_modules (compiled in).
std::string vega_dir();

/// 0 written; 1 a run could not be read, the charting libraries are missing (html) or the
/// output could not be written; 2 bad input (unknown format, no run).
int report_main(const ReportRequest& request);

}  // namespace converge::runners
