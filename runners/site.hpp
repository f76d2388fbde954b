#pragma once
// Site configs (runners/sites/*.yaml): a site has partitions; a partition says how to launch
// on its nodes (local, mpirun, slurm), with what resources and environment, which energy
// meters and peak figures apply, and what the vendor committed to (acceptance references).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "results/run_document.hpp"

namespace converge::runners {

class WorkerSet;

enum class LauncherKind { local, mpirun, slurm };
std::string to_string(LauncherKind k);

/// One figure the partition must reach, in ReFrame's form: value with relative lower and
/// upper tolerances (-0.1 = 10% below; empty = unbounded), in the metric's unit.
struct Reference {
  std::string metric;
  double value = 0;               ///< in the metric's base unit (a prefixed unit is converted)
  std::optional<double> lower;    ///< relative, <= 0
  std::optional<double> upper;    ///< relative, >= 0
  std::string unit;               ///< as written in the file
  int line = 0;
};

/// References of one benchmark instance: "micro.gemm.dgemm" or "micro.gemm.dgemm n=4096".
struct ReferenceEntry {
  std::string key;  ///< as written
  std::string benchmark;
  std::map<std::string, std::string> params;
  std::vector<Reference> metrics;
  int line = 0;
};

/// A storage tier of a partition: where the IO benchmarks write (inside a fresh directory they
/// create there) and what it is, so reports can compare tiers side by side.
struct StorageTier {
  std::string name;  ///< "scratch", "store", "nvme"
  std::string path;  ///< a directory every node of the partition sees (or each sees its own, for node-local)
  std::string kind;  ///< flash, hdd, burst_buffer, node_local_nvme, memory, other
  int line = 0;
};

struct Partition {
  std::string name, description;
  LauncherKind launcher = LauncherKind::local;
  struct {
    std::string partition, account, qos, constraint, time;  ///< sbatch -p -A -q -C -t
    std::string mpi;  ///< srun --mpi= (pmix, pmi2, ...) for every step; "": the cluster's MpiDefault
    std::vector<std::string> options;                       ///< extra sbatch options
  } slurm;
  struct {
    std::string command = "mpirun";
    std::vector<std::string> options;  ///< extra mpirun options
    std::vector<std::string> hosts;    ///< --host list; empty: this machine
  } mpirun;
  int nodes = 1, tasks_per_node = 1, cpus_per_task = 0, gpus_per_node = 0;
  std::vector<std::string> modules;            ///< `module load` before the workers start
  std::map<std::string, std::string> variables;///< exported to the workers
  std::vector<std::string> backends;           ///< benchmark backends run here; empty: all
  std::vector<std::string> energy;             ///< meters: rapl, nvml, likwid, ipmi
  double min_clock_fraction = 0;               ///< flag results whose clock ended below this fraction of max
  std::map<std::string, double> peaks;         ///< peak overrides, base units
  std::vector<StorageTier> storage;            ///< tiers the io benchmarks run on, each in turn
  std::vector<ReferenceEntry> references;
  int line = 0;
  results::json config = results::json::object();  ///< the partition as written (for the run document)
};

struct Site {
  std::string name, description;
  std::string source;  ///< file path, "builtin:NAME", or "detected"
  std::string results_db;  ///< results store for runs on this site ("" = the default)
  std::vector<Partition> partitions;
  const Partition* find(const std::string& name) const;
  std::vector<std::string> partition_names() const;
};

/// The known energy meter names.
const std::vector<std::string>& energy_meter_names();

/// The site used when none is given: one partition `local`, this machine, detected.
Site default_site();
/// Names and descriptions of the example sites built into the driver.
std::vector<std::pair<std::string, std::string>> builtin_sites();
/// Loads a built-in site by name, or a YAML file. Errors name file:line.
core::Expected<Site> load_site(const std::string& name_or_path);
core::Expected<Site> parse_site(const std::string& text, const std::string& source);
/// Parses one partition from its YAML text (the run document keeps it as JSON, which is YAML).
core::Expected<Partition> parse_partition_text(const std::string& text, const std::string& source);
/// Checks references against what the workers declare: known benchmark, parameters, metric
/// names and units; converts prefixed reference values to base units. Errors name file:line
/// and the nearest valid names.
core::Expected<void> validate_site(Site& site, const WorkerSet& workers);

}  // namespace converge::runners
