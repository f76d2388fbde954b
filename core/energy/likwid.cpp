#include "core/energy/likwid.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <likwid.h>

// What this file relies on in likwid 5.2 (checked against /usr/include/likwid.h and likwid's
// sources: src/access.c, src/access_client.c, src/configuration.c, src/power.c and
// src/includes/power.h of RRZE-HPC/likwid):
// - topology_init() reads the configuration (init_configuration) and fills CpuTopology;
//   threadPool has numHWThreads entries, and a thread's apicId is the OS CPU number that the
//   HPM and power calls take.
// - HPMmode() must come after the configuration is read (reading it resets the mode) and
//   before HPMinit(); HPMaddThread(cpu) starts likwid-accessD for the CPU in daemon mode.
// - power_init(cpu) fills the process-wide power_info once (later calls return at once). It
//   returns < 0 when the CPU cannot be added, 0 when the model is not in its RAPL list or the
//   RAPL unit register cannot be read, 1 when RAPL works; a domain whose energy status
//   register could be read has POWER_DOMAIN_SUPPORT_STATUS.
// - power_start()/power_stop() read a domain's energy status register by domain index into
//   PowerData (32 bits in 5.2) and set PowerData::domain only after a good read.
// - Every *_finalize() and destroy_configuration() does nothing when its part is not set up.
// - likwid exit()s the process when the daemon cannot be found (configuration.c: "Unable to
//   get path to access daemon") or does not open its socket within ~2.5 s (access_client.c:
//   "Exiting due to timeout"): hence the probe in a child below.
// Its messages go to stderr ("Cannot gather values from unit register 0x606, deactivating RAPL
// support", "ERROR - [...] MSR read operation failed"); debug output, off by default, to stdout.

namespace converge::core::energy {

namespace {

// likwid keeps its state in process globals (topology, access client, power_info): every likwid
// call happens under this lock, and one meter may be open at a time.
std::mutex g_lock;
bool g_open = false;

struct Domain {
  std::string name;         // "package-0"
  int cpu = 0;              // the hardware thread whose MSR is read (OS CPU number)
  int type = 0;             // likwid's domain index (PowerType; on AMD Zen 0 is CORE, 1 is PKG)
  double unit = 0;          // joules per count
  std::uint32_t last = 0;   // the counter at the last reading
  std::uint64_t total = 0;  // counts since open: integer, so no rounding drift however long
};

// What has been set up, so teardown undoes exactly that, in reverse order.
struct Session {
  bool topology = false;
  bool hpm = false;
  bool power = false;
};

void teardown(Session& s) {
  if (s.power) power_finalize();
  if (s.hpm) HPMfinalize();  // stops the access daemons; walks the topology, so before it goes
  if (s.topology) {
    affinity_finalize();  // the access client set these two up (access_client_init)
    numa_finalize();
    topology_finalize();
    destroy_configuration();
  }
  s = {};
}

std::string why(int rc) {
  if (rc == 0) return "read failed";
  return std::strerror(rc < 0 ? -rc : rc);
}

// A domain's raw energy counter. power_start() reads the domain's energy status MSR into
// PowerData::before; power_read() is not used: it wants the MSR address, which likwid.h does not
// export and which differs on AMD. A failed read returns errno, which may be 0, so success is
// also judged by PowerData::domain, set only after a good read.
int read_raw(int cpu, int type, std::uint32_t& raw) {
  PowerData d{};
  d.domain = -1;
  errno = 0;
  const int rc = power_start(&d, cpu, static_cast<PowerType>(type));
  if (rc != 0) return rc;
  if (d.domain != type) return errno != 0 ? errno : EIO;
  raw = d.before;
  return 0;
}

// likwid's domain names (power_names: PKG, PP0, PP1, DRAM, PLATFORM on Intel; CORE, PKG on
// AMD Zen) as rapl.cpp names the powercap zones. On AMD, CORE is the lead CPU's own core only,
// as in powercap: the recorder's node total leaves core-* out.
std::string base_name(const char* likwid_name) {
  const std::string n = likwid_name ? likwid_name : "";
  if (n == "PKG") return "package";
  if (n == "PP0" || n == "CORE") return "core";
  if (n == "PP1") return "uncore";
  if (n == "DRAM") return "dram";
  if (n == "PLATFORM") return "psys";
  std::string out;
  for (char c : n) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out.empty() ? "domain" : out;
}

// Why the access daemon may not read MSRs: it needs the msr driver's device files and root
// (Debian installs likwid-accessD without the setuid bit).
std::string access_hint(int cpu) {
  std::vector<std::string> hints;
  const std::string msr = fmt::format("/dev/cpu/{}/msr", cpu);
  if (::access(msr.c_str(), F_OK) != 0 && ::access((msr + "_safe").c_str(), F_OK) != 0)
    hints.push_back(fmt::format("{} does not exist: load the msr kernel module (modprobe msr); virtual machines "
                                "seldom pass RAPL through",
                                msr));
  if (::geteuid() != 0) {
    const Configuration_t c = get_configuration();
    struct stat st {};
    if (c && c->daemonPath && ::stat(c->daemonPath, &st) == 0 && !(st.st_uid == 0 && (st.st_mode & S_ISUID)))
      hints.push_back(fmt::format("{} is not setuid root, so it reads MSRs as this user (Debian installs it without "
                                  "the bit): run as root or chmod u+s it",
                                  c->daemonPath));
  }
  return hints.empty() ? "" : fmt::format("; {}", fmt::join(hints, "; "));
}

using StageFn = std::function<void(const std::string&)>;

// Sets likwid up for RAPL on one hardware thread per package and reads every domain once. On
// failure the caller tears the session down.
Expected<std::vector<Domain>> bring_up(Session& s, const StageFn& stage) {
  stage("reading the topology (topology_init)");
  topology_init();
  s.topology = true;
  const CpuTopology_t topo = get_cpuTopology();
  if (!topo || !topo->threadPool || topo->numHWThreads == 0)
    return make_error("likwid's topology_init found no hardware threads");

  // One hardware thread per package: the first in this process's CPU set, else the first.
  // likwid sizes its per-CPU tables by numHWThreads, so a larger CPU number cannot be used.
  struct Pick {
    int cpu = -1;
    bool in_set = false;
  };
  std::map<std::uint32_t, Pick> packages;
  for (std::uint32_t i = 0; i < topo->numHWThreads; ++i) {
    const HWThread& t = topo->threadPool[i];
    Pick& p = packages[t.packageId];
    if (t.apicId >= topo->numHWThreads) continue;
    if (p.cpu < 0 || (!p.in_set && t.inCpuSet)) p = {static_cast<int>(t.apicId), t.inCpuSet != 0};
  }
  for (const auto& [pkg, p] : packages)
    if (p.cpu < 0) return make_error(fmt::format("likwid found no usable hardware thread in package {}", pkg));

  stage("setting up daemon access (HPMinit)");
  // Daemon mode, as likwid's tools do by default (likwid-powermeter and likwid-perfctr take the
  // configured mode and go direct only when told, -M 0): likwid-accessD does the MSR reads.
  HPMmode(ACCESSMODE_DAEMON);
  HPMinit();
  s.hpm = true;
  for (const auto& [pkg, p] : packages) {
    stage(fmt::format("starting the access daemon for CPU {} (HPMaddThread)", p.cpu));
    const int rc = HPMaddThread(p.cpu);
    if (rc != 0)
      return make_error(fmt::format("likwid cannot reach its access daemon for CPU {} (HPMaddThread: {}){}", p.cpu,
                                    why(rc), access_hint(p.cpu)));
  }

  const int first = packages.begin()->second.cpu;
  stage(fmt::format("initialising the power module on CPU {} (power_init)", first));
  const int rc = power_init(first);
  s.power = true;
  if (rc < 0)
    return make_error(fmt::format("likwid cannot initialise its power module on CPU {} ({}){}", first, why(rc),
                                  access_hint(first)));
  const PowerInfo_t info = get_powerInfo();
  if (rc == 0 || !info || !info->hasRAPL) {
    const CpuInfo_t cpu = get_cpuInfo();
    const std::string what = cpu ? fmt::format(" ({}, family {} model {:#x})", cpu->name ? cpu->name : "unknown CPU",
                                               cpu->family, cpu->model)
                                 : "";
    return make_error(fmt::format("likwid found no readable RAPL counters on CPU {}{}: its power_init does not know "
                                  "this model or could not read the RAPL unit register{}",
                                  first, what, access_hint(first)));
  }

  // Packages outer, domains inner (package-0, core-0, dram-0, package-1, ...), psys last: the
  // order rapl.cpp gives powercap zones. psys is platform-wide: one counter, read on package 0.
  std::vector<Domain> domains;
  std::vector<int> types;
  for (int i = 0; i < NUM_POWER_DOMAINS; ++i) {
    const PowerDomain& pd = info->domains[i];
    if (!(pd.supportFlags & POWER_DOMAIN_SUPPORT_STATUS)) continue;
    if (!(pd.energyUnit > 0) || !std::isfinite(pd.energyUnit))
      return make_error(fmt::format("likwid gives RAPL domain {} the energy unit {}",
                                    power_names[i] ? power_names[i] : "?", pd.energyUnit));
    types.push_back(i);
  }
  if (types.empty())
    return make_error(fmt::format("likwid found RAPL on CPU {} but no readable energy status register",
                                  first));
  for (const auto& [pkg, p] : packages)
    for (int t : types) {
      const std::string base = base_name(power_names[t]);
      if (base != "psys") domains.push_back({fmt::format("{}-{}", base, pkg), p.cpu, t, info->domains[t].energyUnit});
    }
  for (int t : types)
    if (base_name(power_names[t]) == "psys") domains.push_back({"psys", first, t, info->domains[t].energyUnit});

  // power_init checked the registers on the first CPU only: read every domain on every package
  // now, and fail naming each unreadable one rather than under-count the node total.
  stage("reading every domain once");
  std::vector<std::string> failures;
  for (auto& d : domains)
    if (const int r = read_raw(d.cpu, d.type, d.last); r != 0)
      failures.push_back(fmt::format("{} ({} on CPU {}): {}", d.name, power_names[d.type], d.cpu, why(r)));
  if (!failures.empty())
    return make_error(fmt::format("likwid cannot read RAPL domains: {}{}", fmt::join(failures, "; "),
                                  access_hint(first)));
  return domains;
}

class LikwidMeter final : public Meter {
 public:
  LikwidMeter(Session session, std::vector<Domain> domains) : session_(session), domains_(std::move(domains)) {}
  ~LikwidMeter() override {
    std::lock_guard<std::mutex> lock(g_lock);
    teardown(session_);
    g_open = false;
  }

  std::string name() const override { return "likwid"; }
  std::vector<std::string> domains() const override {
    std::vector<std::string> out;
    for (const auto& d : domains_) out.push_back(d.name);
    return out;
  }
  bool counts_energy() const override { return true; }
  // The coarsest domain's step (2^-14 J for Intel packages, 15.3 uJ for DRAM on Xeons): no
  // reading is finer than that for every domain.
  double resolution() const override {
    double r = 0;
    for (const auto& d : domains_) r = std::max(r, d.unit);
    return r;
  }
  double update_period_s() const override { return 0.001; }

  Expected<std::vector<double>> read() override {
    std::lock_guard<std::mutex> lock(g_lock);
    // Every counter first, so a failed read leaves the meter as it was.
    std::vector<std::uint32_t> now(domains_.size());
    for (std::size_t i = 0; i < domains_.size(); ++i) {
      const auto& d = domains_[i];
      if (const int rc = read_raw(d.cpu, d.type, now[i]); rc != 0)
        return make_error(fmt::format("likwid domain {}: cannot read {} on CPU {}: {}", d.name, power_names[d.type],
                                      d.cpu, why(rc)));
    }
    std::vector<double> joules;
    for (std::size_t i = 0; i < domains_.size(); ++i) {
      auto& d = domains_[i];
      // RAPL energy status counters are 32 bits wide: the increase is (now - last) mod 2^32,
      // which unsigned 32-bit subtraction gives. A wrap missed entirely (more than ~262 kJ
      // between reads for an Intel package) cannot be seen: the recorder samples well inside it.
      d.total += static_cast<std::uint32_t>(now[i] - d.last);
      d.last = now[i];
      joules.push_back(static_cast<double>(d.total) * d.unit);
    }
    return joules;
  }

 private:
  Session session_;
  std::vector<Domain> domains_;
};

// --- the probe: the whole set-up once in a forked child ------------------------------------

constexpr auto kProbeTimeout = std::chrono::seconds(30);
constexpr int kLikwidCalledExit = 97;  // the child's status when likwid called exit()
int g_probe_status_fd = -1;            // the child's report pipe
pid_t g_probe_pid = -1;                // the child itself, not the processes likwid forks from it

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

void report(std::string_view kind, std::string_view text) {
  write_all(g_probe_status_fd, fmt::format("{} {}\n", kind, text));
}

// Registered in the child only, after fork: atexit runs handlers newest first, so when likwid
// calls exit() this one runs before anything the parent registered (and before static
// destructors) and ends the child at once. Processes likwid forks from the child (its RDPMC
// test exit()s with the verdict) inherit the handler; there it steps aside.
void child_exit_handler() {
  if (::getpid() != g_probe_pid) return;
  std::fflush(stdout);
  _exit(kLikwidCalledExit);
}

[[noreturn]] void run_probe_child(int out_fd, int status_fd) {
  ::setpgid(0, 0);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, 0);
  ::dup2(out_fd, 1);  // likwid's messages, and those of the daemons it starts
  ::dup2(out_fd, 2);
  g_probe_status_fd = status_fd;
  g_probe_pid = ::getpid();
  std::atexit(child_exit_handler);
  Session s;
  auto r = bring_up(s, [](const std::string& stage) { report("stage", stage); });
  report("stage", "tearing down");
  teardown(s);
  if (r) report("ok", "");
  else report("error", r.error());
  std::fflush(stdout);
  _exit(r ? 0 : 1);
}

// What likwid printed, on one line: " [likwid printed: ...]", or "".
std::string quoted_output(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    std::size_t lead = 0;
    while (lead < line.size() && std::isspace(static_cast<unsigned char>(line[lead]))) ++lead;
    if (lead < line.size()) lines.push_back(line.substr(lead));
  }
  if (lines.empty()) return "";
  std::string joined = fmt::format("{}", fmt::join(lines, " | "));
  if (joined.size() > 800) joined = joined.substr(0, 800) + " ...";
  return fmt::format(" [likwid printed: {}]", joined);
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads what is there now; false at end of file.
bool drain(int fd, std::string& out) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0;  // 0: end of file; < 0: EAGAIN, nothing more for now
  }
}

Expected<void> probe() {
  int out[2], status[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return make_error(fmt::format("likwid probe: pipe: {}", std::strerror(errno)));
  if (::pipe2(status, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return make_error(fmt::format("likwid probe: pipe: {}", std::strerror(e)));
  }
  std::fflush(nullptr);  // nothing buffered for the child to write out a second time
  const pid_t pid = ::fork();
  if (pid == 0) run_probe_child(out[1], status[1]);
  ::close(out[1]);
  ::close(status[1]);
  if (pid < 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(status[0]);
    return make_error(fmt::format("likwid probe: fork: {}", std::strerror(e)));
  }
  ::setpgid(pid, pid);  // also done by the child; whichever runs first

  // The daemons the child starts inherit its stdout, so the output pipe may stay open after the
  // child is gone: wait for the child, not for end of file.
  set_nonblocking(out[0]);
  set_nonblocking(status[0]);
  std::string said, reports;
  bool out_open = true, status_open = true, reaped = false, timed_out = false;
  int wstatus = 0;
  const auto deadline = std::chrono::steady_clock::now() + kProbeTimeout;
  while (!reaped) {
    pollfd p[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {status_open ? status[0] : -1, POLLIN, 0}};
    ::poll(p, 2, 50);  // a failed poll only shortens the wait: the child is checked below
    if (out_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) out_open = drain(out[0], said);
    if (status_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) status_open = drain(status[0], reports);
    const pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
    if (w == pid || (w < 0 && errno == ECHILD)) reaped = true;  // ECHILD: SIGCHLD ignored here
    if (!reaped && std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
      }
      timed_out = reaped = true;
    }
  }
  if (out_open) drain(out[0], said);
  if (status_open) drain(status[0], reports);
  ::close(out[0]);
  ::close(status[0]);

  std::string stage = "starting", error;
  bool ok = false;
  std::size_t start = 0;
  while (start < reports.size()) {
    std::size_t end = reports.find('\n', start);
    if (end == std::string::npos) end = reports.size();
    const std::string line = reports.substr(start, end - start);
    start = end + 1;
    if (line.rfind("stage ", 0) == 0) stage = line.substr(6);
    else if (line.rfind("error ", 0) == 0) error = line.substr(6);
    else if (line.rfind("ok", 0) == 0) ok = true;
  }
  if (ok) return {};
  const std::string printed = quoted_output(said);
  if (!error.empty()) return make_error(error + printed);
  if (timed_out)
    return make_error(fmt::format("likwid did not finish within {} s while {}: access daemon hanging?{}",
                                  kProbeTimeout.count(), stage, printed));
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == kLikwidCalledExit)
    return make_error(fmt::format("likwid gave up and called exit() while {}: access daemon missing or "
                                  "not starting{}",
                                  stage, printed));
  if (WIFSIGNALED(wstatus))
    return make_error(fmt::format("likwid crashed with signal {} while {}{}", WTERMSIG(wstatus), stage, printed));
  return make_error(fmt::format("likwid set-up ended with status {} while {}{}",
                                WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, stage, printed));
}

}  // namespace

Expected<std::unique_ptr<Meter>> open_likwid() {
  std::lock_guard<std::mutex> lock(g_lock);
  if (g_open)
    return make_error("a likwid meter is already open in this process (likwid's state is process-wide)");
  // A fork of a multi-threaded process may only call async-signal-safe functions in theory;
  // glibc makes malloc and stdio usable after fork, which is all the child needs.
  if (auto p = probe(); !p) return Error{p.error()};
  // likwid 5.2 forks to test RDPMC and that child leaves with exit(), flushing a copy of this
  // process's stdio buffers: empty them first so nothing is written twice.
  std::fflush(nullptr);
  Session s;
  auto domains = bring_up(s, [](const std::string&) {});
  if (!domains) {
    teardown(s);
    return Error{domains.error()};
  }
  g_open = true;
  return std::unique_ptr<Meter>(new LikwidMeter(s, std::move(*domains)));
}

}  // namespace converge::core::energy
