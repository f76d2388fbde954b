// collectives.mpi.scatter: MPI_Scatter from root 0 of `size` bytes in total, size/n to each
// rank, `iterations` back-to-back operations per timed repetition (OSU's osu_scatter count),
// nccl-tests' algbw and busbw ((n-1)/n). Input: element j of the root's send buffer =
// pattern(0, j); rank q must receive block q, element i = pattern(0, q * count + i), exactly.
#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::scatter;

class Scatter final : public CollectiveBenchmark {
 public:
  Scatter() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override {
    if (root()) send_ = Buffer(t_, count_ * std::uint64_t(size_));  // significant at the root only
    if (!root() || !in_place_) recv_ = Buffer(t_, count_);
  }

  // The root's send buffer holds its pattern; receive buffers -1.
  void fill_inputs() override {
    if (root()) fill_pattern(send_, t_, kRoot);
    if (!root() || !in_place_) fill_value(recv_, t_, -1);
  }

  // In place (at the root only), the root's block stays where it is in the send buffer.
  void operate() override {
    const int c = int(count_);
    void* out = root() && in_place_ ? MPI_IN_PLACE : recv_.data();
    CONVERGE_MPI_CHECK(
        MPI_Scatter(root() ? send_.data() : nullptr, c, mpi_type(t_), out, c, mpi_type(t_), kRoot, comm_));
  }

  // In place the root's block stays in its send buffer at offset kRoot * count = 0, where the
  // check reads it.
  Output output() override { return {root() && in_place_ ? send_ : recv_, count_}; }
  // Element i of the block rank q receives: element q * count + i of the root's pattern.
  double expected(std::uint64_t i) const override { return pattern(kRoot, std::uint64_t(rank_) * count_ + i); }
  std::string where(std::uint64_t i) const override {
    return fmt::format("element {} (of the root's block {})", i, rank_);
  }

  std::string method() const override {
    return fmt::format("one {}scatter from rank 0 of pattern(0, j) = 1 + j % 7 into receive buffers reset to "
                       "-1: on rank q every element i == pattern(0, q * count + i), exactly{}",
                       in_place_ ? "in-place " : "", in_place_ ? " (the root's block read in place)" : "");
  }

  std::string operation() const override {
    return fmt::format("MPI_Scatter(root {}, {} x {} to each rank{})", kRoot, count_, dtype_name(t_),
                       in_place_ ? ", MPI_IN_PLACE at the root" : "");
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    mpi_scatter,
    collective_spec(kC, "MPI_Scatter (root 0): latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
                    "bytes the root scatters, size/n to each rank (nccl-tests' size; OSU's message size is size/n)",
                    InPlace::yes, [] { return std::make_unique<Scatter>(); }));

}  // namespace converge::collectives::mpi
