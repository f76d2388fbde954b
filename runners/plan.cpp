#include "runners/plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/params.hpp"
#include "runners/workers.hpp"

namespace converge::runners {

std::string to_string(Placement p) {
  switch (p) {
    case Placement::one: return "one";
    case Placement::per_node: return "per_node";
    case Placement::all: return "all";
  }
  return "?";
}

bool is_multi_rank_backend(const std::string& backend) {
  return backend == "mpi" || backend == "nccl" || backend == "mpiio";
}

core::Expected<Plan> make_plan(const Suite& suite, const WorkerSet& workers, const Partition& partition,
                               int nodes, bool screening) {
  Plan plan;
  for (const auto& s : suite.instances) {
    const auto* b = workers.find(s.benchmark);
    if (b == nullptr) return core::make_error("unknown benchmark " + s.benchmark);  // resolve_suite checked
    if (!s.partitions.empty() &&
        std::find(s.partitions.begin(), s.partitions.end(), partition.name) == s.partitions.end()) {
      plan.excluded.push_back(fmt::format("{}: the suite runs it on {} only", s.benchmark, fmt::join(s.partitions, ", ")));
      continue;
    }
    if (!partition.backends.empty() &&
        std::find(partition.backends.begin(), partition.backends.end(), b->backend) == partition.backends.end()) {
      plan.excluded.push_back(fmt::format("{}: backend {} is not among partition {}'s backends ({})", s.benchmark,
                                          b->backend, partition.name, fmt::join(partition.backends, ", ")));
      continue;
    }
    PlannedInstance p;
    p.index = static_cast<int>(plan.instances.size());
    p.benchmark = s.benchmark;
    p.worker = b->worker;
    p.backend = b->backend;
    p.params = s.params;
    p.policy = s.policy;
    const bool multi = s.ranks == "all" || (s.ranks.empty() && is_multi_rank_backend(b->backend));
    if (multi) {
      p.placement = Placement::all;
      p.ranks = nodes * partition.tasks_per_node;
    } else if (!s.ranks.empty()) {
      p.placement = Placement::all;
      p.ranks = static_cast<int>(*core::parse_integer(s.ranks));
    } else if (screening) {
      p.placement = Placement::per_node;
      p.ranks = nodes;
    }
    // IO benchmarks run on every storage tier of the partition, one instance per tier, unless
    // the suite gave a path.
    const auto declares = [&](const char* name) {
      return std::any_of(b->params.begin(), b->params.end(), [&](const core::ParamSpec& ps) { return ps.name == name; });
    };
    if (b->family == "io" && !partition.storage.empty() && !p.params.count("path") && declares("path")) {
      for (const auto& tier : partition.storage) {
        PlannedInstance t = p;
        t.index = static_cast<int>(plan.instances.size());
        t.params["path"] = tier.path;
        if (declares("tier")) t.params["tier"] = tier.name;
        plan.instances.push_back(std::move(t));
      }
      continue;
    }
    plan.instances.push_back(std::move(p));
  }
  return plan;
}

json plan_to_json(const std::vector<PlannedInstance>& plan) {
  json out = json::array();
  for (const auto& p : plan)
    out.push_back({{"instance", p.index}, {"benchmark", p.benchmark}, {"params", p.params}, {"policy", p.policy},
                   {"ranks", p.ranks}, {"placement", to_string(p.placement)}});
  return out;
}

core::Expected<std::vector<PlannedInstance>> plan_from_json(const json& j, const WorkerSet& workers) {
  std::vector<PlannedInstance> out;
  try {
    for (const auto& e : j) {
      PlannedInstance p;
      p.index = e.at("instance").get<int>();
      p.benchmark = e.at("benchmark").get<std::string>();
      const auto* b = workers.find(p.benchmark);
      if (b == nullptr)
        return core::make_error(fmt::format("the run's plan has {}, which no worker here provides", p.benchmark));
      p.worker = b->worker;
      p.backend = b->backend;
      p.params = e.at("params").get<std::map<std::string, std::string>>();
      p.policy = e.value("policy", json::object());
      p.ranks = e.value("ranks", 1);
      const std::string pl = e.value("placement", "one");
      p.placement = pl == "per_node" ? Placement::per_node : pl == "all" ? Placement::all : Placement::one;
      out.push_back(std::move(p));
    }
  } catch (const std::exception& e) {
    return core::make_error(std::string("the run document's plan is malformed: ") + e.what());
  }
  return out;
}

}  // namespace converge::runners
