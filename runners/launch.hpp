#pragma once
// Launchers: how a planned instance's processes start on a partition. `local` runs the worker
// as a child (through mpirun for several ranks); `mpirun` always through mpirun -np N; `slurm`
// through srun inside an allocation, or an sbatch script from outside one (runners/slurm.hpp).
#include <string>
#include <vector>

#include "runners/plan.hpp"
#include "runners/site.hpp"

namespace converge::runners {

struct LaunchContext {
  const Partition* partition = nullptr;
  std::string mode;        ///< "local", "mpirun", "srun" (inside an allocation) or "sbatch"
  int nodes = 1;           ///< nodes to place instances on
  long local_cpus = 1;     ///< CPUs of this machine (mpirun --oversubscribe above it)
  bool open_mpi = false;   ///< the mpirun command is Open MPI's (takes -x, --oversubscribe)
  std::string job_id;      ///< SLURM_JOB_ID inside an allocation
};

/// Decides the mode from the partition and the environment (SLURM_JOB_ID set: srun).
LaunchContext make_launch_context(const Partition& partition);

/// The command in front of the worker for one instance: empty for a single local process,
/// "mpirun -np N ...", or "srun --nodes ... --ntasks ...". Not for mode "sbatch".
std::vector<std::string> launch_prefix(const LaunchContext& ctx, const PlannedInstance& inst);
/// srun options that place one instance (also used in sbatch scripts).
std::vector<std::string> srun_options(const Partition& p, int nodes, const PlannedInstance& inst);

/// Wraps argv so that the partition's modules are loaded first (bash -lc 'module load ...');
/// argv unchanged without modules.
std::vector<std::string> with_modules(const Partition& p, std::vector<std::string> argv);
/// Exports the partition's variables into this process, for the workers to inherit.
void apply_variables(const Partition& p);

/// argv as a shell would read it back (single quotes where needed).
std::string shell_join(const std::vector<std::string>& argv);
std::string shell_quote(const std::string& word);

/// Loaded environment modules (LOADEDMODULES), in load order.
std::vector<std::string> loaded_modules();

}  // namespace converge::runners
