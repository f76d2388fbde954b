// io.posix.iops_* and io.posix.md_*: one process, tiny sizes, through the harness
// (run_instance with warm-ups, so that the untimed preparation of each timed repetition is
// exercised). Each test uses its own tier directory under /tmp and checks that nothing is left
// in it afterwards. Multi-rank runs are tried through mpirun (io/iops_metadata.md).
#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/harness.hpp"

namespace converge {
namespace {

namespace fs = std::filesystem;

// A fresh tier directory, removed (and checked empty) at the end of the test.
struct Tier {
  std::string path;
  explicit Tier(const std::string& under = "/tmp") {
    std::string templ = under + "/cvg-k-tier-XXXXXX";
    char* p = ::mkdtemp(templ.data());
    if (p != nullptr) path = p;
  }
  bool empty() const { return fs::is_empty(path); }
  ~Tier() {
    if (!path.empty()) fs::remove_all(path);
  }
};

core::RepetitionPolicy quick() {
  core::RepetitionPolicy p;
  p.warmup = 2;
  p.min_reps = 3;
  p.max_reps = 4;
  p.min_time_s = 0;
  p.budget_s = 20;
  return p;
}

core::Result run(const std::string& id, std::map<std::string, std::string> params) {
  const core::BenchmarkSpec* spec = core::Registry::instance().find(id);
  if (spec == nullptr) {
    ADD_FAILURE() << "not registered: " << id;
    return {};
  }
  core::Context ctx;
  return core::run_instance(*spec, params, quick(), ctx);
}

const core::MetricResult* metric(const core::Result& r, const std::string& name) {
  for (const auto& m : r.metrics)
    if (m.spec.name == name) return &m;
  return nullptr;
}

// Sets CONVERGE_TEST_CORRUPT_IO=1 for one scope.
struct CorruptSwitch {
  CorruptSwitch() { ::setenv("CONVERGE_TEST_CORRUPT_IO", "1", 1); }
  ~CorruptSwitch() { ::unsetenv("CONVERGE_TEST_CORRUPT_IO"); }
};

const char* kIds[] = {"io.posix.iops_read", "io.posix.iops_write", "io.posix.md_create", "io.posix.md_stat",
                      "io.posix.md_open_close", "io.posix.md_read", "io.posix.md_remove"};

TEST(IoIopsMdRegistry, SpecsDeclareTheCommonParameters) {
  for (const char* id : kIds) {
    const core::BenchmarkSpec* spec = core::Registry::instance().find(id);
    ASSERT_NE(spec, nullptr) << id;
    EXPECT_EQ(spec->family, "io");
    EXPECT_EQ(spec->backend, "posix");
    std::set<std::string> names;
    for (const auto& p : spec->params) {
      names.insert(p.name);
      EXPECT_FALSE(p.doc.empty()) << id << " " << p.name;
    }
    EXPECT_TRUE(names.count("path") && names.count("tier")) << id;
    ASSERT_FALSE(spec->metrics.empty());
    EXPECT_EQ(spec->metrics[0].name, std::string(id).find("iops") != std::string::npos ? "iops" : "rate");
  }
}

class Iops : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(Iops, RunsVerifiesAndLeavesNothing) {
  const auto& [id, threads] = GetParam();
  Tier tier;
  const auto r = run(id, {{"path", tier.path}, {"file_size", "1MiB"}, {"ops", "64"}, {"threads", std::to_string(threads)}});
  ASSERT_EQ(r.status, core::Status::ok) << r.reason;
  EXPECT_EQ(r.verification.status, core::VerifyStatus::passed);
  EXPECT_EQ(r.work.items, 64.0 * threads);
  EXPECT_EQ(r.work.bytes, 64.0 * threads * 4096);
  const auto* iops = metric(r, "iops");
  ASSERT_NE(iops, nullptr);
  EXPECT_GT(iops->value, 0);
  ASSERT_NE(metric(r, "bandwidth"), nullptr);
  EXPECT_NEAR(metric(r, "bandwidth")->value, iops->value * 4096, iops->value * 4096 * 1e-9);
  for (const char* key : {"latency_p50_s", "latency_p99_s", "latency_p99_9_s", "latency_max_s", "spread", "filesystem",
                          "scratch", "space", "cache", "queue_depth"})
    EXPECT_TRUE(r.notes.count(key)) << key;
  EXPECT_LE(std::stod(r.notes.at("latency_p50_s")), std::stod(r.notes.at("latency_p99_s")));
  EXPECT_LE(std::stod(r.notes.at("latency_p99_9_s")), std::stod(r.notes.at("latency_max_s")));
  EXPECT_NE(r.notes.at("latency_method").find(std::to_string(64 * threads) + " operations"), std::string::npos);
  EXPECT_EQ(r.params.at("path"), fs::canonical(tier.path).string());
  EXPECT_TRUE(tier.empty());
}

INSTANTIATE_TEST_SUITE_P(ReadWrite, Iops,
                         ::testing::Combine(::testing::Values("io.posix.iops_read", "io.posix.iops_write"),
                                            ::testing::Values(1, 4)));

TEST(IoIops, BufferedReadsDropTheCache) {
  Tier tier;
  for (const char* id : {"io.posix.iops_read", "io.posix.iops_write"}) {
    const auto r = run(id, {{"path", tier.path}, {"file_size", "1MiB"}, {"ops", "64"}, {"direct", "false"}});
    ASSERT_EQ(r.status, core::Status::ok) << id << ": " << r.reason;
    EXPECT_NE(r.notes.at("cache").find(std::string(id).ends_with("read") ? "DONTNEED" : "fsync"), std::string::npos);
  }
  EXPECT_TRUE(tier.empty());
}

TEST(IoIops, FileSizeIsRoundedToWholeOperations) {
  Tier tier;
  const auto r = run("io.posix.iops_read", {{"path", tier.path}, {"file_size", "100KiB"}, {"io_size", "8KiB"}, {"ops", "8"}});
  ASSERT_EQ(r.status, core::Status::ok) << r.reason;
  EXPECT_EQ(r.params.at("file_size"), std::to_string(96 * 1024));
}

TEST(IoIops, UnalignedIoSizeFails) {
  Tier tier;
  const auto r = run("io.posix.iops_read", {{"path", tier.path}, {"io_size", "1000"}, {"file_size", "1MiB"}});
  EXPECT_EQ(r.status, core::Status::failed);
  EXPECT_NE(r.reason.find("multiple of 512"), std::string::npos) << r.reason;
  EXPECT_TRUE(tier.empty());
}

// tmpfs refuses O_DIRECT: the result fails with EINVAL named, and nothing is left there.
TEST(IoIops, DirectOnTmpfsFailsWithTheReason) {
  struct statfs s {};
  if (::statfs("/dev/shm", &s) != 0 || s.f_type != 0x01021994 /* TMPFS_MAGIC */ || ::access("/dev/shm", W_OK) != 0)
    GTEST_SKIP() << "no writable tmpfs at /dev/shm";
  Tier tier("/dev/shm");
  ASSERT_FALSE(tier.path.empty());
  const auto r = run("io.posix.iops_read", {{"path", tier.path}, {"file_size", "64KiB"}, {"ops", "4"}});
  if (r.status == core::Status::ok) GTEST_SKIP() << "this kernel's tmpfs accepts O_DIRECT (Linux 6.6 and later)";
  EXPECT_EQ(r.status, core::Status::failed);
  EXPECT_NE(r.reason.find("O_DIRECT"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("EINVAL"), std::string::npos) << r.reason;
  EXPECT_TRUE(tier.empty());
}

TEST(IoIops, CorruptedBlockIsInvalid) {
  CorruptSwitch on;
  for (const char* id : {"io.posix.iops_read", "io.posix.iops_write"}) {
    Tier tier;
    const auto r = run(id, {{"path", tier.path}, {"file_size", "1MiB"}, {"ops", "32"}});
    EXPECT_EQ(r.status, core::Status::invalid) << id << ": " << r.reason;
    EXPECT_TRUE(r.metrics.empty());
    EXPECT_NE(r.reason.find("iops.0 offset 524288"), std::string::npos) << r.reason;
    EXPECT_TRUE(r.notes.count("fault_injection")) << id;
    EXPECT_TRUE(tier.empty()) << id;
  }
}

class Metadata : public ::testing::TestWithParam<std::tuple<std::string, int, bool>> {};

TEST_P(Metadata, RunsVerifiesAndLeavesNothing) {
  const auto& [phase, depth, shared] = GetParam();
  const std::string id = "io.posix." + phase;
  Tier tier;
  const auto r = run(id, {{"path", tier.path}, {"files", "50"}, {"depth", std::to_string(depth)},
                          {"shared_dir", shared ? "true" : "false"}});
  ASSERT_EQ(r.status, core::Status::ok) << r.reason;
  EXPECT_EQ(r.verification.status, core::VerifyStatus::passed);
  EXPECT_EQ(r.work.items, 50.0);
  ASSERT_NE(metric(r, "rate"), nullptr);
  EXPECT_GT(metric(r, "rate")->value, 0);
  EXPECT_EQ(r.samples_s.size(), 4u);
  EXPECT_NE(r.notes.at("spread").find("over 4 repetitions"), std::string::npos) << r.notes.at("spread");
  for (const char* key : {"mdtest_phase", "layout", "operation", "untimed", "filesystem", "scratch", "space"})
    EXPECT_TRUE(r.notes.count(key)) << key;
  EXPECT_NE(r.notes.at("layout").find(shared ? "shared" : "rank.<rank>"), std::string::npos) << r.notes.at("layout");
  EXPECT_TRUE(tier.empty());
}

INSTANTIATE_TEST_SUITE_P(Phases, Metadata,
                         ::testing::Combine(::testing::Values("md_create", "md_stat", "md_open_close", "md_read",
                                                              "md_remove"),
                                            ::testing::Values(0, 2), ::testing::Bool()));

TEST(IoMetadata, SmallFilesAreWrittenAndRead) {
  Tier tier;
  for (const char* id : {"io.posix.md_create", "io.posix.md_read"}) {
    const auto r = run(id, {{"path", tier.path}, {"files", "20"}, {"small_bytes", "1000"}});
    ASSERT_EQ(r.status, core::Status::ok) << id << ": " << r.reason;
    EXPECT_EQ(r.work.bytes, 20.0 * 1000);
    EXPECT_NE(r.verification.method.find("content"), std::string::npos);
  }
  EXPECT_EQ(run("io.posix.md_read", {{"path", tier.path}, {"files", "5"}}).params.at("small_bytes"), "4096");
  EXPECT_TRUE(tier.empty());
}

TEST(IoMetadata, CorruptedFileIsInvalid) {
  CorruptSwitch on;
  for (const char* id : {"io.posix.md_create", "io.posix.md_read"}) {
    Tier tier;
    const auto r = run(id, {{"path", tier.path}, {"files", "10"}, {"small_bytes", "64"}});
    EXPECT_EQ(r.status, core::Status::invalid) << id << ": " << r.reason;
    EXPECT_NE(r.reason.find("shared/f.0.0 offset 0"), std::string::npos) << r.reason;
    EXPECT_TRUE(r.notes.count("fault_injection"));
    EXPECT_TRUE(tier.empty());
  }
}

TEST(IoMetadata, MissingTierFails) {
  const auto r = run("io.posix.md_stat", {{"path", "/nonexistent/cvg-k"}, {"files", "5"}});
  EXPECT_EQ(r.status, core::Status::failed);
  EXPECT_NE(r.reason.find("/nonexistent/cvg-k"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace converge
