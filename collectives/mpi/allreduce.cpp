// collectives.mpi.allreduce: MPI_Allreduce (sum) of `size` bytes per rank, `iterations`
// back-to-back operations per timed repetition (OSU's iteration counts, nccl-tests' batch
// timing), nccl-tests' algbw and busbw (2(n-1)/n). Input: element i of rank r = pattern(r, i); every rank's result
// must equal the sum over ranks, exactly (small integers).
#include <fmt/format.h>

#include "collectives/mpi/collective_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::allreduce;

class Allreduce final : public CollectiveBenchmark {
 public:
  Allreduce() : CollectiveBenchmark(kC) {}

 protected:
  void allocate() override { send_ = Buffer(t_, count_), recv_ = Buffer(t_, count_); }

  // In-place runs overwrite their input; out-of-place ones are checked the same way for uniformity.
  void fill_inputs() override {
    fill_pattern(send_, t_, rank_);
    if (!in_place_) fill_value(recv_, t_, -1);
  }

  void operate() override {
    CONVERGE_MPI_CHECK(MPI_Allreduce(in_place_ ? MPI_IN_PLACE : send_.data(), in_place_ ? send_.data() : recv_.data(),
                                     int(count_), mpi_type(t_), MPI_SUM, comm_));
  }

  Output output() override { return {in_place_ ? send_ : recv_, count_}; }
  double expected(std::uint64_t i) const override { return pattern_sum(size_, i); }

  std::string method() const override {
    return fmt::format("one {}allreduce of pattern(rank, i) = rank % 13 + 1 + i % 7 after fresh inputs: every "
                       "element == the sum over ranks, exactly",
                       in_place_ ? "in-place " : "");
  }

  std::string operation() const override {
    return fmt::format("MPI_Allreduce(MPI_SUM, {} x {}{})", count_, dtype_name(t_), in_place_ ? ", MPI_IN_PLACE" : "");
  }
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    mpi_allreduce,
    collective_spec(kC, "MPI_Allreduce (sum): latency per operation, algbw and busbw (nccl-tests factor 2(n-1)/n)",
                    "bytes per rank (nccl-tests' size; OSU's message size)", InPlace::yes,
                    [] { return std::make_unique<Allreduce>(); }));

}  // namespace converge::collectives::mpi
