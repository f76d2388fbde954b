// collectives.mpi.gather: MPI_Gather to root 0 of `size` bytes in total, size/n from each
// rank, `iterations` back-to-back operations per timed repetition (OSU's osu_gather count),
// nccl-tests' algbw and busbw ((n-1)/n). Input: element i of rank r = pattern(r, i); at the
// root, block r of the result must hold rank r's pattern, exactly; the other ranks, which
// receive nothing, check that their send buffer came back unchanged (MPI may not write it).
#include <cstring>

#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::gather;

class Gather final : public CollectiveBenchmark {
 public:
  Gather() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override {
    send_ = Buffer(t_, count_);
    if (root()) recv_ = Buffer(t_, count_ * std::uint64_t(size_));  // significant at the root only
  }

  // send_ = this rank's pattern; at the root recv_ = -1, with the root's block copied in when in place.
  void fill_inputs() override {
    fill_pattern(send_, t_, rank_);
    if (!root()) return;
    fill_value(recv_, t_, -1);
    const std::uint64_t block = count_ * dtype_bytes(t_);
    if (in_place_) std::memcpy(static_cast<char*>(recv_.data()) + std::uint64_t(kRoot) * block, send_.data(), block);
  }

  // In place (at the root only), the root's block is already at its place in the receive buffer.
  void operate() override {
    const int c = int(count_);
    if (root() && in_place_)
      CONVERGE_MPI_CHECK(MPI_Gather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv_.data(), c, mpi_type(t_), kRoot, comm_));
    else
      CONVERGE_MPI_CHECK(MPI_Gather(send_.data(), c, mpi_type(t_), root() ? recv_.data() : nullptr, c, mpi_type(t_),
                                    kRoot, comm_));
  }

  Output output() override { return root() ? Output{recv_, count_ * std::uint64_t(size_)} : Output{send_, count_}; }
  // At the root element j: element j % count of rank j / count; elsewhere the rank's own input.
  double expected(std::uint64_t j) const override {
    return root() ? pattern(int(j / count_), j % count_) : pattern(rank_, j);
  }
  std::string where(std::uint64_t j) const override {
    return root() ? fmt::format("element {} (rank {}'s block, element {})", j, j / count_, j % count_)
                  : fmt::format("send buffer element {}", j);
  }

  std::string method() const override {
    return fmt::format("one {}gather to rank 0 of pattern(rank, i) = rank % 13 + 1 + i % 7 after fresh "
                       "inputs, the root's receive buffer reset to -1{}: at the root every element of block r "
                       "== rank r's pattern, exactly; at the other ranks every element of the send buffer "
                       "unchanged",
                       in_place_ ? "in-place " : "", in_place_ ? " except its own block" : "");
  }

  std::string operation() const override {
    return fmt::format("MPI_Gather(root {}, {} x {} from each rank{})", kRoot, count_, dtype_name(t_),
                       in_place_ ? ", MPI_IN_PLACE at the root" : "");
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    mpi_gather,
    collective_spec(kC, "MPI_Gather (root 0): latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
                    "bytes gathered at the root, size/n from each rank (nccl-tests' size; OSU's message size is "
                    "size/n)",
                    InPlace::yes, [] { return std::make_unique<Gather>(); }));

}  // namespace converge::collectives::mpi
