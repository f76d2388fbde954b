// collectives.mpi.allgather: MPI_Allgather of `size` bytes in total, size/n from each rank,
// `iterations` back-to-back operations per timed repetition (OSU's osu_allgather count),
// nccl-tests' algbw and busbw ((n-1)/n). Input: element i of rank r = pattern(r, i); on every
// rank, block r of the result must hold rank r's pattern, exactly.
#include <cstring>

#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::allgather;

class Allgather final : public CollectiveBenchmark {
 public:
  Allgather() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override { send_ = Buffer(t_, count_), recv_ = Buffer(t_, count_ * std::uint64_t(size_)); }

  // send_ = this rank's pattern; recv_ = -1, with this rank's block copied in when in place.
  void fill_inputs() override {
    fill_pattern(send_, t_, rank_);
    fill_value(recv_, t_, -1);
    const std::uint64_t block = count_ * dtype_bytes(t_);
    if (in_place_) std::memcpy(static_cast<char*>(recv_.data()) + std::uint64_t(rank_) * block, send_.data(), block);
  }

  // In place, each rank's block is already at its place in the receive buffer.
  void operate() override {
    const int c = int(count_);
    if (in_place_)
      CONVERGE_MPI_CHECK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv_.data(), c, mpi_type(t_), comm_));
    else
      CONVERGE_MPI_CHECK(MPI_Allgather(send_.data(), c, mpi_type(t_), recv_.data(), c, mpi_type(t_), comm_));
  }

  Output output() override { return {recv_, count_ * std::uint64_t(size_)}; }
  // Element j of the gathered buffer: element j % count of rank j / count.
  double expected(std::uint64_t j) const override { return pattern(int(j / count_), j % count_); }
  std::string where(std::uint64_t j) const override {
    return fmt::format("element {} (rank {}'s block, element {})", j, j / count_, j % count_);
  }

  std::string method() const override {
    return fmt::format("one {}allgather of pattern(rank, i) = rank % 13 + 1 + i % 7 after fresh inputs, the "
                       "receive buffer reset to -1{}: on every rank every element of block r == rank r's "
                       "pattern, exactly",
                       in_place_ ? "in-place " : "", in_place_ ? " except the rank's own block" : "");
  }

  std::string operation() const override {
    return fmt::format("MPI_Allgather({} x {} from each rank{})", count_, dtype_name(t_),
                       in_place_ ? ", MPI_IN_PLACE" : "");
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    mpi_allgather,
    collective_spec(kC, "MPI_Allgather: latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
                    "bytes gathered on each rank, size/n from each (nccl-tests' size; OSU's message size is size/n)",
                    InPlace::yes, [] { return std::make_unique<Allgather>(); }));

}  // namespace converge::collectives::mpi
