// collectives.mpi.alltoall: MPI_Alltoall of `size` bytes per rank's send buffer, size/n to
// each peer, `iterations` back-to-back operations per timed repetition (OSU's osu_alltoall
// count), nccl-tests' algbw and busbw ((n-1)/n). Input: element j of rank r's send buffer =
// pattern(r, j), so the block rank r sends to rank q is pattern(r, q * count + i); on rank q,
// block r of the result must hold exactly that.
#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::alltoall;

class Alltoall final : public CollectiveBenchmark {
 public:
  Alltoall() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override {
    const std::uint64_t total = count_ * std::uint64_t(size_);
    if (!in_place_) send_ = Buffer(t_, total);
    recv_ = Buffer(t_, total);
  }

  // The input holds this rank's pattern; an out-of-place result buffer is reset to -1.
  void fill_inputs() override {
    if (in_place_) {
      fill_pattern(recv_, t_, rank_);
    } else {
      fill_pattern(send_, t_, rank_);
      fill_value(recv_, t_, -1);
    }
  }

  // In place (MPI-2.2), the input is taken from the receive buffer and replaced by the result.
  void operate() override {
    const int c = int(count_);
    if (in_place_)
      CONVERGE_MPI_CHECK(MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv_.data(), c, mpi_type(t_), comm_));
    else
      CONVERGE_MPI_CHECK(MPI_Alltoall(send_.data(), c, mpi_type(t_), recv_.data(), c, mpi_type(t_), comm_));
  }

  Output output() override { return {recv_, count_ * std::uint64_t(size_)}; }
  // Element j = r * count + i on rank q: element i of the block rank r sent to q.
  double expected(std::uint64_t j) const override {
    return pattern(int(j / count_), std::uint64_t(rank_) * count_ + j % count_);
  }
  std::string where(std::uint64_t j) const override {
    return fmt::format("element {} (block from rank {}, element {})", j, j / count_, j % count_);
  }

  std::string method() const override {
    return fmt::format("one {}alltoall of pattern(rank, j) = rank % 13 + 1 + j % 7 after fresh inputs{}: on "
                       "rank q every element i of block r == pattern(r, q * count + i), exactly",
                       in_place_ ? "in-place " : "", in_place_ ? "" : ", the receive buffer reset to -1");
  }

  std::string operation() const override {
    return fmt::format("MPI_Alltoall({} x {} to each rank{})", count_, dtype_name(t_),
                       in_place_ ? ", MPI_IN_PLACE" : "");
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    mpi_alltoall,
    collective_spec(kC, "MPI_Alltoall: latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
                    "bytes each rank sends in all, size/n to each rank (nccl-tests' size; OSU's message size is "
                    "size/n)",
                    InPlace::yes, [] { return std::make_unique<Alltoall>(); }));

}  // namespace converge::collectives::mpi
