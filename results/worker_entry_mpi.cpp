// main() of the MPI workers (collectives, io): the shared worker command line, run by every
// rank together over MPI_COMM_WORLD (MPI is initialised only when instances run, never for
// --list or --inventory). Compiled into each MPI worker, which links core/mpi; the results
// library itself links no MPI.
#include <cstdlib>

#include "core/mpi/mpi_group.hpp"
#include "results/worker.hpp"

int main(int argc, char** argv) {
  // Ranks are placed and bound by the launcher (mpirun --bind-to, srun --cpu-bind); the
  // worker's own OpenMP pinning would put every rank's main thread on the first CPU of its
  // mask, all on one core when the launcher does not bind (oversubscribed runs).
  setenv("CONVERGE_BINDING_SET", "1", 0);
  return converge::results::worker_main(
      argc, argv, [] { return std::make_unique<converge::core::mpi::WorldGroup>(); });
}
