// collectives.mpi.reduce_scatter: MPI_Reduce_scatter_block (sum) of `size` bytes per rank,
// each rank ending with its size/n block of the sum, `iterations` back-to-back operations per
// timed repetition (OSU's osu_reduce_scatter count), nccl-tests' algbw and busbw ((n-1)/n).
// Input: element j of rank r = pattern(r, j); rank q's result element i must equal the sum over
// ranks r of pattern(r, q * count + i), exactly.
#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::reduce_scatter;

class ReduceScatter final : public CollectiveBenchmark {
 public:
  ReduceScatter() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override {
    send_ = Buffer(t_, count_ * std::uint64_t(size_));
    if (!in_place_) recv_ = Buffer(t_, count_);
  }

  void fill_inputs() override {
    fill_pattern(send_, t_, rank_);
    if (!in_place_) fill_value(recv_, t_, -1);
  }

  // In place, the input is the whole send_ and the rank's result replaces its first count elements.
  void operate() override {
    CONVERGE_MPI_CHECK(MPI_Reduce_scatter_block(in_place_ ? MPI_IN_PLACE : send_.data(),
                                                in_place_ ? send_.data() : recv_.data(), int(count_), mpi_type(t_),
                                                MPI_SUM, comm_));
  }

  Output output() override { return {in_place_ ? send_ : recv_, count_}; }
  // Element i of rank q's block: the sum over ranks of element q * count + i.
  double expected(std::uint64_t i) const override { return pattern_sum(size_, std::uint64_t(rank_) * count_ + i); }

  std::string method() const override {
    return fmt::format("one {}reduce-scatter of pattern(rank, j) = rank % 13 + 1 + j % 7 after fresh inputs: "
                       "on rank q every element i of the result == the sum over ranks of pattern(r, q * count "
                       "+ i), exactly",
                       in_place_ ? "in-place " : "");
  }

  std::string operation() const override {
    return fmt::format("MPI_Reduce_scatter_block(MPI_SUM, {} x {} to each rank{})", count_, dtype_name(t_),
                       in_place_ ? ", MPI_IN_PLACE" : "");
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    mpi_reduce_scatter,
    collective_spec(kC,
                    "MPI_Reduce_scatter_block (sum): latency per operation, algbw and busbw (nccl-tests factor "
                    "(n-1)/n)",
                    "bytes reduced per rank, each rank ending with size/n (nccl-tests' size; OSU's message size)",
                    InPlace::yes, [] { return std::make_unique<ReduceScatter>(); }));

}  // namespace converge::collectives::mpi
