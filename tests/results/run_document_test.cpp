#include "results/run_document.hpp"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <regex>

#include <gtest/gtest.h>

namespace converge::results {
namespace {

namespace fs = std::filesystem;

const fs::path kRepoRoot = fs::path(__FILE__).parent_path().parent_path().parent_path();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

core::Peak sample_peak() {
  return {1.6e11, "FLOP/s", "model", "2 cores x 2.5 GHz x 2 FMA x 8 lanes x 2"};
}

/// An ok result in which every field differs from its default.
core::Result ok_result() {
  core::Result r;
  r.benchmark = "micro.fma.fp64";
  r.family = "micro";
  r.backend = "cpu";
  r.params = {{"threads", "2"}, {"vector", "avx2"}};
  r.status = core::Status::ok;
  r.reason = "met the CI target";
  r.started_at = "2026-11-23T10:15:00.123Z";
  r.finished_at = "2026-11-23T10:15:02.456Z";
  r.policy = {1, 6, 100, 0.25, 0.05, 10.0};
  r.warmup_reps = 1;
  r.samples_s = {0.0102, 0.0100, 0.0101, 0.0103, 0.0099, 0.0100};
  r.time = {6, 0.0099, 0.0103, 0.01008333, 0.01005, 1.47e-4, 0.0146, true, 0.0099, 0.0103, 0.96875};
  r.stop_reason = "ci_target";
  r.wall_s = 2.333;
  r.timer = "host_steady_clock";
  r.timer_resolution_s = 1e-9;
  r.work = {1.6e9, 64.0, 3.0};
  core::MetricResult m;
  m.spec = {"flop_rate", "FLOP/s", core::MetricKind::rate, core::Quantity::flops,
            core::Direction::higher_is_better};
  m.value = 1.592e11;
  m.best = 1.616e11;
  m.ci_valid = true;
  m.ci_low = 1.553e11;
  m.ci_high = 1.616e11;
  m.peak = sample_peak();
  m.fraction_of_peak = 0.995;
  core::MetricResult latency;
  latency.spec = {"latency", "s", core::MetricKind::time_per_item, core::Quantity::items,
                  core::Direction::lower_is_better};
  latency.value = 3.35e-3;
  latency.best = 3.3e-3;
  r.metrics = {m, latency};
  r.verification = core::Verification::passed("all elements exact", 1e-16, 1e-12);
  r.verification.message = "checked 4096 elements";
  r.notes = {{"isa", "avx2"}, {"threads", "2"}};
  return r;
}

/// An invalid result whose verification error is NaN (written as null).
core::Result invalid_result() {
  core::Result r = ok_result();
  r.benchmark = "micro.stream.triad";
  r.status = core::Status::invalid;
  r.reason = "verification failed: element 17: nan != 5.0";
  r.metrics.clear();
  r.verification =
      core::Verification::failed("all elements", "element 17: nan != 5.0", kNaN, 1e-12);
  return r;
}

RunDocument sample_document() {
  RunDocument doc;
  doc.run_id = "20261123T101500Z-3f9a2c";
  doc.suite = "quick";
  doc.site = "example-site";
  doc.partition = "cpu-nodes";
  doc.hosts = {"node001", "node002"};
  doc.command_line = "converge run --suite quick";
  doc.started_at = "2026-11-23T10:15:00.000Z";
  doc.finished_at = "2026-11-23T10:20:00.000Z";
  doc.complete = false;
  auto& inv = doc.inventory;
  inv.hostname = "node001";
  inv.cpu = {"GenuineIntel", "Intel(R) Xeon(R) Gold 6338", 6, 106, 6, 2, 64, 128, 2,
             {{1, "data", 49152, 64, 2}, {3, "unified", 50331648, 2, 64}},
             {"avx2", "fma", "avx512f"}, 2.0, 3.2, "cpuinfo", true, "icelake"};
  inv.memory = {270000000000ull, 250000000000ull, 269000000000ull};
  inv.os = "Debian GNU/Linux 12 (bookworm)";
  inv.kernel = "6.1.0-18-amd64";
  inv.arch = "x86_64";
  inv.compiler = "GNU 12.2.0";
  inv.compiler_flags = "-O3 -DNDEBUG";
  inv.build_type = "Release";
  inv.blas = {"OpenBLAS", "0.3.21", "OpenBLAS 0.3.21 DYNAMIC_ARCH", "SkylakeX", 64};
  inv.suite_version = "0.1.0";
  inv.git_revision = "57ea0a7";
  inv.topology_source = "hwloc 2.9.0";
  inv.environment = {{"OMP_NUM_THREADS", "64"}, {"OMP_PROC_BIND", "close"}};
  core::GpuInventory g;
  g.index = 1;
  g.name = "NVIDIA H100 80GB HBM3";
  g.uuid = "GPU-8f3c0102-a0b1-c2d3-e4f5-061728394a5b";
  g.pci_bus_id = "0000:1b:00.0";
  g.cc_major = 9;
  g.sm_count = 132;
  g.max_sm_mhz = 1980;
  g.max_mem_mhz = 2619;
  g.current_sm_mhz = 345;
  g.current_mem_mhz = 2619;
  g.memory_bytes = 85045231616ull;
  g.bus_width_bits = 5120;
  g.l2_bytes = 52428800;
  g.ecc = "on";
  g.power_limit_w = 700;
  g.driver_version = "580.65.06 (CUDA 13.0)";
  g.runtime_version = "13.0";
  g.nvml = "";
  inv.gpus = {g};
  inv.gpu_probe = "CUDA runtime 13.0: 1 device";
  core::StorageInventory flash;
  flash.tier = "flash";
  flash.path = "/flash/tmp";
  flash.real_path = "/flash/tmp";
  flash.type = "xfs";
  flash.mount_point = "/flash";
  flash.source = "/dev/nvme0n1";
  flash.options = "rw,noatime,attr2,inode64";
  flash.total_bytes = 3840755982336ull;
  flash.available_bytes = 3500000000000ull;
  core::StorageInventory gone;
  gone.tier = "bb";
  gone.path = "/bb/none";
  gone.error = "ENOENT: No such file or directory: resolving the tier path /bb/none";
  inv.storage = {flash, gone};
  inv.warnings = {"OpenBLAS uses Prescott kernels: set OPENBLAS_CORETYPE=SkylakeX"};
  doc.peaks = {{"cpu.fp64", sample_peak()}, {"cpu.fp64.core", {2.5e9, "FLOP/s", "config", ""}}};
  doc.results = {ok_result(), invalid_result()};
  return doc;
}

/// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("converge_run_document_test_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Names of leftover temporary files (".<name>.tmpXXXXXX") anywhere under `dir`.
std::vector<std::string> temp_files(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp") != std::string::npos)
      found.push_back(e.path().string());
  return found;
}

TEST(RunDocument, RoundTripPreservesEveryField) {
  const json first = to_json(sample_document());
  const auto parsed = run_from_json(json::parse(first.dump()));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(to_json(*parsed), first);

  // Spot checks that the struct, not only the JSON, came back.
  const RunDocument& doc = *parsed;
  EXPECT_FALSE(doc.complete);
  ASSERT_EQ(doc.inventory.cpu.caches.size(), 2u);
  EXPECT_EQ(doc.inventory.cpu.caches[1].size_bytes, 50331648u);
  EXPECT_EQ(doc.inventory.environment.at("OMP_PROC_BIND"), "close");
  EXPECT_EQ(doc.inventory.warnings.size(), 1u);
  ASSERT_EQ(doc.inventory.gpus.size(), 1u);
  EXPECT_EQ(doc.inventory.gpus[0].cc_major, 9);
  EXPECT_EQ(doc.inventory.gpus[0].cc_minor, 0);
  EXPECT_EQ(doc.inventory.gpus[0].memory_bytes, 85045231616ull);
  EXPECT_EQ(doc.inventory.gpu_probe, "CUDA runtime 13.0: 1 device");
  ASSERT_EQ(doc.inventory.storage.size(), 2u);
  EXPECT_EQ(doc.inventory.storage[0].options, "rw,noatime,attr2,inode64");
  EXPECT_EQ(doc.inventory.storage[0].total_bytes, 3840755982336ull);
  EXPECT_EQ(doc.inventory.storage[1].real_path, "");
  EXPECT_NE(doc.inventory.storage[1].error.find("ENOENT"), std::string::npos);
  // A tier that could not be described carries its name, path and why, and no figure.
  EXPECT_EQ(first["inventory"]["storage"][1],
            json({{"tier", "bb"}, {"path", "/bb/none"}, {"error", "ENOENT: No such file or directory: resolving the tier path /bb/none"}}));
  EXPECT_EQ(doc.peaks.at("cpu.fp64.core").source, "config");
  ASSERT_EQ(doc.results.size(), 2u);
  const auto& ok = doc.results[0];
  EXPECT_EQ(ok.samples_s, sample_document().results[0].samples_s);
  ASSERT_TRUE(ok.metrics[0].peak.has_value());
  EXPECT_DOUBLE_EQ(*ok.metrics[0].fraction_of_peak, 0.995);
  EXPECT_FALSE(ok.metrics[1].peak.has_value());
  EXPECT_EQ(ok.metrics[1].spec.kind, core::MetricKind::time_per_item);
  EXPECT_EQ(ok.notes.at("isa"), "avx2");
  EXPECT_EQ(doc.results[1].status, core::Status::invalid);
  EXPECT_EQ(doc.results[1].verification.status, core::VerifyStatus::failed);
  EXPECT_TRUE(std::isnan(doc.results[1].verification.max_error));
}

TEST(RunDocument, NonFiniteNumbersAreWrittenAsNull) {
  core::Result r = ok_result();
  r.wall_s = std::numeric_limits<double>::infinity();
  r.verification.max_error = kNaN;
  const json j = to_json(r);
  EXPECT_TRUE(j["wall_s"].is_null());
  EXPECT_TRUE(j["verification"]["max_error"].is_null());
  const std::string text = j.dump();
  EXPECT_EQ(text.find("nan"), std::string::npos);
  EXPECT_EQ(text.find("inf"), std::string::npos);
  EXPECT_TRUE(std::isnan(result_from_json(json::parse(text)).wall_s));
}

TEST(RunDocument, ResultKeysAreInTheDocumentedOrder) {
  const json result = to_json(ok_result());
  std::vector<std::string> keys;
  for (const auto& [key, value] : result.items()) keys.push_back(key);
  const std::vector<std::string> expected = {
      "benchmark",  "family",      "backend", "instance", "host", "rank", "params", "status",  "reason",
      "started_at", "finished_at", "policy",  "warmup_reps", "samples_s", "time",
      "stop_reason", "wall_s",     "timer",   "work",   "metrics", "verification", "notes", "energy"};
  EXPECT_EQ(keys, expected);
}

TEST(RunDocument, RefusesOtherSchemaVersions) {
  json j = to_json(sample_document());
  j["schema_version"] = kSchemaVersion + 1;
  auto newer = run_from_json(j);
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().find("schema_version " + std::to_string(kSchemaVersion + 1)),
            std::string::npos) << newer.error();
  EXPECT_NE(newer.error().find("reads schema_version " + std::to_string(kSchemaVersion)),
            std::string::npos) << newer.error();

  j.erase("schema_version");
  auto missing = run_from_json(j);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("no schema_version"), std::string::npos) << missing.error();
}

TEST(RunDocument, BadFieldsAreReportedWithTheirPath) {
  json j = to_json(sample_document());
  j["results"][1]["time"]["median"] = "fast";
  auto wrong_type = run_from_json(j);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().find("results[1].time.median"), std::string::npos)
      << wrong_type.error();

  j = to_json(sample_document());
  j["results"][0]["metrics"][0]["kind"] = "average";
  auto bad_enum = run_from_json(j);
  ASSERT_FALSE(bad_enum.ok());
  EXPECT_NE(bad_enum.error().find("results[0].metrics[0].kind: unknown value 'average'"),
            std::string::npos) << bad_enum.error();
}

TEST(RunDocumentFiles, WriteThenReadBack) {
  TempDir dir;
  const std::string path = (dir.path() / "run.json").string();
  const json doc = to_json(sample_document());
  ASSERT_TRUE(write_json_atomic(path, doc).ok());
  auto back = read_json_file(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, doc);

  // Replacing an existing file.
  json changed = doc;
  changed["complete"] = true;
  ASSERT_TRUE(write_json_atomic(path, changed).ok());
  EXPECT_EQ(*read_json_file(path), changed);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_read, fs::perms::others_read);
  EXPECT_TRUE(temp_files(dir.path()).empty());
}

TEST(RunDocumentFiles, CreatesMissingDirectories) {
  TempDir dir;
  const fs::path path = dir.path() / "a" / "b" / "c" / "run.json";
  auto written = write_file_atomic(path.string(), "{}\n");
  ASSERT_TRUE(written.ok()) << written.error();
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_TRUE(temp_files(dir.path()).empty());
}

TEST(RunDocumentFiles, UnwritablePathGivesAnErrorNamingIt) {
  const std::string path = "/proc/forbidden/x.json";
  auto written = write_file_atomic(path, "{}\n");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().find(path), std::string::npos) << written.error();
}

TEST(RunDocumentFiles, FailedRenameRemovesTheTemporaryFile) {
  TempDir dir;
  // A directory where the file should go: every step succeeds except the rename.
  const fs::path target = dir.path() / "run.json";
  fs::create_directories(target / "occupied");
  auto written = write_file_atomic(target.string(), "{}\n");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().find(target.string()), std::string::npos) << written.error();
  EXPECT_NE(written.error().find("renaming"), std::string::npos) << written.error();
  EXPECT_TRUE(temp_files(dir.path()).empty());
}

TEST(RunDocumentFiles, ReadErrorsNameThePathAndPosition) {
  TempDir dir;
  const std::string missing = (dir.path() / "missing.json").string();
  auto not_there = read_json_file(missing);
  ASSERT_FALSE(not_there.ok());
  EXPECT_NE(not_there.error().find(missing), std::string::npos) << not_there.error();
  EXPECT_NE(not_there.error().find("No such file"), std::string::npos) << not_there.error();

  const std::string broken = (dir.path() / "broken.json").string();
  ASSERT_TRUE(write_file_atomic(broken, "{\"a\": 1,\n \"b\": }").ok());
  auto bad = read_json_file(broken);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find(broken), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("at byte 16"), std::string::npos) << bad.error();
}

TEST(RunDocument, RunIdHasTimeAndRandomSuffix) {
  const std::regex format(R"(\d{8}T\d{6}Z-[0-9a-f]{6})");
  const std::string a = make_run_id(), b = make_run_id();
  EXPECT_TRUE(std::regex_match(a, format)) << a;
  EXPECT_TRUE(std::regex_match(b, format)) << b;
  EXPECT_NE(a.substr(17), b.substr(17));  // 1 in 16M chance of a false failure
}

// ---- the schema and validate_run.py ------------------------------------------------------------

struct Outcome {
  int exit_code = -1;
  std::string output;
};

/// Runs validate_run.py on `doc` with extra arguments; stdout and stderr together.
Outcome validate(const TempDir& dir, const json& doc, const std::string& args = "") {
  const fs::path path = dir.path() / "doc.json";
  EXPECT_TRUE(write_json_atomic(path.string(), doc).ok());
  const fs::path script = kRepoRoot / "tests/tools/validate_run.py";
  const fs::path schema = kRepoRoot / "results/run.schema.json";
  const std::string command = "/usr/bin/python3 " + script.string() + " " + schema.string() +
                              " " + path.string() + " " + args + " 2>&1";
  Outcome out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out.output += buffer;
  const int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "/usr/bin/python3 has no jsonschema (apt-get install python3-jsonschema)";
  }
  TempDir dir_;
};

TEST_F(SchemaTest, SerializedDocumentValidates) {
  const Outcome out = validate(dir_, to_json(sample_document()),
                               "--expect-benchmarks micro.fma.fp64,micro.stream.triad "
                               "--expect-status micro.fma.fp64=ok micro.stream.triad=invalid");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("valid"), std::string::npos) << out.output;
}

TEST_F(SchemaTest, DriftAndMissingFieldsAreCaught) {
  json doc = to_json(sample_document());
  doc["results"][0]["elapsed"] = 1.0;
  doc["inventory"]["cpu"].erase("cores");
  const Outcome out = validate(dir_, doc);
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("results[0]: Additional properties"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("inventory.cpu: 'cores' is a required property"), std::string::npos)
      << out.output;
}

TEST_F(SchemaTest, StorageEntriesAreDescribedOrSayWhyNot) {
  json doc = to_json(sample_document());
  doc["inventory"]["storage"][1]["type"] = "xfs";  // an error with a figure beside it
  doc["inventory"]["storage"][0].erase("options");
  const Outcome out = validate(dir_, doc);
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("inventory.storage[0]"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("inventory.storage[1]"), std::string::npos) << out.output;
}

TEST_F(SchemaTest, UnverifiedOkResultIsRejectedUnlessANoteSaysWhy) {
  json doc = to_json(sample_document());
  doc["results"][0]["verification"]["status"] = "not_checked";
  Outcome out = validate(dir_, doc);
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("not verified"), std::string::npos) << out.output;

  doc["results"][0]["notes"]["verification"] = "timing-only kernel: output is discarded";
  out = validate(dir_, doc);
  EXPECT_EQ(out.exit_code, 0) << out.output;
}

TEST_F(SchemaTest, OkNeedsSamplesAndFiguresOthersHaveNone) {
  json doc = to_json(sample_document());
  doc["results"][0]["samples_s"] = json::array();
  doc["results"][0]["time"]["median"] = nullptr;
  doc["results"][0]["metrics"][0]["value"] = nullptr;
  doc["results"][1]["verification"]["status"] = "passed";
  doc["results"][1]["metrics"] = doc["results"][0]["metrics"];
  const Outcome out = validate(dir_, doc);
  EXPECT_EQ(out.exit_code, 1) << out.output;
  for (const char* problem : {"no samples", "time.median is null", "flop_rate has value null",
                              "status invalid but verification passed",
                              "status invalid but has metrics"})
    EXPECT_NE(out.output.find(problem), std::string::npos) << problem << "\n" << out.output;
}

TEST_F(SchemaTest, ExpectationsAreChecked) {
  const Outcome out = validate(dir_, to_json(sample_document()),
                               "--expect-benchmarks micro.fma.fp64,micro.gemm.fp64 "
                               "--expect-status micro.stream.triad=ok");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("micro.gemm.fp64: not in the document"), std::string::npos)
      << out.output;
  EXPECT_NE(out.output.find("micro.stream.triad=ok: instance 0 has status invalid"),
            std::string::npos) << out.output;
}

}  // namespace
}  // namespace converge::results
