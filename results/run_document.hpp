#pragma once
// The run document: one JSON file per run, schema-versioned (results/SCHEMA.md), written
// atomically. This header is the only place that knows the JSON form of core's types.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/expected.hpp"
#include "core/inventory.hpp"
#include "core/peak.hpp"
#include "core/result.hpp"

namespace converge::results {

using json = nlohmann::ordered_json;

/// Bumped on any incompatible change of the document's shape; readers refuse newer majors.
inline constexpr int kSchemaVersion = 1;

struct RunDocument {
  int schema_version = kSchemaVersion;
  std::string run_id;          ///< "20261123T101500Z-3f9a2c"
  std::string suite;           ///< suite name, or the benchmark id for a single-benchmark run
  std::string site = "local";
  std::string partition = "local";
  std::vector<std::string> hosts;
  std::string command_line;    ///< how the driver was invoked
  /// How it was launched (SCHEMA.md, Launch): launcher, partition config, modules, and one
  /// entry per attempt (a resumed run has several) with its commands and Slurm job.
  json launch = {{"launcher", "local"}, {"site_source", "detected"}, {"partition_config", json::object()},
                 {"modules", json::array()}, {"attempts", json::array()}};
  std::string started_at, finished_at;  ///< UTC ISO 8601
  bool complete = true;        ///< false while running or when interrupted
  core::Inventory inventory;
  /// Each node's inventory, by host, when a launch reached other nodes (empty for a local run).
  std::map<std::string, core::Inventory> node_inventories;
  std::map<std::string, core::Peak> peaks;  ///< peak model used for fractions of peak
  /// The planned instances (SCHEMA.md, Plan); `--resume` runs those without a result.
  json plan = json::array();
  /// The run's energy summed over results and nodes (SCHEMA.md, Run energy).
  json energy = {{"measured", false}, {"joules", nullptr}, {"by_instance", json::object()},
                 {"by_host", json::object()}, {"results_measured", 0}, {"results_not_measured", 0}};
  std::vector<core::Result> results;
};

/// The JSON form of core's types (results/SCHEMA.md). Writers emit every field, keys in the
/// documented order, non-finite doubles as null. Readers take a missing field as its default,
/// read a null double as NaN, and throw std::runtime_error naming the field's path
/// ("results[2].time.median: ...") for a wrong type or an unknown enum value.
/// A declared parameter as workers list it (`--list`) and the driver reads it back.
json to_json(const core::ParamSpec& p);
core::ParamSpec param_spec_from_json(const json& j);
json to_json(const core::Peak& p);
core::Peak peak_from_json(const json& j);
json to_json(const core::Inventory& inv);
core::Inventory inventory_from_json(const json& j);
json to_json(const core::Result& r);
core::Result result_from_json(const json& j);
json to_json(const RunDocument& doc);
/// Reads a document; refuses a schema_version it does not know, naming both versions. Never
/// throws: a malformed field becomes an error naming its path.
core::Expected<RunDocument> run_from_json(const json& j);

/// Writes `text` to `path` atomically: a temporary file in the same directory, fsync, rename,
/// fsync of the directory. Creates missing parent directories. A reader sees the old file or
/// the new one, never a mix.
core::Expected<void> write_file_atomic(const std::string& path, const std::string& text);
/// write_file_atomic of `j` indented by 2, with a final newline.
core::Expected<void> write_json_atomic(const std::string& path, const json& j);
/// Reads and parses a JSON file; errors name the path and, for bad JSON, the byte position.
core::Expected<json> read_json_file(const std::string& path);

/// A new run id: UTC time and 6 random hex digits.
std::string make_run_id();

}  // namespace converge::results
