// collectives.mpi.reduce: MPI_Reduce (sum, root 0) of `size` bytes per rank, `iterations`
// back-to-back operations per timed repetition (OSU's osu_reduce count), nccl-tests' algbw and
// busbw (factor 1). Input: element i of rank r = pattern(r, i); the root's result must equal the
// sum over ranks, exactly; the other ranks, which receive nothing, check that their send buffer
// came back unchanged (MPI may not write it).
#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::reduce;

class Reduce final : public CollectiveBenchmark {
 public:
  Reduce() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override {
    send_ = Buffer(t_, count_);
    if (root() && !in_place_) recv_ = Buffer(t_, count_);  // significant at the root only
  }

  void fill_inputs() override {
    fill_pattern(send_, t_, rank_);
    if (root() && !in_place_) fill_value(recv_, t_, -1);
  }

  // In place, the root's input and result share send_ (MPI_IN_PLACE is valid at the root only).
  void operate() override {
    const void* in = root() && in_place_ ? MPI_IN_PLACE : send_.data();
    void* out = !root() ? nullptr : in_place_ ? send_.data() : recv_.data();
    CONVERGE_MPI_CHECK(MPI_Reduce(in, out, int(count_), mpi_type(t_), MPI_SUM, kRoot, comm_));
  }

  Output output() override { return {root() && !in_place_ ? recv_ : send_, count_}; }
  double expected(std::uint64_t i) const override { return root() ? pattern_sum(size_, i) : pattern(rank_, i); }
  std::string where(std::uint64_t i) const override {
    return fmt::format("{} element {}", root() ? "result" : "send buffer", i);
  }

  std::string method() const override {
    return fmt::format("one {}reduce to rank 0 of pattern(rank, i) = rank % 13 + 1 + i % 7 after fresh "
                       "inputs: at the root every element == the sum over ranks, exactly; at the other ranks "
                       "every element of the send buffer unchanged",
                       in_place_ ? "in-place " : "");
  }

  std::string operation() const override {
    return fmt::format("MPI_Reduce(MPI_SUM, root {}, {} x {}{})", kRoot, count_, dtype_name(t_),
                       in_place_ ? ", MPI_IN_PLACE at the root" : "");
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    mpi_reduce,
    collective_spec(kC, "MPI_Reduce (sum, root 0): latency per operation, algbw and busbw (nccl-tests factor 1)",
                    "bytes per rank (nccl-tests' size; OSU's message size)", InPlace::yes,
                    [] { return std::make_unique<Reduce>(); }));

}  // namespace converge::collectives::mpi
