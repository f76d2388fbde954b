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

void show_progress(const PlannedInstance& inst, std::size_t done, std::size_t total, int reps,
                   double elapsed) {
  if (!isatty(2)) return;
  std::string params;
  for (const auto& [k, v] : inst.params) params += fmt::format(" {}={}", k, v);
  fmt::print(stderr, "\r\033[K[{}/{}] {}{}{}  {} reps, {:.1f} s", done + 1, total, inst.benchmark,
             params, inst.ranks > 1 ? fmt::format(" ({} ranks)", inst.ranks) : "", reps, elapsed);
  std::fflush(stderr);
}

}  // namespace

void request_stop() { g_stop = true; }
bool stop_requested() { return g_stop; }

std::vector<json> EventFiles::poll(int ranks) {
  std::vector<json> events;
  for (int r = 0; r < ranks; ++r) {
    std::ifstream in(fmt::format("{}.{}.jsonl", stem_, r), std::ios::binary);
    if (!in) continue;
    std::size_t& offset = offsets_[r];
    in.seekg(static_cast<std::streamoff>(offset));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t start = 0, nl;
    while ((nl = chunk.find('\n', start)) != std::string::npos) {
      try {
        json ev = json::parse(chunk.substr(start, nl - start));
        if (!ev.contains("rank")) ev["rank"] = r;
        events.push_back(std::move(ev));
      } catch (const std::exception&) {
        // A torn line can only be the last one of a crashed worker; it carries no result.
      }
      start = nl + 1;
    }
    offset += start;
  }
  return events;
}

bool Reported::has(int instance, int rank) const {
  auto it = seen_.find(instance);
  return it != seen_.end() && it->second.count(rank);
}
bool Reported::any(int instance) const {
  auto it = seen_.find(instance);
  return it != seen_.end() && !it->second.empty();
}
bool Reported::complete(const PlannedInstance& inst) const {
  for (int r = 0; r < inst.ranks; ++r)
    if (!has(inst.index, r)) return false;
  return true;
}

json synthesized_failure(const PlannedInstance& inst, int rank, const std::string& reason,
                         const std::string& started_at) {
  core::Result r;
  r.benchmark = inst.benchmark;
  r.backend = inst.backend;
  r.instance = inst.index;
  r.rank = rank;
  r.params = inst.params;
  r.status = core::Status::failed;
  r.reason = reason;
  r.started_at = started_at;
  r.finished_at = core::utc_timestamp();
  r.energy.reason = "not measured: the instance produced no result";
  return results::to_json(r);
}

double instance_timeout(const PlannedInstance& inst, const ExecOptions& options) {
  if (options.timeout_s > 0) return options.timeout_s;
  const double budget = inst.policy.value("budget_s", options.policy.value("budget_s", 30.0));
  return 3 * budget + 60;
}

json worker_plan(const std::vector<PlannedInstance>& instances, const ExecOptions& options) {
  json plan = {{"policy", options.policy}, {"instances", json::array()}};
  if (options.threads > 0) plan["threads"] = options.threads;
  plan["energy"] = options.energy;
  if (options.idle_baseline_s > 0) plan["idle_baseline_s"] = options.idle_baseline_s;
  if (options.min_clock_fraction > 0) plan["min_clock_fraction"] = options.min_clock_fraction;
  plan["peaks"] = json::object();
  for (const auto& [id, v] : options.peaks) plan["peaks"][id] = v;
  for (const auto& inst : instances)
    plan["instances"].push_back({{"index", inst.index}, {"benchmark", inst.benchmark},
                                 {"params", inst.params}, {"policy", inst.policy}});
  return plan;
}

bool execute(const std::vector<PlannedInstance>& instances, const ExecOptions& options, const Sink& sink) {
  fs::create_directories(options.work_dir);
  auto prefix_of = [&](const PlannedInstance& i) {
    return options.prefix ? options.prefix(i) : std::vector<std::string>{};
  };
  Reported reported;
  std::set<int> done;
  std::size_t finished = 0;
  std::size_t pos = 0;
  int launch = 0;
  while (pos < instances.size()) {
    if (g_stop) return false;
    // The next batch: consecutive instances with one worker and one launch command that
    // have not finished yet.
    const auto same = [&](const PlannedInstance& a, const PlannedInstance& b) {
      return a.worker == b.worker && prefix_of(a) == prefix_of(b) && a.ranks == b.ranks;
    };
    std::size_t batch_end = pos;
    while (batch_end < instances.size() && same(instances[batch_end], instances[pos])) ++batch_end;
    std::vector<PlannedInstance> batch;
    for (std::size_t i = pos; i < batch_end; ++i)
      if (!done.count(instances[i].index)) batch.push_back(instances[i]);
    if (batch.empty()) {
      pos = batch_end;
      continue;
    }
    const int ranks = batch.front().ranks;

    const std::string stem = fmt::format("{}/launch-{}", options.work_dir, launch++);
    const std::string plan_path = stem + ".plan.json", err_path = stem + ".stderr";
    EventFiles events(stem + ".events");
    if (auto ok = results::write_json_atomic(plan_path, worker_plan(batch, options)); !ok)
      throw std::runtime_error(ok.error());

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // kill the launch and its children
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<std::string> worker_argv = {batch.front().worker, "--plan", plan_path, "--out", events.pattern()};
    if (options.wrap) worker_argv = options.wrap(worker_argv);
    std::vector<std::string> argv = prefix_of(batch.front());
    argv.insert(argv.end(), worker_argv.begin(), worker_argv.end());
    if (options.on_launch) options.on_launch(argv);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      for (const auto& inst : batch) {
        for (int r = 0; r < inst.ranks; ++r)
          sink.result(inst, synthesized_failure(inst, r, fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)),
                                                core::utc_timestamp()));
        done.insert(inst.index);
      }
      continue;
    }

    const PlannedInstance* current = nullptr;
    std::string current_started;
    double current_t0 = 0;
    int status = 0;
    bool exited = false, timed_out = false, interrupted = false;
    auto find = [&](int index) -> const PlannedInstance* {
      for (const auto& b : batch)
        if (b.index == index) return &b;
      return nullptr;
    };
    auto handle = [&](const json& ev) {
      const std::string kind = ev.value("event", "");
      if (kind == "inventory") {
        if (sink.inventory) sink.inventory(ev.value("host", ""), ev["inventory"]);
        return;
      }
      const PlannedInstance* inst = find(ev.value("index", -1));
      if (inst == nullptr) return;
      const int rank = ev.value("rank", 0);
      if (kind == "start") {
        if (current != inst) {
          current = inst;
          current_started = core::utc_timestamp();
          current_t0 = core::monotonic_seconds();
          show_progress(*inst, finished, instances.size(), 0, 0);
        }
      } else if (kind == "progress") {
        if (rank == 0) show_progress(*inst, finished, instances.size(), ev.value("reps", 0), ev.value("elapsed_s", 0.0));
      } else if (kind == "result" || kind == "done") {
        if (!reported.mark(inst->index, rank)) return;
        if (kind == "result") sink.result(*inst, ev["result"]);
        if (reported.complete(*inst)) {
          if (isatty(2)) fmt::print(stderr, "\r\033[K");
          done.insert(inst->index);
          ++finished;
          if (current == inst) current = nullptr;
        }
      }
    };
    while (!exited) {
      for (const auto& ev : events.poll(ranks)) handle(ev);
      const pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        break;
      }
      if (current && core::monotonic_seconds() - current_t0 > instance_timeout(*current, options)) timed_out = true;
      if (g_stop) interrupted = true;
      if (timed_out || interrupted) {
        // TERM first, so that mpirun and srun can take their ranks down with them.
        kill(-pid, SIGTERM);
        for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (const auto& ev : events.poll(ranks)) handle(ev);
    if (isatty(2)) fmt::print(stderr, "\r\033[K");
    if (interrupted) return false;

    const std::string err = tail_of_file(err_path);
    if (current != nullptr) {
      const std::string reason =
          timed_out ? fmt::format("timed out: no result after {:.0f} s; the worker was killed",
                                  core::monotonic_seconds() - current_t0)
                    : fmt::format("worker crashed: {}{}", describe_exit(status),
                                  err.empty() ? "" : "; stderr: " + err);
      for (int r = 0; r < current->ranks; ++r)
        if (!reported.has(current->index, r)) sink.result(*current, synthesized_failure(*current, r, reason, current_started));
      done.insert(current->index);
      ++finished;
    } else {
      // The launch ended between instances or before the first: fail what it left, once,
      // rather than start it again on the same plan.
      for (const auto& inst : batch) {
        if (done.count(inst.index)) continue;
        done.insert(inst.index);
        ++finished;
        for (int r = 0; r < inst.ranks; ++r)
          if (!reported.has(inst.index, r))
            sink.result(inst, synthesized_failure(inst, r, fmt::format("{} {} without a result{}", argv[0],
                                                                       describe_exit(status), err.empty() ? "" : ": " + err),
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
