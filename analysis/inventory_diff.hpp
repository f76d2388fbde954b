#pragma once
// What differs between inventories: between one node and the rest of a partition (node
// screening), or between a baseline run and a candidate (compare: the likely cause of a
// regression after an upgrade is what changed).
#include <map>
#include <string>
#include <vector>

#include "results/run_document.hpp"

namespace converge::analysis {

/// One difference: a flattened key such as "blas.corename" or "environment.OMP_NUM_THREADS",
/// the value here, and the value it is compared with ("(unset)" where the key is absent).
struct Difference {
  std::string key, value, usual;
};

/// Inventory JSON flattened to "a.b.c" keys (arrays of objects as "a[0].b"); scalars and
/// scalar arrays as text.
std::map<std::string, std::string> flatten_inventory(const results::json& inventory);

/// Keys that differ between healthy nodes and repeated runs by nature: hostname, free memory,
/// derived warnings, SLURM_* job, node and rank variables.
bool differs_by_nature(const std::string& key);

/// What changed from `before` to `after` (key, after's value, before's value in `usual`),
/// sorted by key, without the keys that differ by nature.
std::vector<Difference> inventory_changes(const results::json& before, const results::json& after);

}  // namespace converge::analysis
