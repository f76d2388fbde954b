#include "runners/executor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/result.hpp"
#include "core/timer.hpp"
#include "core/units.hpp"

extern char** environ;

namespace converge::runners {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};

std::string tail_of_file(const std::string& path, std::size_t max_chars = 600) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  return s;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

// Reads the complete lines appended to a JSON Lines file since the last call.
class EventReader {
 public:
  explicit EventReader(std::string path) : path_(std::move(path)) {}
  std::vector<json> poll() {
    std::vector<json> events;
    std::ifstream in(path_, std::ios::binary);
    if (!in) return events;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t start = 0, nl;
    while ((nl = chunk.find('\n', start)) != std::string::npos) {
      try {
        events.push_back(json::parse(chunk.substr(start, nl - start)));
      } catch (const std::exception&) {
        // A torn line can only be the last one of a crashed worker; it carries no result.
      }
      start = nl + 1;
    }
    offset_ += start;
    return events;
  }

 private:
  std::string path_;
  std::size_t offset_ = 0;
};

void show_progress(const PlannedInstance& inst, std::size_t done, std::size_t total, int reps,
                   double elapsed) {
  if (!isatty(2)) return;
  std::string params;
  for (const auto& [k, v] : inst.params) params += fmt::format(" {}={}", k, v);
  fmt::print(stderr, "\r\033[K[{}/{}] {}{}  {} reps, {:.1f} s", done + 1, total, inst.benchmark,
             params, reps, elapsed);
  std::fflush(stderr);
}

}  // namespace

void request_stop() { g_stop = true; }
bool stop_requested() { return g_stop; }

json synthesized_failure(const PlannedInstance& inst, const std::string& reason,
                         const std::string& started_at) {
  core::Result r;
  r.benchmark = inst.benchmark;
  r.params = inst.params;
  r.status = core::Status::failed;
  r.reason = reason;
  r.started_at = started_at;
  r.finished_at = core::utc_timestamp();
  return results::to_json(r);
}

bool execute(const std::vector<PlannedInstance>& instances, const ExecOptions& options,
             const ResultFn& on_result) {
  fs::create_directories(options.work_dir);
  const double budget = options.policy.value("budget_s", 30.0);
  std::set<int> done;
  std::size_t finished = 0;
  std::size_t pos = 0;
  int launch = 0;
  while (pos < instances.size()) {
    if (g_stop) return false;
    // The next batch: consecutive instances of one worker that have not finished yet.
    std::vector<PlannedInstance> batch;
    for (std::size_t i = pos; i < instances.size() && instances[i].worker == instances[pos].worker; ++i)
      if (!done.count(instances[i].index)) batch.push_back(instances[i]);
    const std::size_t batch_end = pos + [&] {
      std::size_t n = 0;
      while (pos + n < instances.size() && instances[pos + n].worker == instances[pos].worker) ++n;
      return n;
    }();
    if (batch.empty()) {
      pos = batch_end;
      continue;
    }

    json plan = {{"policy", options.policy}, {"instances", json::array()}};
    if (options.threads > 0) plan["threads"] = options.threads;
    plan["peaks"] = json::object();
    for (const auto& [id, v] : options.peaks) plan["peaks"][id] = v;
    for (const auto& inst : batch)
      plan["instances"].push_back({{"index", inst.index}, {"benchmark", inst.benchmark},
                                   {"params", inst.params}, {"policy", inst.policy}});
    const std::string stem = fmt::format("{}/worker-{}", options.work_dir, launch++);
    const std::string plan_path = stem + ".plan.json", events_path = stem + ".events.jsonl",
                      err_path = stem + ".stderr";
    if (auto ok = results::write_json_atomic(plan_path, plan); !ok)
      throw std::runtime_error(ok.error());

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // kill the worker and its children
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<std::string> argv = {batch.front().worker, "--plan", plan_path, "--out", events_path};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      for (const auto& inst : batch) {
        on_result(inst, synthesized_failure(inst, fmt::format("cannot start worker {}: {}", inst.worker,
                                                              std::strerror(rc)), core::utc_timestamp()));
        done.insert(inst.index);
      }
      continue;
    }

    EventReader reader(events_path);
    const PlannedInstance* current = nullptr;
    std::string current_started;
    double current_t0 = 0;
    int status = 0;
    bool exited = false, timed_out = false, interrupted = false;
    auto handle = [&](const json& ev) {
      const std::string kind = ev.value("event", "");
      const int index = ev.value("index", -1);
      const PlannedInstance* inst = nullptr;
      for (const auto& b : batch)
        if (b.index == index) inst = &b;
      if (inst == nullptr) return;
      if (kind == "start") {
        current = inst;
        current_started = core::utc_timestamp();
        current_t0 = core::monotonic_seconds();
        show_progress(*inst, finished, instances.size(), 0, 0);
      } else if (kind == "progress") {
        show_progress(*inst, finished, instances.size(), ev.value("reps", 0), ev.value("elapsed_s", 0.0));
      } else if (kind == "result") {
        if (isatty(2)) fmt::print(stderr, "\r\033[K");
        done.insert(index);
        ++finished;
        current = nullptr;
        on_result(*inst, ev["result"]);
      }
    };
    while (!exited) {
      for (const auto& ev : reader.poll()) handle(ev);
      const pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        break;
      }
      const double timeout = options.timeout_s > 0
                                 ? options.timeout_s
                                 : 3 * (current ? current->policy.value("budget_s", budget) : budget) + 60;
      if (current && core::monotonic_seconds() - current_t0 > timeout) timed_out = true;
      if (g_stop) interrupted = true;
      if (timed_out || interrupted) {
        kill(-pid, interrupted ? SIGTERM : SIGKILL);
        waitpid(pid, &status, 0);
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (const auto& ev : reader.poll()) handle(ev);
    if (isatty(2)) fmt::print(stderr, "\r\033[K");
    if (interrupted) return false;

    if (current != nullptr) {
      const std::string err = tail_of_file(err_path);
      const std::string reason =
          timed_out ? fmt::format("timed out: no result after {:.0f} s; the worker was killed",
                                  core::monotonic_seconds() - current_t0)
                    : fmt::format("worker crashed: {}{}", describe_exit(status),
                                  err.empty() ? "" : "; stderr: " + err);
      done.insert(current->index);
      ++finished;
      on_result(*current, synthesized_failure(*current, reason, current_started));
    } else {
      // The worker ended between instances or before the first: fail what it left, once,
      // rather than start it again on the same plan.
      const std::string err = tail_of_file(err_path);
      for (const auto& inst : batch) {
        if (done.count(inst.index)) continue;
        done.insert(inst.index);
        ++finished;
        on_result(inst, synthesized_failure(inst, fmt::format("worker {} {} without a result{}", inst.worker,
                                                              describe_exit(status),
                                                              err.empty() ? "" : ": " + err),
                                            core::utc_timestamp()));
      }
    }
    bool all_done = true;
    for (const auto& inst : batch) all_done = all_done && done.count(inst.index);
    if (all_done) pos = batch_end;
  }
  return true;
}

}  // namespace converge::runners
