// collectives.mpi.bcast: MPI_Bcast (root 0) of `size` bytes, `iterations` back-to-back
// operations per timed repetition (OSU's osu_bcast count), nccl-tests' algbw and busbw (factor
// 1). Input: element i of the root = pattern(0, i); every other rank must receive exactly that,
// and the root's buffer must come back unchanged. No in_place parameter: a broadcast has one
// buffer per rank.
#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::bcast;

class Bcast final : public CollectiveBenchmark {
 public:
  Bcast() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override { send_ = Buffer(t_, count_); }  // the one buffer of every rank

  // The root holds its pattern; the others a sentinel that no expected value equals.
  void fill_inputs() override {
    if (root())
      fill_pattern(send_, t_, kRoot);
    else
      fill_value(send_, t_, -1);
  }

  void operate() override { CONVERGE_MPI_CHECK(MPI_Bcast(send_.data(), int(count_), mpi_type(t_), kRoot, comm_)); }

  Output output() override { return {send_, count_}; }
  double expected(std::uint64_t i) const override { return pattern(kRoot, i); }

  std::string method() const override {
    return "one broadcast from rank 0 of pattern(0, i) = 1 + i % 7 into buffers reset to -1: every element "
           "on every rank == the root's, exactly (the root's buffer unchanged)";
  }

  std::string operation() const override {
    return fmt::format("MPI_Bcast(root {}, {} x {})", kRoot, count_, dtype_name(t_));
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_bcast,
                            collective_spec(kC,
                                            "MPI_Bcast (root 0): latency per operation, algbw and busbw (nccl-tests "
                                            "factor 1)",
                                            "bytes broadcast (nccl-tests' size; OSU's message size)", InPlace::no,
                                            [] { return std::make_unique<Bcast>(); }));

}  // namespace converge::collectives::mpi
