#pragma once
// `converge results ...`: the results store from the command line (list, show, tag, import,
// export, rm, reindex).
#include <string>
#include <vector>

#include "results/store.hpp"

namespace converge::runners {

struct ResultsRequest {
  std::string action;  ///< list, show, tag, import, export, rm, reindex
  std::string db;      ///< store path ("" = default_store_path())
  std::vector<std::string> args;
  std::string out;     ///< export: file ("" = standard output)
  bool json = false, remove = false;
  results::RunFilter filter;
};

int results_main(const ResultsRequest& request);

/// A run document from a file path, or from the store at `db` ("" = default) by id, unique
/// prefix or tag; refused unless this version reads its schema.
core::Expected<results::json> load_run(const std::string& ref, const std::string& db);

/// Indexes a run document into the store at `db` ("" = default); a warning on failure.
void index_run(const std::string& db, const std::string& document_path);

}  // namespace converge::runners
