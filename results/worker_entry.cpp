// main() of every worker executable: the benchmarks linked in register themselves.
#include "results/worker.hpp"

int main(int argc, char** argv) { return converge::results::worker_main(argc, argv); }
