#pragma once
// `converge compare`, `converge check` and `converge history`: stored runs read by analysis/.
#include <string>
#include <vector>

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

struct HistoryRequest {
  std::string benchmark, partition, metric, db;
  std::vector<std::string> params;  ///< name=value the instance must have (given or resolved)
  double alpha = 0.01;
};
int history_main(const HistoryRequest& request);

}  // namespace converge::runners
