#include "core/energy/ipmi.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>
#include <string_view>

extern char** environ;

namespace converge::core::energy {

namespace {

// The format is ipmitool's lib/ipmi_dcmi.c (ipmi_dcmi_pwr_rd): four "%8d Watts" lines, the
// timestamp, "Sampling period: %08u Seconds." (or "5_sec" etc. with an explicit sample time)
// and "Power reading state is: activated|deactivated". ipmitool 1.8.19 prints the timestamp
// without a newline, so "Sampling period:" may follow it on the same line: fields are found
// anywhere in a line, not only at its start.
constexpr std::string_view kInstant = "Instantaneous power reading:";
constexpr std::string_view kMinimum = "Minimum during sampling period:";
constexpr std::string_view kMaximum = "Maximum during sampling period:";
constexpr std::string_view kAverage = "Average power reading over sample period:";
constexpr std::string_view kPeriod = "Sampling period:";
constexpr std::string_view kState = "Power reading state is:";

// Lines ipmitool prints instead of a reading (chk_rsp in ipmi_dcmi.c, the open and lanplus
// interfaces); the first one found is quoted as the reason.
constexpr std::string_view kErrorMarkers[] = {
    "DCMI request failed because:",
    "Unable to get DCMI information",
    "A valid DCMI command was not returned",
    "Could not open device",
    "Unable to establish",
    "Error:",
    "Insufficient privilege",
    "Invalid command",
};

// A coarse bound on the BMC's stated window: many BMCs state the time since their statistics
// were reset (e.g. "01131466 Seconds."), which says nothing about how often the value changes.
constexpr double kMaxUpdatePeriodS = 60;
constexpr auto kCommandTimeout = std::chrono::seconds(5);

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// The leading number of `s` (after blanks); nullopt when there is none.
std::optional<double> leading_number(std::string_view s, std::string_view* rest = nullptr) {
  s = trim(s);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  if (rest) *rest = std::string_view(end, static_cast<size_t>(s.data() + s.size() - end));
  return v;
}

Error unparsable(std::string_view line) {
  return make_error(fmt::format("unparsable number in ipmitool output line '{}'", trim(line)));
}

// "00000005 Seconds." or, with `dcmi power reading <time>`, "5_sec", "15_min", "1_hour".
std::optional<double> parse_period(std::string_view value) {
  std::string_view rest;
  const auto n = leading_number(value, &rest);
  if (!n || *n < 0) return std::nullopt;
  rest = trim(rest);
  if (rest.starts_with("Seconds") || rest.starts_with("_sec")) return *n;
  if (rest.starts_with("_min")) return *n * 60;
  if (rest.starts_with("_hour")) return *n * 3600;
  return std::nullopt;
}

std::string join_command(const std::vector<std::string>& argv) {
  return fmt::format("{}", fmt::join(argv, " "));
}

struct CommandOutput {
  std::string text;  // stdout and stderr, interleaved as written
  int status = 0;    // waitpid status
};

// Runs argv with stdin from /dev/null, stdout and stderr into one pipe, in its own process
// group so a timeout kills the whole command (a wrapper script's children included).
Expected<CommandOutput> run_command(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error("no ipmitool command configured");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return make_error(fmt::format("pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    if (rc == ENOENT)
      return make_error(argv[0].find('/') == std::string::npos
                            ? fmt::format("{} not found on PATH (install ipmitool)", argv[0])
                            : fmt::format("{} not found", argv[0]));
    return make_error(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  }

  CommandOutput out;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    char buf[4096];
    const ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF: every writer (the command and its children) is done
    out.text.append(buf, static_cast<size_t>(got));
  }
  close(fds[0]);
  if (timed_out) kill(-pid, SIGKILL);
  while (waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return make_error(fmt::format("'{}' did not finish within {} s (BMC not answering?)",
                                  join_command(argv), kCommandTimeout.count()));
  return out;
}

// The first line in which ipmitool reports a failure, or nullopt.
std::optional<std::string_view> error_line(std::string_view output) {
  for (const auto line : split_lines(output))
    for (const auto marker : kErrorMarkers)
      if (line.find(marker) != std::string_view::npos) return trim(line);
  return std::nullopt;
}

std::string quote_error(std::string_view line) {
  std::string msg = fmt::format("ipmitool: {}", line);
  if (line.find("Could not open device") != std::string_view::npos)
    msg += " (local IPMI needs root and the ipmi_devintf and ipmi_si kernel modules)";
  return msg;
}

// Runs the command and parses what it prints; a deactivated reading is an error, since the
// DCMI spec defines that state as "no power measurement available".
Expected<DcmiReading> take_reading(const std::vector<std::string>& command) {
  auto out = run_command(command);
  if (!out) return Error{out.error()};
  const auto& text = out->text;
  const bool exited_ok = WIFEXITED(out->status) && WEXITSTATUS(out->status) == 0;
  if (!exited_ok) {
    if (const auto line = error_line(text)) return make_error(quote_error(*line));
    std::string how = WIFEXITED(out->status)
                          ? fmt::format("exited with status {}", WEXITSTATUS(out->status))
                          : fmt::format("was killed by signal {}", WTERMSIG(out->status));
    std::string_view last;
    for (const auto line : split_lines(text))
      if (!trim(line).empty()) last = trim(line);
    return make_error(last.empty() ? fmt::format("'{}' {}", join_command(command), how)
                                   : fmt::format("'{}' {}: {}", join_command(command), how, last));
  }
  auto reading = parse_dcmi_power_reading(text);
  if (!reading) return reading;
  if (!reading->active)
    return make_error(
        "power reading is deactivated on this BMC (DCMI power measurement state bit clear: no "
        "valid measurement; `ipmitool dcmi power activate` activates a power limit, not readings)");
  return reading;
}

class IpmiMeter final : public Meter {
 public:
  IpmiMeter(std::vector<std::string> command, double period_s)
      : command_(std::move(command)), period_s_(period_s) {}
  std::string name() const override { return "ipmi"; }
  std::vector<std::string> domains() const override { return {"node"}; }
  bool counts_energy() const override { return false; }
  double resolution() const override { return 1; }  // DCMI reports whole watts
  double update_period_s() const override { return period_s_; }
  Expected<std::vector<double>> read() override {
    auto r = take_reading(command_);
    if (!r) return make_error(fmt::format("node: {}", r.error()));
    return std::vector<double>{r->watts};
  }

 private:
  std::vector<std::string> command_;
  double period_s_;
};

}  // namespace

Expected<DcmiReading> parse_dcmi_power_reading(const std::string& output) {
  DcmiReading r;
  bool have_instant = false, have_state = false;
  for (const auto line : split_lines(output)) {
    const auto field = [&](std::string_view key) -> std::optional<std::string_view> {
      const auto at = line.find(key);
      if (at == std::string_view::npos) return std::nullopt;
      return line.substr(at + key.size());
    };
    const auto watts = [&](std::string_view value, double& dst) -> Expected<void> {
      std::string_view rest;
      const auto v = leading_number(value, &rest);
      if (!v || !trim(rest).starts_with("Watts")) return unparsable(line);
      dst = *v;
      return {};
    };
    // The sampling period can share a line with the timestamp (ipmitool 1.8.19).
    if (const auto v = field(kPeriod)) {
      const auto p = parse_period(*v);
      if (!p) return unparsable(line);
      r.sampling_period_s = *p;
    }
    std::optional<std::string_view> v;
    Expected<void> ok;
    if ((v = field(kInstant))) {
      ok = watts(*v, r.watts);
      have_instant = true;
    } else if ((v = field(kMinimum))) {
      ok = watts(*v, r.minimum);
    } else if ((v = field(kMaximum))) {
      ok = watts(*v, r.maximum);
    } else if ((v = field(kAverage))) {
      ok = watts(*v, r.average);
    } else if ((v = field(kState))) {
      const auto state = trim(*v);
      if (state == "activated") {
        r.active = true;
      } else if (state == "deactivated") {
        r.active = false;
      } else {
        return make_error(
            fmt::format("unknown power reading state in ipmitool output line '{}'", trim(line)));
      }
      have_state = true;
    }
    if (!ok) return Error{ok.error()};
  }
  if (!have_instant) {
    if (const auto line = error_line(output)) return make_error(quote_error(*line));
    return make_error("no 'Instantaneous power reading' in ipmitool output");
  }
  if (!have_state) return make_error("no 'Power reading state is' in ipmitool output");
  return r;
}

Expected<std::unique_ptr<Meter>> open_ipmi(const IpmiOptions& options) {
  auto first = take_reading(options.command);
  if (!first) return Error{first.error()};
  const double p = first->sampling_period_s;
  const double period = (p > 0 && p <= kMaxUpdatePeriodS) ? p : 1.0;
  return std::unique_ptr<Meter>(std::make_unique<IpmiMeter>(options.command, period));
}

}  // namespace converge::core::energy
