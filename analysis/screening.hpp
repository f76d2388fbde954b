#pragma once
// Node screening: the same benchmark instance run on every node of a partition at once;
// nodes whose figure is far from the partition's median are outliers. Robust statistics
// (median and MAD across nodes), so one bad node cannot hide itself by moving the mean.
#include <map>
#include <string>
#include <vector>

#include "analysis/inventory_diff.hpp"
#include "results/run_document.hpp"

namespace converge::analysis {

struct ScreenOptions {
  double z_threshold = 3.5;    ///< modified z-score |0.6745 (x - median) / MAD| above which a node is an outlier
  double min_deviation = 0.10; ///< and the figure must differ from the median by at least this fraction
};

struct NodeFigure {
  std::string host;
  double value = 0;      ///< NaN when the node has no figure (failed, invalid, missing)
  std::string status;    ///< "ok", or the result's status, or "missing"
  std::string reason;
};

struct Outlier {
  std::string host;
  double value = 0;
  double deviation = 0;   ///< (value - median) / median; NaN for a node without a figure
  double z = 0;           ///< modified z-score; infinite when MAD is 0
  std::string verdict;    ///< "slow", "fast", or the status of a node without a figure
};

/// One instance's metric across the nodes.
struct ScreenGroup {
  int instance = -1;
  std::string benchmark, params;  ///< params as "n=4M threads=1" (the ones the suite gave)
  std::string metric, unit, direction;
  double median = 0, mad = 0;
  std::vector<NodeFigure> nodes;
  std::vector<Outlier> outliers;
  std::string note;  ///< e.g. "needs at least 3 nodes with figures"
};

/// Groups results (run-schema objects) by instance and the first metric, over `hosts`; a host
/// without a result for an instance counts as missing. `given` maps instance -> the params the
/// suite gave, for display.
std::vector<ScreenGroup> screen_nodes(const results::json& results, const std::vector<std::string>& hosts,
                                      const std::map<int, std::string>& given, const ScreenOptions& options);

/// What sets `host`'s inventory apart from the majority of `by_host` (at least 3 nodes).
/// Fields that differ between healthy nodes by nature (hostname, free memory, warnings,
/// SLURM_* rank and node variables) are ignored.
std::vector<Difference> inventory_differences(const std::map<std::string, results::json>& by_host,
                                              const std::string& host);

/// Median and median absolute deviation (raw, not scaled) of finite values.
std::pair<double, double> median_mad(std::vector<double> values);

}  // namespace converge::analysis
