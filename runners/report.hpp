#pragma once
// What the driver prints for people: the results table and the inventory.
#include <string>
#include <vector>

#include "results/run_document.hpp"

namespace converge::runners {

/// The results table: benchmark, parameters, metric, median, 95% CI, fraction of peak,
/// repetitions, CV and status with verification. Skipped, failed and invalid results show
/// their reason instead of a figure. `given[i]` holds the parameters the user or suite gave
/// result i (the table shows those, and what "auto" resolved to for threads, n and size).
std::string results_table(const results::json& run, const std::vector<results::json>& given);
/// One line for a finished instance (progress log on non-terminals).
std::string result_line(const results::json& result, const results::json& given);
/// The inventory, with the peak model and any warnings, for `converge info`.
std::string inventory_text(const results::json& inventory, const results::json& peaks);

}  // namespace converge::runners
