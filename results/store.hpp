#pragma once
// The results store: an SQLite index over run documents (DESIGN.md, Results and reports).
// The documents are the truth: the store keeps each one as imported, verbatim, beside the
// rows that make it searchable (runs, results, metrics, raw samples, inventory, tags), so
// `converge results export` gives the document back and `reindex DIR` rebuilds the index
// from a directory of documents. It lives on local disk (SQLite's locking is unreliable on
// NFS, Lustre and GPFS); the documents may live anywhere.
//
// Every write is one transaction: a crash loses nothing committed, and concurrent writers
// wait for each other (busy timeout) rather than corrupt anything.
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "results/run_document.hpp"

struct sqlite3;

namespace converge::results {

/// The schema version this build writes; older stores are migrated on open.
inline constexpr int kStoreVersion = 1;

/// $CONVERGE_DB, else $XDG_DATA_HOME/converge/results.db, else ~/.local/share/converge/results.db.
std::string default_store_path();

/// One stored run, as `converge results list` shows it.
struct StoredRun {
  std::string run_id, suite, site, partition, started_at, finished_at, path;
  std::vector<std::string> hosts, tags;
  bool complete = false;
  int results = 0, ok = 0;  ///< result count, of which status ok
};

struct RunFilter {
  std::string suite, site, partition, host, tag, benchmark;
  std::string since, until;  ///< ISO 8601 prefixes compared with started_at ("2026-11", "2026-11-25T10")
  bool complete_only = false;
  int limit = 0;             ///< 0: all
};

class Store {
 public:
  /// Opens (creating the file, its directory and the schema) and migrates to kStoreVersion.
  static core::Expected<Store> open(const std::string& path);
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  Store(const Store&) = delete;
  ~Store();

  const std::string& path() const { return path_; }
  int version() const;

  /// Indexes a run document (as read from `source_path`, "" when none) in one transaction,
  /// replacing an earlier import of the same run id (an incomplete run resumed later).
  core::Expected<void> import(const json& document, const std::string& source_path);
  /// Reads and imports a document file.
  core::Expected<std::string> import_file(const std::string& path);
  /// Drops every row and imports each *.json run document under `dir` (recursively).
  /// Returns how many were indexed; files that are not run documents are listed in `skipped`.
  core::Expected<int> reindex(const std::string& dir, std::vector<std::string>* skipped = nullptr);

  core::Expected<std::vector<StoredRun>> list(const RunFilter& filter) const;
  /// The document as imported.
  core::Expected<json> document(const std::string& run_id) const;
  /// A run id from an id, a unique id prefix, or a tag (the newest run with it).
  core::Expected<std::string> resolve(const std::string& ref) const;
  core::Expected<void> tag(const std::string& run_id, const std::vector<std::string>& tags, bool remove);
  core::Expected<void> remove(const std::string& run_id);
  /// Runs with results of `benchmark` (optionally on one partition), oldest first.
  core::Expected<std::vector<std::string>> runs_with(const std::string& benchmark, const std::string& partition) const;
  /// PRAGMA integrity_check: "ok" or the problems.
  std::string integrity() const;

 private:
  Store() = default;
  core::Expected<void> exec(const std::string& sql) const;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace converge::results
