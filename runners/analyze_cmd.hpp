#pragma once
// `converge compare`, `converge check` and `converge history`: stored runs read by analysis/.
#include <string>
#include <vector>

#include "analysis/acceptance.hpp"
#include "core/expected.hpp"

namespace converge::runners {

struct CompareRequest {
  std::string baseline, candidate;  ///< run ids, prefixes, tags, or document paths
  std::vector<std::string> partitions;  ///< --partitions: compare partitions instead
  std::string suite, base;          ///< with --partitions: the suite, and the partition to compare against
  double threshold = 0.05;
  std::string db;
  bool json = false;
};
int compare_main(const CompareRequest& request);

struct CheckRequest {
  std::string run, site, partition, db;
  std::string format = "table";  ///< table, md, junit
  std::string out;
};
int check_main(const CheckRequest& request);

/// A partition's reference figures as the acceptance check takes them (values in base units,
/// units from the workers' metric declarations, sources "site.yaml:27").
struct Expectations {
  std::string site, partition;
  std::vector<analysis::Expectation> expectations;
};
/// The partition is `partition`, else the run's (`run_partition`).
core::Expected<Expectations> expectations_for(const std::string& site, const std::string& partition,
                                              const std::string& run_partition);

struct HistoryRequest {
  std::string benchmark, partition, metric, db;
  std::vector<std::string> params;  ///< name=value the instance must have (given or resolved)
  double alpha = 0.01;
};
int history_main(const HistoryRequest& request);

}  // namespace converge::runners
