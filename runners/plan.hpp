#pragma once
// Planning: a suite on a partition becomes numbered instances, each with the worker that runs
// it and how many processes it takes, before anything starts (`converge run --dry-run`).
#include <map>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "results/run_document.hpp"
#include "runners/site.hpp"
#include "runners/suite.hpp"

namespace converge::runners {

using results::json;

/// Where an instance's processes go: one process on one node; one on every node of the
/// allocation (node screening); or every task of the partition (a multi-rank benchmark).
enum class Placement { one, per_node, all };
std::string to_string(Placement p);

struct PlannedInstance {
  int index = 0;  ///< position in the run's plan; results carry it as "instance"
  std::string benchmark;
  std::string worker;  ///< executable that runs it
  std::string backend;
  std::map<std::string, std::string> params;
  json policy = json::object();  ///< overrides of the run's policy for this instance
  int ranks = 1;                 ///< processes; each reports a result or "done" (gathered at rank 0)
  Placement placement = Placement::one;
};

struct Plan {
  std::vector<PlannedInstance> instances;
  std::vector<std::string> excluded;  ///< "benchmark: why not on this partition", for the dry run
};

/// Backends whose benchmarks span ranks (they run on every task of the partition by default).
bool is_multi_rank_backend(const std::string& backend);

/// Plans a resolved suite on a partition. `screening` runs every instance once per node.
/// `nodes` is the node count to use (the partition's, or the allocation's inside one).
core::Expected<Plan> make_plan(const Suite& suite, const WorkerSet& workers, const Partition& partition,
                               int nodes, bool screening);

/// The plan as the run document keeps it (SCHEMA.md, Plan) and back; workers are looked up
/// again by benchmark id.
json plan_to_json(const std::vector<PlannedInstance>& plan);
core::Expected<std::vector<PlannedInstance>> plan_from_json(const json& j, const WorkerSet& workers);

}  // namespace converge::runners
