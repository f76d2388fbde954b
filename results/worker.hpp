#pragma once
// The worker side of the run protocol: one command line shared by every worker executable
// (as every nccl-tests binary takes the same arguments). See results/SCHEMA.md, "Worker".
namespace converge::results {

/// Runs the worker command line. Exit status: 0 when every instance ran (whatever its
/// status), 2 for bad input, 1 for an internal error.
int worker_main(int argc, char** argv);

}  // namespace converge::results
