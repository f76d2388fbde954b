#include "results/store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/timer.hpp"

namespace converge::results {

namespace fs = std::filesystem;

namespace {

// Schema migrations, in order: entry i takes the store from version i to i + 1. A store is
// never changed in place otherwise; a newer store than this build is refused.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, schema_version INTEGER NOT NULL, suite TEXT, site TEXT, partition TEXT,
  hosts TEXT, command_line TEXT, started_at TEXT, finished_at TEXT, complete INTEGER NOT NULL,
  path TEXT, inventory TEXT, document TEXT NOT NULL, imported_at TEXT NOT NULL);
CREATE TABLE results (
  id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  position INTEGER NOT NULL, instance INTEGER, benchmark TEXT NOT NULL, family TEXT, backend TEXT,
  host TEXT, rank INTEGER, params TEXT, status TEXT NOT NULL, reason TEXT, started_at TEXT, wall_s REAL);
CREATE INDEX results_run ON results(run_id);
CREATE INDEX results_benchmark ON results(benchmark);
CREATE TABLE metrics (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE, name TEXT, unit TEXT, kind TEXT,
  direction TEXT, value REAL, best REAL, ci_low REAL, ci_high REAL, fraction_of_peak REAL);
CREATE INDEX metrics_result ON metrics(result_id);
CREATE TABLE samples (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE, seq INTEGER NOT NULL, seconds REAL);
CREATE INDEX samples_result ON samples(result_id);
CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, tag TEXT NOT NULL, UNIQUE(run_id, tag));
)sql",
};

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error(fmt::format("SQL prepare failed: {} ({})", sqlite3_errmsg(db), sql.substr(0, 60)));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, long long v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<long long>(v)); }
  Stmt& bind(int i, double v) {
    if (std::isfinite(v)) sqlite3_bind_double(s_, i, v);
    else sqlite3_bind_null(s_, i);
    return *this;
  }
  /// true while a row is available.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(fmt::format("SQL step failed: {}", sqlite3_errmsg(db_)));
  }
  void run() {
    step();
    sqlite3_reset(s_);
  }
  std::string text(int c) const {
    const auto* t = sqlite3_column_text(s_, c);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  long long integer(int c) const { return sqlite3_column_int64(s_, c); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

double num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

}  // namespace

std::string default_store_path() {
  if (const char* p = std::getenv("CONVERGE_DB"); p != nullptr && *p != '\0') return p;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x == '/')
    return (fs::path(x) / "converge" / "results.db").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr ? home : ".") / ".local" / "share" / "converge" / "results.db").string();
}

Store::Store(Store&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
Store& Store::operator=(Store&& o) noexcept {
  std::swap(db_, o.db_);
  std::swap(path_, o.path_);
  return *this;
}
Store::~Store() {
  if (db_ != nullptr) sqlite3_close(db_);
}

core::Expected<void> Store::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return core::make_error(fmt::format("results store {}: {}", path_, msg));
  }
  return {};
}

int Store::version() const {
  Stmt s(db_, "PRAGMA user_version");
  return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

core::Expected<Store> Store::open(const std::string& path) {
  Store st;
  st.path_ = path;
  std::error_code ec;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return core::make_error(fmt::format("results store {}: cannot create its directory: {}", path, ec.message()));
  if (sqlite3_open_v2(path.c_str(), &st.db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    return core::make_error(fmt::format("results store {}: {}", path, st.db_ ? sqlite3_errmsg(st.db_) : "cannot open"));
  sqlite3_busy_timeout(st.db_, 60000);  // writers queue behind each other
  // WAL: readers never block the writer; FULL: a commit survives a power cut.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"})
    if (auto ok = st.exec(pragma); !ok) return core::make_error(ok.error());
  try {
    const int have = st.version();
    const int known = static_cast<int>(std::size(kMigrations));
    if (have > known)
      return core::make_error(fmt::format("results store {} has schema version {}; this converge knows up to {}",
                                          path, have, known));
    for (int v = have; v < known; ++v) {
      // One transaction per step, re-checking the version: another process may have migrated.
      if (auto ok = st.exec("BEGIN IMMEDIATE"); !ok) return core::make_error(ok.error());
      if (st.version() == v) {
        if (auto ok = st.exec(kMigrations[v]); !ok) {
          static_cast<void>(st.exec("ROLLBACK"));
          return core::make_error(ok.error());
        }
        if (auto ok = st.exec(fmt::format("PRAGMA user_version={}", v + 1)); !ok) {
          static_cast<void>(st.exec("ROLLBACK"));
          return core::make_error(ok.error());
        }
      }
      if (auto ok = st.exec("COMMIT"); !ok) return core::make_error(ok.error());
    }
  } catch (const std::exception& e) {
    return core::make_error(fmt::format("results store {}: {}", path, e.what()));
  }
  return st;
}

core::Expected<void> Store::import(const json& doc, const std::string& source_path) {
  auto parsed = run_from_json(doc);
  if (!parsed) return core::make_error(parsed.error());
  const std::string id = doc.value("run_id", "");
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok;
  try {
    Stmt(db_, "DELETE FROM results WHERE run_id = ?").bind(1, id).run();
    Stmt(db_, R"sql(INSERT INTO runs (run_id, schema_version, suite, site, partition, hosts, command_line, started_at,
          finished_at, complete, path, inventory, document, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT(run_id) DO UPDATE SET schema_version=excluded.schema_version, suite=excluded.suite,
          site=excluded.site, partition=excluded.partition, hosts=excluded.hosts, command_line=excluded.command_line,
          started_at=excluded.started_at, finished_at=excluded.finished_at, complete=excluded.complete,
          path=excluded.path, inventory=excluded.inventory, document=excluded.document,
          imported_at=excluded.imported_at)sql")
        .bind(1, id)
        .bind(2, doc.value("schema_version", 0))
        .bind(3, doc.value("suite", ""))
        .bind(4, doc.value("site", ""))
        .bind(5, doc.value("partition", ""))
        .bind(6, doc.value("hosts", json::array()).dump())
        .bind(7, doc.value("command_line", ""))
        .bind(8, doc.value("started_at", ""))
        .bind(9, doc.value("finished_at", ""))
        .bind(10, doc.value("complete", false) ? 1 : 0)
        .bind(11, source_path.empty() ? std::string() : fs::absolute(source_path).string())
        .bind(12, doc.value("inventory", json::object()).dump())
        .bind(13, doc.dump())
        .bind(14, core::utc_timestamp())
        .run();
    Stmt result(db_, R"sql(INSERT INTO results (run_id, position, instance, benchmark, family, backend, host, rank,
                           params, status, reason, started_at, wall_s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?))sql");
    Stmt metric(db_, R"sql(INSERT INTO metrics (result_id, name, unit, kind, direction, value, best, ci_low, ci_high,
                           fraction_of_peak) VALUES (?,?,?,?,?,?,?,?,?,?))sql");
    Stmt sample(db_, "INSERT INTO samples (result_id, seq, seconds) VALUES (?,?,?)");
    int position = 0;
    for (const auto& r : doc.value("results", json::array())) {
      result.bind(1, id)
          .bind(2, position++)
          .bind(3, r.value("instance", -1))
          .bind(4, r.value("benchmark", ""))
          .bind(5, r.value("family", ""))
          .bind(6, r.value("backend", ""))
          .bind(7, r.value("host", ""))
          .bind(8, r.value("rank", 0))
          .bind(9, r.value("params", json::object()).dump())
          .bind(10, r.value("status", ""))
          .bind(11, r.value("reason", ""))
          .bind(12, r.value("started_at", ""))
          .bind(13, num(r, "wall_s"))
          .run();
      const long long rid = sqlite3_last_insert_rowid(db_);
      for (const auto& m : r.value("metrics", json::array())) {
        const json ci = m.value("ci", json::object());
        metric.bind(1, rid)
            .bind(2, m.value("name", ""))
            .bind(3, m.value("unit", ""))
            .bind(4, m.value("kind", ""))
            .bind(5, m.value("direction", ""))
            .bind(6, num(m, "value"))
            .bind(7, num(m, "best"))
            .bind(8, num(ci, "low"))
            .bind(9, num(ci, "high"))
            .bind(10, num(m, "fraction_of_peak"))
            .run();
      }
      int seq = 0;
      for (const auto& s : r.value("samples_s", json::array()))
        sample.bind(1, rid).bind(2, seq++).bind(3, s.is_number() ? s.get<double>() : std::nan("")).run();
    }
    // Test-only fault switch: hold the transaction open so a test can kill the writer in it.
    if (const char* pause = std::getenv("CONVERGE_STORE_TEST_PAUSE_MS")) {
      fmt::print(stderr, "converge store: test pause inside the transaction of {}\n", id);
      std::fflush(stderr);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(pause)));
    }
  } catch (const std::exception& e) {
    static_cast<void>(exec("ROLLBACK"));
    return core::make_error(fmt::format("results store {}: importing {}: {}", path_, id, e.what()));
  }
  return exec("COMMIT");
}

core::Expected<std::string> Store::import_file(const std::string& path) {
  auto doc = read_json_file(path);
  if (!doc) return core::make_error(doc.error());
  if (auto ok = import(*doc, path); !ok) return core::make_error(path + ": " + ok.error());
  return doc->value("run_id", "");
}

core::Expected<int> Store::reindex(const std::string& dir, std::vector<std::string>* skipped) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return core::make_error(fmt::format("reindex: '{}' is not a directory", dir));
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && it->path().extension() == ".json" && it->path().filename().string()[0] != '.')
      files.push_back(it->path().string());
  std::sort(files.begin(), files.end());
  if (auto ok = exec("BEGIN IMMEDIATE; DELETE FROM runs; COMMIT"); !ok) return core::make_error(ok.error());
  int n = 0;
  for (const auto& f : files) {
    auto doc = read_json_file(f);
    if (!doc || !doc->is_object() || !doc->contains("run_id") || !run_from_json(*doc)) {
      if (skipped) skipped->push_back(f);
      continue;
    }
    if (auto ok = import(*doc, f); !ok) return core::make_error(ok.error());
    ++n;
  }
  return n;
}

core::Expected<std::vector<StoredRun>> Store::list(const RunFilter& f) const {
  std::string sql = R"sql(SELECT r.run_id, r.suite, r.site, r.partition, r.started_at, r.finished_at, r.path, r.hosts,
      r.complete, (SELECT COUNT(*) FROM results x WHERE x.run_id = r.run_id),
      (SELECT COUNT(*) FROM results x WHERE x.run_id = r.run_id AND x.status = 'ok'),
      (SELECT group_concat(tag, ',') FROM (SELECT tag FROM tags t WHERE t.run_id = r.run_id ORDER BY tag))
    FROM runs r WHERE 1=1)sql";
  std::vector<std::string> args;
  auto add = [&](const std::string& value, const std::string& clause) {
    if (value.empty()) return;
    sql += " AND " + clause;
    args.push_back(value);
  };
  add(f.suite, "r.suite = ?");
  add(f.site, "r.site = ?");
  add(f.partition, "r.partition = ?");
  add(f.host, "EXISTS (SELECT 1 FROM json_each(r.hosts) WHERE value = ?)");
  add(f.tag, "EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.run_id AND t.tag = ?)");
  add(f.benchmark, "EXISTS (SELECT 1 FROM results x WHERE x.run_id = r.run_id AND x.benchmark = ?)");
  add(f.since, "r.started_at >= ?");
  if (!f.until.empty()) {
    sql += " AND substr(r.started_at, 1, ?) <= ?";  // "2026-11-25" includes that whole day
    args.push_back(std::to_string(f.until.size()));
    args.push_back(f.until);
  }
  if (f.complete_only) sql += " AND r.complete = 1";
  if (f.limit > 0)  // the newest `limit`, shown oldest first
    sql = "SELECT * FROM (" + sql + " ORDER BY r.started_at DESC, r.run_id DESC LIMIT " + std::to_string(f.limit) +
          ") ORDER BY 5, 1";
  else
    sql += " ORDER BY r.started_at, r.run_id";
  try {
    Stmt s(db_, sql);
    for (std::size_t i = 0; i < args.size(); ++i) s.bind(static_cast<int>(i + 1), args[i]);
    std::vector<StoredRun> out;
    while (s.step()) {
      StoredRun r;
      r.run_id = s.text(0), r.suite = s.text(1), r.site = s.text(2), r.partition = s.text(3);
      r.started_at = s.text(4), r.finished_at = s.text(5), r.path = s.text(6);
      r.hosts = json::parse(s.text(7).empty() ? "[]" : s.text(7)).get<std::vector<std::string>>();
      r.complete = s.integer(8) != 0;
      r.results = static_cast<int>(s.integer(9));
      r.ok = static_cast<int>(s.integer(10));
      std::stringstream tags(s.text(11));
      for (std::string t; std::getline(tags, t, ',');) r.tags.push_back(t);
      out.push_back(std::move(r));
    }
    return out;
  } catch (const std::exception& e) {
    return core::make_error(fmt::format("results store {}: {}", path_, e.what()));
  }
}

core::Expected<json> Store::document(const std::string& run_id) const {
  try {
    Stmt s(db_, "SELECT document FROM runs WHERE run_id = ?");
    s.bind(1, run_id);
    if (!s.step()) return core::make_error(fmt::format("no run '{}' in the results store {}", run_id, path_));
    return json::parse(s.text(0));
  } catch (const std::exception& e) {
    return core::make_error(fmt::format("results store {}: {}", path_, e.what()));
  }
}

core::Expected<std::string> Store::resolve(const std::string& ref) const {
  try {
    {
      Stmt s(db_, "SELECT run_id FROM runs WHERE run_id = ?");
      s.bind(1, ref);
      if (s.step()) return s.text(0);
    }
    {
      Stmt s(db_, R"sql(SELECT r.run_id FROM runs r JOIN tags t ON t.run_id = r.run_id WHERE t.tag = ?
                        ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1)sql");
      s.bind(1, ref);
      if (s.step()) return s.text(0);
    }
    Stmt s(db_, "SELECT run_id FROM runs WHERE substr(run_id, 1, length(?)) = ? ORDER BY run_id LIMIT 3");
    s.bind(1, ref).bind(2, ref);
    std::vector<std::string> hits;
    while (s.step()) hits.push_back(s.text(0));
    if (hits.size() == 1) return hits[0];
    if (hits.size() > 1)
      return core::make_error(fmt::format("'{}' matches several runs ({}, ...): give more of the id", ref,
                                          fmt::join(hits, ", ")));
    return core::make_error(fmt::format("no run or tag '{}' in the results store {} (`converge results list`)", ref,
                                        path_));
  } catch (const std::exception& e) {
    return core::make_error(fmt::format("results store {}: {}", path_, e.what()));
  }
}

core::Expected<void> Store::tag(const std::string& run_id, const std::vector<std::string>& tags, bool remove) {
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok;
  try {
    Stmt exists(db_, "SELECT 1 FROM runs WHERE run_id = ?");
    exists.bind(1, run_id);
    if (!exists.step()) {
      static_cast<void>(exec("ROLLBACK"));
      return core::make_error(fmt::format("no run '{}' in the results store {}", run_id, path_));
    }
    Stmt s(db_, remove ? "DELETE FROM tags WHERE run_id = ? AND tag = ?"
                       : "INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)");
    for (const auto& t : tags) s.bind(1, run_id).bind(2, t).run();
  } catch (const std::exception& e) {
    static_cast<void>(exec("ROLLBACK"));
    return core::make_error(fmt::format("results store {}: {}", path_, e.what()));
  }
  return exec("COMMIT");
}

core::Expected<void> Store::remove(const std::string& run_id) {
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok;
  try {
    Stmt s(db_, "DELETE FROM runs WHERE run_id = ?");
    s.bind(1, run_id).run();
    if (sqlite3_changes(db_) == 0) {
      static_cast<void>(exec("ROLLBACK"));
      return core::make_error(fmt::format("no run '{}' in the results store {}", run_id, path_));
    }
  } catch (const std::exception& e) {
    static_cast<void>(exec("ROLLBACK"));
    return core::make_error(fmt::format("results store {}: {}", path_, e.what()));
  }
  return exec("COMMIT");
}

core::Expected<std::vector<std::string>> Store::runs_with(const std::string& benchmark,
                                                           const std::string& partition) const {
  try {
    Stmt s(db_, R"sql(SELECT DISTINCT r.run_id, r.started_at FROM runs r JOIN results x ON x.run_id = r.run_id
                      WHERE x.benchmark = ? AND (? = '' OR r.partition = ?) ORDER BY r.started_at, r.run_id)sql");
    s.bind(1, benchmark).bind(2, partition).bind(3, partition);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  } catch (const std::exception& e) {
    return core::make_error(fmt::format("results store {}: {}", path_, e.what()));
  }
}

std::string Store::integrity() const {
  try {
    Stmt s(db_, "PRAGMA integrity_check");
    std::string out;
    while (s.step()) out += (out.empty() ? "" : "; ") + s.text(0);
    return out;
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace converge::results
