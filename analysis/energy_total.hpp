#pragma once
// The run's energy: each result carries its node's figure (one reader per node), so an
// instance that ran on several nodes cost the sum over its nodes, and the run the sum over
// its instances. Each node's figure stays in its result.
#include "results/run_document.hpp"

namespace converge::analysis {

/// {"measured": any result measured, "joules": total, "by_instance": {"3": J, ...},
///  "by_host": {"n1": J, ...}, "results_measured": N, "results_not_measured": M} over the
/// results' `energy` objects (measured ones only; an instance's ranks on one node count once,
/// as only local rank 0 measures).
results::json run_energy(const results::json& results);

}  // namespace converge::analysis
