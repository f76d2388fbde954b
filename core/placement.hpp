#pragma once
// Where this process sits in a launch: its rank among the launched processes and the node it
// runs on, read from what mpirun (Open MPI, PMIx, MPICH, MVAPICH) and srun put in the
// environment. A process started by hand is rank 0 of 1.
#include <string>

namespace converge::core {

struct Placement {
  int rank = 0;        ///< global rank, 0-based
  int size = 1;        ///< processes in the launch
  int local_rank = 0;  ///< rank among the processes on this node
  std::string node;    ///< Slurm's node name (SLURMD_NODENAME) when set, else the hostname
  std::string source;  ///< which launcher's variables were read: "openmpi", "slurm", ... or "none"
};

/// Reads the placement from the environment. Open MPI's variables win over Slurm's, because
/// mpirun inside an allocation sets both and only its own describe this process.
Placement detect_placement();

/// The short hostname (gethostname).
std::string hostname();

}  // namespace converge::core
