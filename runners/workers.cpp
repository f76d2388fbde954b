#include "runners/workers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

extern char** environ;

namespace converge::runners {

namespace fs = std::filesystem;

std::string self_directory() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

CommandOutput run_command(const std::vector<std::string>& argv) {
  CommandOutput result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = fmt::format("cannot start {}: {}", argv[0], std::strerror(rc));
    return result;
  }
  // Drain both pipes together so a chatty stderr cannot block the child.
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

namespace {

void add_candidates(const fs::path& p, std::vector<std::string>& out) {
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    for (const auto& e : fs::directory_iterator(p, ec)) {
      const auto name = e.path().filename().string();
      if (name.rfind("converge-worker-", 0) == 0 && access(e.path().c_str(), X_OK) == 0)
        out.push_back(e.path().string());
    }
  } else if (fs::exists(p, ec)) {
    out.push_back(p.string());
  }
}

}  // namespace

core::Expected<WorkerSet> WorkerSet::discover() {
  WorkerSet set;
  // CONVERGE_WORKERS first: a worker there replaces the one of the same name beside the driver
  // (a wrapper that sets up a node, say), and its benchmarks win over same-named ones.
  std::vector<std::string> found;
  if (const char* extra = std::getenv("CONVERGE_WORKERS")) {
    std::stringstream ss(extra);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) add_candidates(item, found);
  }
  std::vector<std::string> beside;
  add_candidates(self_directory(), beside);
  std::sort(beside.begin(), beside.end());
  for (const auto& b : beside)
    if (std::none_of(found.begin(), found.end(), [&](const std::string& f) {
          return fs::path(f).filename() == fs::path(b).filename();
        }))
      found.push_back(b);
  for (const auto& w : found) {
    const auto listed = run_command({w, "--list"});
    if (listed.status != 0)
      return core::make_error(fmt::format("worker {} failed to list its benchmarks (status {}): {}",
                                          w, listed.status, listed.err));
    json all;
    try {
      all = json::parse(listed.out);
    } catch (const std::exception& e) {
      return core::make_error(fmt::format("worker {} listed invalid JSON: {}", w, e.what()));
    }
    set.workers_.push_back(w);
    for (const auto& j : all) {
      BenchmarkInfo b;
      b.id = j.at("id").get<std::string>();
      if (set.find(b.id) != nullptr) continue;  // the first worker that has it runs it
      b.family = j.value("family", "");
      b.backend = j.value("backend", "");
      b.summary = j.value("summary", "");
      b.metrics = j.value("metrics", json::array());
      b.worker = w;
      for (const auto& p : j.at("params")) b.params.push_back(results::param_spec_from_json(p));
      set.benchmarks_.push_back(std::move(b));
    }
  }
  if (set.workers_.empty())
    return core::make_error(fmt::format(
        "no worker executables (converge-worker-*) found beside {} or in CONVERGE_WORKERS",
        self_directory()));
  std::sort(set.benchmarks_.begin(), set.benchmarks_.end(),
            [](const BenchmarkInfo& a, const BenchmarkInfo& b) { return a.id < b.id; });
  return set;
}

const BenchmarkInfo* WorkerSet::find(const std::string& id) const {
  for (const auto& b : benchmarks_)
    if (b.id == id) return &b;
  return nullptr;
}

std::vector<std::string> WorkerSet::ids() const {
  std::vector<std::string> out;
  for (const auto& b : benchmarks_) out.push_back(b.id);
  return out;
}

void merge_inventory(json& into, const json& from) {
  if (!into.is_object() || !from.is_object()) return;
  const bool into_has = !into.value("gpus", json::array()).empty();
  const bool from_has = !from.value("gpus", json::array()).empty();
  if (!into_has && from_has) {
    into["gpus"] = from["gpus"];
    into["gpu_probe"] = from.value("gpu_probe", "");
  } else if (!into_has && into.value("gpu_probe", "").empty() && !from.value("gpu_probe", "").empty()) {
    into["gpu_probe"] = from["gpu_probe"];  // no GPU anywhere, but the reason is worth keeping
  }
  const auto blas_library = [](const json& j) { return j.contains("blas") ? j["blas"].value("library", "") : ""; };
  if (blas_library(into).empty() && !blas_library(from).empty()) into["blas"] = from["blas"];
  // Each launch describes the tiers of its own io instances: the node's are their union.
  for (const auto& tier : from.value("storage", json::array())) {
    json& known = into["storage"];
    if (!known.is_array()) known = json::array();
    const bool listed = std::any_of(known.begin(), known.end(),
                                    [&](const json& k) { return k.value("path", "") == tier.value("path", ""); });
    if (!listed) known.push_back(tier);
  }
}

core::Expected<json> WorkerSet::inventory() const {
  std::vector<std::string> order = workers_;  // the CPU worker first: it describes the host
  std::stable_partition(order.begin(), order.end(),
                        [](const std::string& w) { return fs::path(w).filename() == "converge-worker-cpu"; });
  json merged;
  for (const auto& w : order) {
    const auto r = run_command({w, "--inventory"});
    if (r.status != 0)
      return core::make_error(fmt::format("{} --inventory failed (status {}): {}", w, r.status, r.err));
    try {
      json one = json::parse(r.out);
      if (merged.is_null()) merged = std::move(one);
      else merge_inventory(merged, one);
    } catch (const std::exception& e) {
      return core::make_error(fmt::format("{} --inventory gave invalid JSON: {}", w, e.what()));
    }
  }
  return merged;
}

}  // namespace converge::runners
