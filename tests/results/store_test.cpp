// The results store: schema and migrations, import/list/filter/tag/resolve/remove/reindex,
// and the promises about concurrent writers and a writer killed mid-transaction.
#include "results/store.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

namespace converge::results {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("converge_store_test_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// A run document with `n` ok results of micro.stream.triad, each with samples and a metric.
json make_run(const std::string& id, const std::string& started, const std::string& partition = "cpu",
              int n = 2, const std::string& suite = "quick") {
  RunDocument doc;
  doc.run_id = id;
  doc.suite = suite;
  doc.partition = partition;
  doc.hosts = {"node001"};
  doc.started_at = started;
  doc.finished_at = started;
  doc.complete = true;
  doc.inventory.hostname = "node001";
  for (int i = 0; i < n; ++i) {
    core::Result r;
    r.benchmark = "micro.stream.triad";
    r.family = "micro";
    r.backend = "cpu";
    r.instance = i;
    r.host = "node001";
    r.params = {{"n", std::to_string(1000 * (i + 1))}};
    r.samples_s = {0.010 + i * 1e-4, 0.011, 0.012};
    r.time.n = 3;
    r.time.median = 0.011;
    core::MetricResult m;
    m.spec = {"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better};
    m.value = 1e10 * (i + 1);
    r.metrics = {m};
    r.verification = core::Verification::passed("exact", 0, 0);
    doc.results.push_back(r);
  }
  return to_json(doc);
}

int count(const Store& s, const RunFilter& f = {}) {
  auto runs = s.list(f);
  EXPECT_TRUE(runs.ok()) << runs.error();
  return runs ? static_cast<int>(runs->size()) : -1;
}

TEST(Store, CreatesSchemaAtCurrentVersion) {
  TempDir dir;
  auto s = Store::open(dir / "sub/dir/results.db");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->version(), kStoreVersion);
  EXPECT_EQ(s->integrity(), "ok");
  EXPECT_EQ(count(*s), 0);
}

TEST(Store, RefusesANewerStore) {
  TempDir dir;
  { ASSERT_TRUE(Store::open(dir / "r.db").ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "r.db").c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto s = Store::open(dir / "r.db");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("schema version 99; this converge knows up to 1"), std::string::npos) << s.error();
}

TEST(Store, ImportListShowExport) {
  TempDir dir;
  auto s = Store::open(dir / "r.db");
  ASSERT_TRUE(s.ok());
  const json a = make_run("20261101T000000Z-aaaaaa", "2026-11-01T00:00:00.000Z", "cpu", 2);
  const json b = make_run("20261102T000000Z-bbbbbb", "2026-11-02T00:00:00.000Z", "gpu", 3, "node");
  ASSERT_TRUE(s->import(a, "").ok());
  ASSERT_TRUE(s->import(b, "").ok());
  auto runs = s->list({});
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].run_id, "20261101T000000Z-aaaaaa");  // oldest first
  EXPECT_EQ((*runs)[1].results, 3);
  EXPECT_EQ((*runs)[1].ok, 3);
  EXPECT_EQ((*runs)[1].partition, "gpu");
  auto doc = s->document("20261102T000000Z-bbbbbb");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(*doc, b);  // the document comes back as imported
  EXPECT_FALSE(s->document("nope").ok());
}

TEST(Store, Filters) {
  TempDir dir;
  auto s = Store::open(dir / "r.db");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->import(make_run("20261101T000000Z-aaaaaa", "2026-11-01T10:00:00.000Z", "cpu"), "").ok());
  ASSERT_TRUE(s->import(make_run("20261102T000000Z-bbbbbb", "2026-11-02T10:00:00.000Z", "gpu", 1, "node"), "").ok());
  ASSERT_TRUE(s->import(make_run("20261103T000000Z-cccccc", "2026-11-03T10:00:00.000Z", "cpu"), "").ok());
  RunFilter f;
  f.partition = "cpu";
  EXPECT_EQ(count(*s, f), 2);
  f = {};
  f.suite = "node";
  EXPECT_EQ(count(*s, f), 1);
  f = {};
  f.since = "2026-11-02";
  EXPECT_EQ(count(*s, f), 2);
  f = {};
  f.until = "2026-11-02";  // inclusive of that day
  EXPECT_EQ(count(*s, f), 2);
  f = {};
  f.host = "node001";
  EXPECT_EQ(count(*s, f), 3);
  f.host = "node999";
  EXPECT_EQ(count(*s, f), 0);
  f = {};
  f.benchmark = "micro.stream.triad";
  EXPECT_EQ(count(*s, f), 3);
  f = {};
  f.limit = 2;
  auto newest = s->list(f);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].run_id, "20261102T000000Z-bbbbbb");
  EXPECT_EQ((*newest)[1].run_id, "20261103T000000Z-cccccc");
}

TEST(Store, TagsResolveAndSurviveReimport) {
  TempDir dir;
  auto s = Store::open(dir / "r.db");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->import(make_run("20261101T000000Z-aaaaaa", "2026-11-01T00:00:00.000Z"), "").ok());
  ASSERT_TRUE(s->import(make_run("20261101T000000Z-aabbbb", "2026-11-01T01:00:00.000Z"), "").ok());
  ASSERT_TRUE(s->tag("20261101T000000Z-aaaaaa", {"baseline", "driver-550"}, false).ok());
  ASSERT_TRUE(s->tag("20261101T000000Z-aabbbb", {"baseline"}, false).ok());
  EXPECT_EQ(*s->resolve("baseline"), "20261101T000000Z-aabbbb");  // the newest with the tag
  EXPECT_EQ(*s->resolve("driver-550"), "20261101T000000Z-aaaaaa");
  EXPECT_EQ(*s->resolve("20261101T000000Z-aab"), "20261101T000000Z-aabbbb");
  auto ambiguous = s->resolve("20261101T000000Z-aa");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error().find("matches several runs"), std::string::npos);
  EXPECT_FALSE(s->resolve("zzz").ok());
  EXPECT_FALSE(s->tag("nope", {"x"}, false).ok());
  // A resumed run is imported again: its results are replaced, its tags kept.
  ASSERT_TRUE(s->import(make_run("20261101T000000Z-aaaaaa", "2026-11-01T00:00:00.000Z", "cpu", 5), "").ok());
  RunFilter f;
  f.tag = "driver-550";
  auto runs = s->list(f);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].results, 5);
  ASSERT_TRUE(s->tag("20261101T000000Z-aaaaaa", {"driver-550"}, true).ok());
  EXPECT_EQ(count(*s, f), 0);
}

TEST(Store, RemoveAndReindex) {
  TempDir dir;
  auto s = Store::open(dir / "r.db");
  ASSERT_TRUE(s.ok());
  fs::create_directories(dir.path() / "docs/deeper");
  ASSERT_TRUE(write_json_atomic(dir / "docs/a.json", make_run("20261101T000000Z-aaaaaa", "2026-11-01T00:00:00.000Z")).ok());
  ASSERT_TRUE(write_json_atomic(dir / "docs/deeper/b.json", make_run("20261102T000000Z-bbbbbb", "2026-11-02T00:00:00.000Z")).ok());
  ASSERT_TRUE(write_json_atomic(dir / "docs/not-a-run.json", json{{"hello", 1}}).ok());
  ASSERT_TRUE(s->import_file(dir / "docs/a.json").ok());
  ASSERT_TRUE(s->remove("20261101T000000Z-aaaaaa").ok());
  EXPECT_FALSE(s->remove("20261101T000000Z-aaaaaa").ok());
  EXPECT_EQ(count(*s), 0);
  EXPECT_TRUE(fs::exists(dir / "docs/a.json")) << "rm never touches the document";
  std::vector<std::string> skipped;
  auto n = s->reindex(dir / "docs", &skipped);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(*n, 2);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("not-a-run.json"), std::string::npos);
  auto runs = s->list({});
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].path, fs::absolute(dir / "docs/a.json").string());
  auto bad = s->import(json{{"schema_version", 99}, {"run_id", "x"}}, "");
  EXPECT_FALSE(bad.ok());
}

// Children write through their own connections; the parent checks what survived.
int child_import(const std::string& db, int first, int n, int pause_ms) {
  if (pause_ms > 0) setenv("CONVERGE_STORE_TEST_PAUSE_MS", std::to_string(pause_ms).c_str(), 1);
  auto s = Store::open(db);
  if (!s) return 2;
  for (int i = first; i < first + n; ++i)
    if (!s->import(make_run(fmt::format("20261101T000000Z-{:06x}", i), "2026-11-01T00:00:00.000Z", "cpu", 20), ""))
      return 3;
  return 0;
}

TEST(Store, TwoWritersAtOnceAndOneKilledMidWrite) {
  TempDir dir;
  const std::string db = dir / "r.db";
  ASSERT_TRUE(Store::open(db).ok());
  // A writer that stops inside its transaction (its rows written, not committed) and says so
  // on stderr, read here through a pipe; it is killed there.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t victim = fork();
  ASSERT_GE(victim, 0);
  if (victim == 0) {
    dup2(fds[1], 2);
    _exit(child_import(db, 5000, 1, 60000));
  }
  close(fds[1]);
  std::string said;
  char buf[256];
  for (ssize_t n; said.find("test pause inside the transaction") == std::string::npos &&
                  (n = read(fds[0], buf, sizeof buf)) > 0;)
    said.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  ASSERT_NE(said.find("test pause inside the transaction"), std::string::npos) << said;
  // Two writers start while it holds the write lock; they wait for it, not fail.
  std::vector<pid_t> writers;
  for (int w = 0; w < 2; ++w) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(child_import(db, w * 1000, 40, 0));
    writers.push_back(pid);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(victim, SIGKILL);
  int status = 0;
  waitpid(victim, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  for (pid_t pid : writers) {
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer failed: status " << status;
  }
  auto s = Store::open(db);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->integrity(), "ok");
  auto runs = s->list({});
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 80u) << "every committed run, and not the killed writer's";
  for (const auto& r : *runs) {
    EXPECT_EQ(r.results, 20) << r.run_id;
    auto doc = s->document(r.run_id);
    ASSERT_TRUE(doc.ok()) << doc.error();
    EXPECT_EQ(doc->value("run_id", ""), r.run_id);
  }
  EXPECT_FALSE(s->resolve("20261101T000000Z-001388").ok()) << "the killed writer's run (0x1388 = 5000) must be absent";
}

}  // namespace
}  // namespace converge::results
