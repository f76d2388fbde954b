// The shared worker command line. Every worker executable (cpu, cuda, mpi, ...) runs this
// main with the benchmarks it was linked with; the driver talks to workers only through it.
#include "results/worker.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <omp.h>

#include "core/energy/recorder.hpp"
#include "core/filesystem.hpp"
#include "core/group.hpp"
#include "core/harness.hpp"
#include "core/inventory.hpp"
#include "core/placement.hpp"
#include "results/run_document.hpp"

namespace converge::results {

namespace {

json spec_to_json(const core::BenchmarkSpec& s) {
  json params = json::array();
  for (const auto& p : s.params) params.push_back(to_json(p));
  json metrics = json::array();
  for (const auto& m : s.metrics)
    metrics.push_back({{"name", m.name}, {"unit", m.unit}, {"kind", core::to_string(m.kind)},
                       {"quantity", core::to_string(m.quantity)},
                       {"direction", core::to_string(m.direction)}});
  return {{"id", s.id}, {"family", s.family}, {"backend", s.backend}, {"summary", s.summary},
          {"params", params}, {"metrics", metrics}};
}

core::RepetitionPolicy policy_from_json(const json& j, core::RepetitionPolicy p) {
  p.warmup = j.value("warmup", p.warmup);
  p.min_reps = j.value("min_reps", p.min_reps);
  p.max_reps = j.value("max_reps", p.max_reps);
  p.min_time_s = j.value("min_time_s", p.min_time_s);
  p.ci_target = j.value("ci_target", p.ci_target);
  p.budget_s = j.value("budget_s", p.budget_s);
  return p;
}

// Pins OpenMP threads one per core unless the user chose a binding: libgomp reads
// OMP_PROC_BIND when it loads, before main(), so the worker re-executes itself once.
void ensure_thread_binding(char** argv) {
  if (std::getenv("OMP_PROC_BIND") != nullptr || std::getenv("CONVERGE_BINDING_SET") != nullptr)
    return;
  if (cpu_set_t mask; sched_getaffinity(0, sizeof mask, &mask) == 0)
    setenv("CONVERGE_INITIAL_CPUS", std::to_string(CPU_COUNT(&mask)).c_str(), 1);
  setenv("OMP_PROC_BIND", "close", 1);
  if (std::getenv("OMP_PLACES") == nullptr) setenv("OMP_PLACES", "cores", 1);
  setenv("CONVERGE_BINDING_SET", "1", 1);
  execv("/proc/self/exe", argv);
  // execv failed: carry on unpinned; the inventory records the variables as they are.
}

struct Instance {
  int index = 0;
  std::string benchmark;
  std::map<std::string, std::string> params;
  core::RepetitionPolicy policy;
};

// Writes one JSON Lines event and flushes it, so a crash loses nothing written before.
class EventSink {
 public:
  explicit EventSink(const std::string& path) {
    if (!path.empty() && path != "-") {
      file_ = std::fopen(path.c_str(), "a");
      if (file_ == nullptr)
        throw std::runtime_error(fmt::format("cannot open '{}' for writing", path));
    }
  }
  ~EventSink() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void write(const json& event) {
    FILE* f = file_ != nullptr ? file_ : stdout;
    const std::string line = event.dump() + "\n";
    std::fwrite(line.data(), 1, line.size(), f);
    std::fflush(f);
  }

 private:
  FILE* file_ = nullptr;
};

// "{rank}" in an output path becomes this process's rank, so that every rank of a launch
// writes its own file (as srun's %t).
std::string expand_rank(std::string path, int rank) {
  for (std::size_t at; (at = path.find("{rank}")) != std::string::npos;)
    path.replace(at, 6, std::to_string(rank));
  return path;
}

// The storage tiers this worker's io instances will write to, one entry per path as given
// (SCHEMA.md, inventory.storage), described before any of them runs.
void describe_storage(const std::vector<Instance>& instances, core::Inventory& inv) {
  for (const auto& inst : instances) {
    const auto* spec = core::Registry::instance().find(inst.benchmark);
    if (spec == nullptr || spec->family != "io") continue;
    auto value = [&](const std::string& name) -> std::optional<std::string> {
      if (auto it = inst.params.find(name); it != inst.params.end()) return it->second;
      for (const auto& p : spec->params)
        if (p.name == name) return p.default_value;
      return std::nullopt;
    };
    const auto path = value("path");
    if (!path) continue;
    const bool known = std::any_of(inv.storage.begin(), inv.storage.end(),
                                   [&](const core::StorageInventory& s) { return s.path == *path; });
    if (!known) inv.storage.push_back(core::describe_storage(value("tier").value_or(""), *path));
  }
}

int run_instances(const std::vector<Instance>& instances, const core::Context& ctx,
                  const core::Placement& where, const std::string& out, bool with_inventory) {
  EventSink sink(expand_rank(out, where.rank));
  const int group_rank = ctx.group != nullptr && ctx.group->size() > 1 ? ctx.group->rank() : 0;
  // One process per node says what the node is, so a multi-node run records every node.
  if (with_inventory && where.local_rank == 0) {
    core::Inventory inv = *ctx.inventory;
    describe_storage(instances, inv);
    sink.write({{"event", "inventory"}, {"host", where.node}, {"rank", where.rank}, {"inventory", to_json(inv)}});
  }
  for (const auto& inst : instances) {
    sink.write({{"event", "start"}, {"index", inst.index}, {"rank", where.rank}, {"benchmark", inst.benchmark}});
    const auto* spec = core::Registry::instance().find(inst.benchmark);
    core::Result r;
    if (spec == nullptr) {
      r.benchmark = inst.benchmark;
      r.status = core::Status::failed;
      r.reason = "this worker has no benchmark '" + inst.benchmark + "'";
    } else {
      double last = -1;
      try {
        r = core::run_instance(*spec, inst.params, inst.policy, ctx, [&](int reps, double elapsed) {
          if (elapsed - last >= 0.5) {
            last = elapsed;
            sink.write({{"event", "progress"}, {"index", inst.index}, {"rank", where.rank}, {"reps", reps},
                        {"elapsed_s", elapsed}});
          }
        });
      } catch (const core::RankFailure& e) {
        // The other ranks may wait in a collective step for ever: record this rank's failure
        // (the driver keeps it), then take the whole launch down.
        r.benchmark = inst.benchmark;
        r.family = spec->family;
        r.backend = spec->backend;
        r.status = core::Status::failed;
        r.reason = fmt::format("rank {} failed, the launch was aborted: {}", where.rank, e.what());
        r.instance = inst.index;
        r.host = where.node;
        r.rank = where.rank;
        sink.write({{"event", "result"}, {"index", inst.index}, {"rank", where.rank}, {"result", to_json(r)}});
        ctx.group->abort(1);
      }
    }
    r.instance = inst.index;
    r.host = where.node;
    r.rank = where.rank;
    if (group_rank > 0)  // rank 0 writes the instance's one result for all ranks
      sink.write({{"event", "done"}, {"index", inst.index}, {"rank", where.rank}});
    else
      sink.write({{"event", "result"}, {"index", inst.index}, {"rank", where.rank}, {"result", to_json(r)}});
  }
  return 0;
}

int default_threads(const core::Inventory& inv) {
  // One thread per physical core unless OMP_NUM_THREADS says otherwise (SMT siblings share
  // the FMA units and the load ports, so they add nothing to peak or bandwidth figures) --
  // but no more than the CPUs this process may use (its affinity mask before pinning, as a
  // launcher or cgroup set it) or Slurm gave the task (SLURM_CPUS_PER_TASK).
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return omp_get_max_threads();
  int n = inv.cpu.cores > 0 ? inv.cpu.cores : omp_get_max_threads();
  if (const char* allowed = std::getenv("CONVERGE_INITIAL_CPUS"); allowed != nullptr && std::atoi(allowed) > 0)
    n = std::min(n, std::atoi(allowed));
  if (const char* per_task = std::getenv("SLURM_CPUS_PER_TASK"); per_task != nullptr && std::atoi(per_task) > 0)
    n = std::min(n, std::atoi(per_task));
  return n;
}

}  // namespace

int worker_main(int argc, char** argv, const GroupFactory& make_group) {
  CLI::App app{"converge worker: runs the benchmarks linked into this executable and writes "
               "results in the run schema (results/SCHEMA.md). The converge driver starts it; "
               "it can also be run by hand."};
  app.set_version_flag("--version", "converge worker");
  bool list = false, inventory = false;
  std::string benchmark, plan_path, out;
  std::vector<int> only;
  std::vector<std::string> param_args, peak_args;
  core::RepetitionPolicy policy;
  int threads = 0;
  std::string energy_meters = "auto";
  double idle_baseline_s = 0;
  double min_clock_fraction = 0;
  app.add_flag("--list", list, "Print the benchmarks this worker has (JSON) and exit");
  app.add_flag("--inventory", inventory, "Print this node's inventory (JSON) and exit");
  app.add_option("--benchmark,-b", benchmark, "Run one benchmark instance");
  app.add_option("--param,-p", param_args, "Parameter name=value (repeatable)");
  app.add_option("--plan", plan_path, "Run the instances of a plan file (JSON, from the driver)");
  app.add_option("--only", only, "With --plan: run only the instances with these indices")->delimiter(',');
  app.add_option("--out,-o", out,
                 "Append JSON Lines events here (default: stdout); {rank} becomes the process's rank");
  app.add_option("--threads", threads, "OpenMP threads (default: one per physical core, at most the CPUs this process may use and SLURM_CPUS_PER_TASK)")
      ->check(CLI::PositiveNumber);
  app.add_option("--energy", energy_meters,
                 "Energy meters: auto (rapl, nvml: those this node has), none, or a list such as rapl,nvml,ipmi")
      ->capture_default_str();
  app.add_option("--min-clock-fraction", min_clock_fraction,
                 "Flag a result whose GPU clock ended below this fraction of its maximum (0: off)")
      ->capture_default_str();
  app.add_option("--idle-baseline", idle_baseline_s,
                 "Seconds of idle power measured before the first benchmark (0: none)")
      ->capture_default_str();
  app.add_option("--peak", peak_args, "Peak override id=value in base units, e.g. cpu.fp64=1e12");
  app.add_option("--warmup", policy.warmup, "Warm-up repetitions")->capture_default_str();
  app.add_option("--min-reps", policy.min_reps, "Minimum timed repetitions")->capture_default_str();
  app.add_option("--max-reps", policy.max_reps, "Maximum timed repetitions")->capture_default_str();
  app.add_option("--min-time", policy.min_time_s, "Minimum timed seconds")->capture_default_str();
  app.add_option("--ci-target", policy.ci_target,
                 "Stop when the 95% CI of the median is this narrow, relative")->capture_default_str();
  app.add_option("--budget", policy.budget_s, "Wall seconds per instance")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (list) {
    json all = json::array();
    for (const auto& s : core::Registry::instance().all()) all.push_back(spec_to_json(s));
    std::cout << all.dump(2) << "\n";
    return 0;
  }
  ensure_thread_binding(argv);
  core::Inventory inv = core::collect_full_inventory();
  if (inventory) {
    std::cout << to_json(inv).dump(2) << "\n";
    return 0;
  }

  core::PeakModel peaks = core::PeakModel::from_inventory(inv);
  std::vector<Instance> instances;
  try {
    if (!plan_path.empty()) {
      auto plan = read_json_file(plan_path);
      if (!plan) {
        std::cerr << "converge worker: " << plan.error() << "\n";
        return 2;
      }
      policy = policy_from_json(plan->value("policy", json::object()), policy);
      if (plan->contains("threads")) threads = (*plan)["threads"].get<int>();
      if (plan->contains("energy")) energy_meters = (*plan)["energy"].get<std::string>();
      idle_baseline_s = plan->value("idle_baseline_s", idle_baseline_s);
      min_clock_fraction = plan->value("min_clock_fraction", min_clock_fraction);
      const json overrides = plan->value("peaks", json::object());
      for (const auto& [id, v] : overrides.items()) peaks.apply_override(id, v.get<double>());
      int index = 0;
      for (const auto& j : plan->at("instances")) {
        Instance inst;
        inst.index = j.value("index", index++);
        inst.benchmark = j.at("benchmark").get<std::string>();
        const json params = j.value("params", json::object());
        for (const auto& [k, v] : params.items())
          inst.params[k] = v.is_string() ? v.get<std::string>() : v.dump();
        inst.policy = policy_from_json(j.value("policy", json::object()), policy);
        if (only.empty() || std::find(only.begin(), only.end(), inst.index) != only.end())
          instances.push_back(std::move(inst));
      }
    } else if (!benchmark.empty()) {
      Instance inst;
      inst.benchmark = benchmark;
      inst.policy = policy;
      for (const auto& a : param_args) {
        auto kv = core::split_assignment(a);
        if (!kv) {
          std::cerr << "converge worker: --param " << kv.error() << "\n";
          return 2;
        }
        inst.params[kv->first] = kv->second;
      }
      if (core::Registry::instance().find(benchmark) == nullptr) {
        auto near = core::Registry::instance().nearest(benchmark);
        std::cerr << fmt::format("converge worker: unknown benchmark '{}'{}\n", benchmark,
                                 near.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(near, ", ")));
        return 2;
      }
      instances.push_back(std::move(inst));
    } else {
      std::cerr << app.help() << "\nconverge worker: nothing to do (--list, --inventory, "
                                 "--benchmark or --plan)\n";
      return 2;
    }
    for (const auto& a : peak_args) {
      auto kv = core::split_assignment(a);
      auto v = kv ? core::parse_real(kv->second) : core::Expected<double>(core::make_error(kv.error()));
      if (!v) {
        std::cerr << "converge worker: --peak " << v.error() << "\n";
        return 2;
      }
      peaks.apply_override(kv->first, *v);
    }
  } catch (const std::exception& e) {
    std::cerr << "converge worker: bad plan '" << plan_path << "': " << e.what() << "\n";
    return 2;
  }

  // One process per node reads the meters (the node-local rank 0), so ranks sharing a node
  // never count its energy twice.
  const core::Placement where = core::detect_placement();
  std::unique_ptr<core::energy::Recorder> recorder;
  core::Context ctx;
  if (where.local_rank == 0) {
    core::energy::RecorderOptions options;
    options.meters = energy_meters;
    options.min_clock_fraction = min_clock_fraction;
    recorder = std::make_unique<core::energy::Recorder>(options);
    recorder->measure_idle(idle_baseline_s);  // before any benchmark loads the node
  } else {
    ctx.energy_reason = fmt::format("not measured by this rank: local rank 0 on {} reads the node's meters", where.node);
  }
  ctx.energy = recorder.get();
  ctx.inventory = &inv;
  ctx.peaks = &peaks;
  ctx.threads = threads > 0 ? threads : default_threads(inv);
  omp_set_num_threads(ctx.threads);
  try {
    std::unique_ptr<core::Group> group = make_group ? make_group() : nullptr;
    ctx.group = group.get();
    return run_instances(instances, ctx, where, out, !plan_path.empty());
  } catch (const std::exception& e) {
    std::cerr << "converge worker: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace converge::results
