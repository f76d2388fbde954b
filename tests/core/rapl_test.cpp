// RAPL through powercap sysfs, against fake trees laid out like the kernel's: the control-type
// folder intel-rapl/ holding intel-rapl:N/ with subzones intel-rapl:N:M/ nested inside, and
// the flat symlinks /sys/class/powercap has for every zone.
#include "core/energy/rapl.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <thread>

using namespace converge::core::energy;
namespace fs = std::filesystem;

namespace {

// Intel's package counter: 2^32 - 1 units of 61.035 uJ, truncated to uJ.
constexpr std::uint64_t kIntelMax = 262143328850;

class FakePowercap {
 public:
  FakePowercap() {
    std::string tmpl = (fs::temp_directory_path() / "converge-rapl-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
    ::chmod(root_.c_str(), 0755);  // other users reach the files (the unprivileged-child test)
  }
  ~FakePowercap() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const fs::path& root() const { return root_; }
  std::string root_str() const { return root_.string(); }

  /// A zone "intel-rapl:0" or "intel-rapl:0:1" (or another control type's), nested under its
  /// parent inside the control-type folder, with a flat symlink beside it when `flat`.
  fs::path zone(const std::string& dir, const std::string& name, std::uint64_t energy_uj,
                std::uint64_t max_uj = kIntelMax, bool flat = true) {
    const std::string type = dir.substr(0, dir.find(':'));
    fs::path nested = root_ / type;
    for (std::size_t colon = dir.find(':', dir.find(':') + 1);; colon = dir.find(':', colon + 1)) {
      if (colon == std::string::npos) {
        nested /= dir;
        break;
      }
      nested /= dir.substr(0, colon);
    }
    fs::create_directories(nested);
    write(nested / "name", name);
    write(nested / "max_energy_range_uj", std::to_string(max_uj));
    write(nested / "energy_uj", std::to_string(energy_uj));
    write(nested / "enabled", "0");  // power limiting off: the counter still counts
    if (flat) fs::create_directory_symlink(fs::relative(nested, root_), root_ / dir);
    zones_[dir] = nested;
    return nested;
  }
  void set(const std::string& dir, std::uint64_t energy_uj) { write(energy_path(dir), std::to_string(energy_uj)); }
  void set_text(const std::string& dir, const std::string& text) { write(energy_path(dir), text); }
  /// Where open_rapl finds the counter: through the flat symlink.
  fs::path energy_path(const std::string& dir) const { return root_ / dir / "energy_uj"; }
  fs::path nested(const std::string& dir) const { return zones_.at(dir); }

  /// Two packages, each with a DRAM subzone: the common two-socket Xeon.
  void two_sockets(std::uint64_t start_uj = 1000) {
    zone("intel-rapl:0", "package-0", start_uj);
    zone("intel-rapl:0:0", "dram", start_uj);
    zone("intel-rapl:1", "package-1", start_uj);
    zone("intel-rapl:1:0", "dram", start_uj);
  }

 private:
  static void write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::trunc) << text << "\n";
  }
  fs::path root_;
  std::map<std::string, fs::path> zones_;
};

std::unique_ptr<Meter> open_ok(const FakePowercap& fake) {
  auto m = open_rapl({fake.root_str()});
  if (!m) ADD_FAILURE() << m.error();
  return m ? std::move(*m) : nullptr;
}

std::vector<double> read_ok(Meter& m) {
  auto r = m.read();
  if (!r) ADD_FAILURE() << r.error();
  return r ? *r : std::vector<double>{};
}

}  // namespace

TEST(Rapl, TwoPackagesWithDramGiveFourDomains) {
  FakePowercap fake;
  fake.two_sockets();
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name(), "rapl");
  EXPECT_EQ(m->domains(), (std::vector<std::string>{"package-0", "dram-0", "package-1", "dram-1"}));
  EXPECT_TRUE(m->counts_energy());
  EXPECT_EQ(m->resolution(), 1e-6);
  EXPECT_EQ(m->update_period_s(), 0.001);
}

TEST(Rapl, NestedTreeWithoutFlatLinks) {
  // The devices tree (/sys/devices/virtual/powercap) has only the nesting.
  FakePowercap fake;
  fake.zone("intel-rapl:0", "package-0", 1, kIntelMax, false);
  fake.zone("intel-rapl:0:0", "dram", 1, kIntelMax, false);
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->domains(), (std::vector<std::string>{"package-0", "dram-0"}));
}

TEST(Rapl, IncrementsReadBackInJoules) {
  FakePowercap fake;
  fake.two_sockets(5'000'000);
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  EXPECT_EQ(read_ok(*m), (std::vector<double>{0, 0, 0, 0}));  // the origin is open_rapl's reading

  fake.set("intel-rapl:0", 5'000'000 + 1'500'000);
  fake.set("intel-rapl:0:0", 5'000'000 + 250'000);
  fake.set("intel-rapl:1", 5'000'000 + 42);
  auto v = read_ok(*m);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_DOUBLE_EQ(v[0], 1.5);
  EXPECT_DOUBLE_EQ(v[1], 0.25);
  EXPECT_DOUBLE_EQ(v[2], 42e-6);
  EXPECT_DOUBLE_EQ(v[3], 0);

  fake.set("intel-rapl:0", 5'000'000 + 4'000'000);
  v = read_ok(*m);
  EXPECT_DOUBLE_EQ(v[0], 4.0);  // cumulative, not the last step
  EXPECT_DOUBLE_EQ(v[1], 0.25);
}

TEST(Rapl, WraparoundCountsOnePastMaxAsZero) {
  // energy_uj runs 0..max and max + 1 reads 0: from max - 1000 to 500 is 1000 + 1 + 500 uJ.
  FakePowercap fake;
  fake.zone("intel-rapl:0", "package-0", kIntelMax - 1000);
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  fake.set("intel-rapl:0", 500);
  auto v = read_ok(*m);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NEAR(v[0], 1501e-6, 1e-15);

  // Exactly at max, then one step on: 1 uJ.
  fake.set("intel-rapl:0", kIntelMax);
  v = read_ok(*m);
  const double at_max = v[0];
  EXPECT_NEAR(at_max, (1501 + kIntelMax - 500) * 1e-6, 1e-9);
  fake.set("intel-rapl:0", 0);
  v = read_ok(*m);
  EXPECT_NEAR(v[0] - at_max, 1e-6, 1e-9);
}

TEST(Rapl, TwoWrapsOverSeveralReadsAccumulate) {
  // A small range (values 0..999'999, so the counter counts modulo 1'000'000) makes the sums easy.
  FakePowercap fake;
  fake.zone("intel-rapl:0", "package-0", 900'000, 999'999);
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  const std::vector<std::pair<std::uint64_t, double>> steps = {
      {950'000, 0.05},   // +50'000
      {100'000, 0.20},   // wraps: +150'000
      {800'000, 0.90},   // +700'000
      {200'000, 1.30},   // wraps again: +400'000
      {300'000, 1.40},   // +100'000
  };
  for (const auto& [raw, joules] : steps) {
    fake.set("intel-rapl:0", raw);
    auto v = read_ok(*m);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NEAR(v[0], joules, 1e-12) << "raw " << raw;
  }
}

TEST(Rapl, NodeFigureIsTheSumOfPackageDomains) {
  FakePowercap fake;
  fake.two_sockets(0);
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  fake.set("intel-rapl:0", 10'000'000);
  fake.set("intel-rapl:1", 20'000'000);
  fake.set("intel-rapl:0:0", 1'000'000);
  fake.set("intel-rapl:1:0", 2'000'000);
  auto v = read_ok(*m);
  const auto names = m->domains();
  ASSERT_EQ(v.size(), names.size());
  double packages = 0, packages_and_dram = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (names[i].rfind("package-", 0) == 0) packages += v[i];
    // The recorder's node total (core/energy/recorder.hpp): package + dram + gpu domains.
    if (names[i].rfind("package-", 0) == 0 || names[i].rfind("dram-", 0) == 0) packages_and_dram += v[i];
  }
  EXPECT_DOUBLE_EQ(packages, 30.0);
  EXPECT_DOUBLE_EQ(packages_and_dram, 33.0);
}

TEST(Rapl, DomainNamesForCoreUncorePsysAndDies) {
  FakePowercap fake;
  fake.zone("intel-rapl:0", "package-0", 1);
  fake.zone("intel-rapl:0:0", "core", 1);
  fake.zone("intel-rapl:0:1", "uncore", 1);
  fake.zone("intel-rapl:1", "psys", 1);
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->domains(), (std::vector<std::string>{"package-0", "core-0", "uncore-0", "psys"}));

  // Multi-die parts name packages "package-P-die-D"; zone numbers are hex ("%x" in the kernel).
  FakePowercap dies;
  dies.zone("intel-rapl:2", "package-1-die-0", 1);
  dies.zone("intel-rapl:a", "package-5-die-0", 1);
  dies.zone("intel-rapl:a:0", "dram", 1);
  dies.zone("intel-rapl:10", "package-8-die-0", 1);
  dies.zone("intel-rapl:3", "package-1-die-1", 1);
  dies.zone("intel-rapl:3:0", "dram", 1);
  auto d = open_ok(dies);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->domains(), (std::vector<std::string>{"package-1-die-0", "package-1-die-1", "dram-1-die-1",
                                                    "package-5-die-0", "dram-5-die-0", "package-8-die-0"}));
}

TEST(Rapl, MmioZonesOnlyWhenTheyAreTheOnlySource) {
  FakePowercap both;
  both.zone("intel-rapl:0", "package-0", 1);
  both.zone("intel-rapl-mmio:0", "package-0", 1);
  auto m = open_ok(both);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->domains(), (std::vector<std::string>{"package-0"}));
  both.set("intel-rapl:0", 2'000'001);
  both.set("intel-rapl-mmio:0", 9'000'001);
  EXPECT_DOUBLE_EQ(read_ok(*m).at(0), 2.0);  // the MSR zone's counter, not the MMIO one

  FakePowercap mmio;
  mmio.zone("intel-rapl-mmio:0", "package-0", 1);
  auto only = open_ok(mmio);
  ASSERT_TRUE(only);
  EXPECT_EQ(only->domains(), (std::vector<std::string>{"package-0"}));
}

TEST(Rapl, MissingRootIsAnError) {
  auto m = open_rapl({"/nonexistent/converge/powercap"});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), "no powercap directory /nonexistent/converge/powercap");
}

TEST(Rapl, RootWithoutRaplZonesIsAnError) {
  FakePowercap fake;
  fs::create_directories(fake.root() / "intel-rapl");  // the control type, no zones
  fs::create_directories(fake.root() / "dtpm");
  fs::create_directories(fake.root() / "intel-raplx:0");
  auto m = open_rapl({fake.root_str()});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), "no RAPL zones under " + fake.root_str());
}

namespace {

// open_rapl in a child process that has dropped root to `nobody`: root reads a mode-000 file
// regardless, so this is how a root test run sees what an unprivileged user sees.
// Returns the error text, "OPENED" if it opened, or "" if privileges could not be dropped.
std::string open_as_nobody(const std::string& root) {
  const passwd* pw = ::getpwnam("nobody");
  if (!pw) return "";
  int fds[2];
  if (::pipe(fds) != 0) return "";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    if (::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
      out = "";
    } else {
      auto m = open_rapl({root});
      out = m ? "OPENED" : m.error();
    }
    if (!out.empty() && ::write(fds[1], out.data(), out.size()) < 0) _exit(2);
    _exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

}  // namespace

TEST(Rapl, UnreadableCounterNamesThePathAndTheFix) {
  FakePowercap fake;
  fake.two_sockets();
  const auto path = fake.energy_path("intel-rapl:1").string();
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  const std::string want = "permission denied on " + path + " (root-only since Linux 5.10: run as root or chmod it)";
  if (::geteuid() != 0) {
    auto m = open_rapl({fake.root_str()});
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error(), want);
  } else {
    // Root reads mode 000 anyway: it opens here, and a child without root is refused.
    auto m = open_rapl({fake.root_str()});
    EXPECT_TRUE(m) << (m ? "" : m.error());
    const std::string child = open_as_nobody(fake.root_str());
    if (child.empty()) GTEST_SKIP() << "running as root and cannot drop to nobody";
    EXPECT_EQ(child, want);
  }
}

TEST(Rapl, EveryUnreadableCounterIsListed) {
  // As after the CVE-2020-8694 fix, where every energy_uj is 0400 root. Mode 000 here, so that
  // an unprivileged test run, which owns the files, is refused too.
  FakePowercap fake;
  fake.two_sockets();
  std::vector<std::string> paths;
  for (const char* z : {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:1", "intel-rapl:1:0"}) {
    paths.push_back(fake.energy_path(z).string());
    ASSERT_EQ(::chmod(paths.back().c_str(), 0), 0);
  }
  const std::string want = "permission denied on " + paths[0] + ", " + paths[1] + ", " + paths[2] + ", " + paths[3] +
                           " (root-only since Linux 5.10: run as root or chmod it)";
  std::string got;
  if (::geteuid() != 0) {
    auto m = open_rapl({fake.root_str()});
    ASSERT_FALSE(m);
    got = m.error();
  } else {
    got = open_as_nobody(fake.root_str());
    if (got.empty()) GTEST_SKIP() << "running as root and cannot drop to nobody";
  }
  EXPECT_EQ(got, want);
}

TEST(Rapl, CounterThatIsADirectoryOrNotANumberFailsOpen) {
  FakePowercap dir;
  dir.two_sockets();
  const auto path = dir.energy_path("intel-rapl:1:0");
  fs::remove(dir.nested("intel-rapl:1:0") / "energy_uj");
  fs::create_directory(dir.nested("intel-rapl:1:0") / "energy_uj");
  auto m = open_rapl({dir.root_str()});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), "unreadable RAPL domains: dram-1: cannot read " + path.string() + ": Is a directory");

  FakePowercap text;
  text.two_sockets();
  text.set_text("intel-rapl:0", "n/a");
  auto t = open_rapl({text.root_str()});
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("package-0"), std::string::npos) << t.error();
  EXPECT_NE(t.error().find(text.energy_path("intel-rapl:0").string() + " holds 'n/a'"), std::string::npos) << t.error();
  // Only the bad domain is named.
  EXPECT_EQ(t.error().find("package-1"), std::string::npos) << t.error();
}

TEST(Rapl, CounterRemovedAfterOpenFailsReadNamingTheDomain) {
  FakePowercap fake;
  fake.two_sockets(1000);
  auto m = open_ok(fake);
  ASSERT_TRUE(m);
  const auto path = fake.energy_path("intel-rapl:1:0");
  fs::remove(fake.nested("intel-rapl:1:0") / "energy_uj");
  fake.set("intel-rapl:0", 3'001'000);
  auto r = m->read();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "rapl domain dram-1: cannot read " + path.string() + ": No such file or directory");

  // A failed read changes nothing: once the file is back the increase since the last good
  // reading is counted.
  fake.set("intel-rapl:1:0", 2000);
  auto v = read_ok(*m);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_DOUBLE_EQ(v[0], 3.0);
  EXPECT_DOUBLE_EQ(v[3], 1000e-6);

  fake.set_text("intel-rapl:0", "garbage");
  r = m->read();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rfind("rapl domain package-0: ", 0), 0u) << r.error();

  // Above max_energy_range_uj: not a powercap counter.
  fake.set("intel-rapl:0", kIntelMax + 1);
  r = m->read();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("above max_energy_range_uj"), std::string::npos) << r.error();
}

TEST(Rapl, ThisMachine) {
  // The real /sys/class/powercap where the machine has one; skips with the reason otherwise.
  auto m = open_rapl();
  if (!m) GTEST_SKIP() << "rapl not usable here: " << m.error();
  const auto names = (*m)->domains();
  ASSERT_FALSE(names.empty());
  auto a = (*m)->read();
  ASSERT_TRUE(a) << a.error();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto b = (*m)->read();
  ASSERT_TRUE(b) << b.error();
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_GE((*b)[i], (*a)[i]) << names[i];
    std::cout << names[i] << ": " << ((*b)[i] - (*a)[i]) / 0.05 << " W\n";
  }
}
