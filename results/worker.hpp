#pragma once
// The worker side of the run protocol: one command line shared by every worker executable
// (as every nccl-tests binary takes the same arguments). See results/SCHEMA.md, "Worker".
#include <functional>
#include <memory>

#include "core/group.hpp"

namespace converge::results {

/// Makes the group of ranks a multi-rank worker runs its instances with (MPI_COMM_WORLD in
/// the MPI worker). Called once, only when instances are about to run (never for --list or
/// --inventory), after the worker has re-executed itself for thread binding.
using GroupFactory = std::function<std::unique_ptr<core::Group>()>;

/// Runs the worker command line. Exit status: 0 when every instance ran (whatever its
/// status), 2 for bad input, 1 for an internal error. With a group of several ranks, every
/// rank runs every instance together and rank 0 alone writes the results (the others write
/// "done" events); a rank that fails after setup writes its failure and aborts the group.
int worker_main(int argc, char** argv, const GroupFactory& make_group = {});

}  // namespace converge::results
