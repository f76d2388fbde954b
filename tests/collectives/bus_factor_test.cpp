// The collectives' work model as pure functions (collectives/bus_factor.hpp): nccl-tests'
// bus-bandwidth factors, what `size` means per collective (elements per rank, rounded down to
// whole elements, at least one) and the bytes algbw counts, against hand-computed values.
#include <gtest/gtest.h>

#include <cstdint>

#include "collectives/bus_factor.hpp"

namespace converge::collectives {
namespace {

constexpr Collective kAll[] = {Collective::allreduce, Collective::reduce,         Collective::bcast,
                               Collective::allgather, Collective::alltoall,       Collective::reduce_scatter,
                               Collective::gather,    Collective::scatter,        Collective::barrier};
constexpr Collective kBlockwise[] = {Collective::allgather, Collective::alltoall, Collective::reduce_scatter,
                                     Collective::gather, Collective::scatter};
constexpr Collective kWhole[] = {Collective::allreduce, Collective::reduce, Collective::bcast};
constexpr int kRanks[] = {1, 2, 4, 8};
constexpr std::uint64_t MiB = 1 << 20;

// The factor is usable at compile time (work models are data).
static_assert(bus_factor(Collective::allreduce, 4) == 1.5);
static_assert(elements_per_rank(Collective::allgather, 100, 4, 4) == 6);
static_assert(algbw_bytes(Collective::allgather, 6, 4, 4) == 96);

TEST(CollectiveBusFactor, NcclTestsFactorsForEveryCollective) {
  // n:                          1     2     4      8
  const double allreduce[] = {0.0, 1.0, 1.5, 1.75};   // 2(n-1)/n
  const double blockwise[] = {0.0, 0.5, 0.75, 0.875};  // (n-1)/n
  for (int k = 0; k < 4; ++k) {
    const int n = kRanks[k];
    SCOPED_TRACE(n);
    EXPECT_DOUBLE_EQ(bus_factor(Collective::allreduce, n), allreduce[k]);
    for (Collective c : kBlockwise) EXPECT_DOUBLE_EQ(bus_factor(c, n), blockwise[k]) << to_string(c);
    EXPECT_DOUBLE_EQ(bus_factor(Collective::bcast, n), 1.0);
    EXPECT_DOUBLE_EQ(bus_factor(Collective::reduce, n), 1.0);
    EXPECT_DOUBLE_EQ(bus_factor(Collective::barrier, n), 0.0);
  }
}

TEST(CollectiveBusFactor, NoRanksNoBus) {
  for (Collective c : kAll) {
    EXPECT_EQ(bus_factor(c, 0), 0.0) << to_string(c);
    EXPECT_EQ(bus_factor(c, -1), 0.0) << to_string(c);
  }
}

TEST(CollectiveBusFactor, Names) {
  EXPECT_EQ(to_string(Collective::allreduce), "allreduce");
  EXPECT_EQ(to_string(Collective::reduce), "reduce");
  EXPECT_EQ(to_string(Collective::bcast), "bcast");
  EXPECT_EQ(to_string(Collective::allgather), "allgather");
  EXPECT_EQ(to_string(Collective::alltoall), "alltoall");
  EXPECT_EQ(to_string(Collective::reduce_scatter), "reduce_scatter");
  EXPECT_EQ(to_string(Collective::gather), "gather");
  EXPECT_EQ(to_string(Collective::scatter), "scatter");
  EXPECT_EQ(to_string(Collective::barrier), "barrier");
}

TEST(CollectiveElementsPerRank, WholeBufferCollectivesIgnoreRanks) {
  for (Collective c : kWhole)
    for (int n : kRanks) {
      SCOPED_TRACE(n);
      EXPECT_EQ(elements_per_rank(c, MiB, 4, n), 262144u) << to_string(c);
      EXPECT_EQ(elements_per_rank(c, MiB, 8, n), 131072u) << to_string(c);
      EXPECT_EQ(elements_per_rank(c, 100, 4, n), 25u) << to_string(c);
      EXPECT_EQ(elements_per_rank(c, 8, 4, n), 2u) << to_string(c);
      EXPECT_EQ(elements_per_rank(c, 8, 8, n), 1u) << to_string(c);
    }
}

TEST(CollectiveElementsPerRank, BlockwiseCollectivesSplitSizeOverRanks) {
  for (Collective c : kBlockwise) {
    SCOPED_TRACE(to_string(c));
    // 1 MiB of float = 262144 elements.
    EXPECT_EQ(elements_per_rank(c, MiB, 4, 1), 262144u);
    EXPECT_EQ(elements_per_rank(c, MiB, 4, 2), 131072u);
    EXPECT_EQ(elements_per_rank(c, MiB, 4, 4), 65536u);
    EXPECT_EQ(elements_per_rank(c, MiB, 4, 8), 32768u);
    EXPECT_EQ(elements_per_rank(c, MiB, 8, 8), 16384u);
    // 100 B of float = 25 elements, not divisible by 2, 4, 8: rounded down per rank.
    EXPECT_EQ(elements_per_rank(c, 100, 4, 1), 25u);
    EXPECT_EQ(elements_per_rank(c, 100, 4, 2), 12u);
    EXPECT_EQ(elements_per_rank(c, 100, 4, 4), 6u);
    EXPECT_EQ(elements_per_rank(c, 100, 4, 8), 3u);
    // 1000 B of double = 125 elements.
    EXPECT_EQ(elements_per_rank(c, 1000, 8, 4), 31u);
    EXPECT_EQ(elements_per_rank(c, 1000, 8, 8), 15u);
  }
}

TEST(CollectiveElementsPerRank, TinySizesGetOneElementPerRank) {
  for (Collective c : kAll)
    for (int n : kRanks) {
      SCOPED_TRACE(n);
      EXPECT_EQ(elements_per_rank(c, 0, 4, n), 1u) << to_string(c);
      EXPECT_EQ(elements_per_rank(c, 1, 4, n), 1u) << to_string(c);  // less than one element
      EXPECT_EQ(elements_per_rank(c, 3, 8, n), 1u) << to_string(c);
    }
  // 8 B of float = 2 elements: 2 per rank on one rank, 1 on two, rounded up to 1 on four and eight.
  EXPECT_EQ(elements_per_rank(Collective::allgather, 8, 4, 1), 2u);
  EXPECT_EQ(elements_per_rank(Collective::allgather, 8, 4, 2), 1u);
  EXPECT_EQ(elements_per_rank(Collective::allgather, 8, 4, 4), 1u);
  EXPECT_EQ(elements_per_rank(Collective::alltoall, 8, 4, 8), 1u);
  // A partial element is dropped: 7 B of float is one element.
  EXPECT_EQ(elements_per_rank(Collective::allreduce, 7, 4, 2), 1u);
  EXPECT_EQ(elements_per_rank(Collective::allreduce, 13, 4, 2), 3u);
}

TEST(CollectiveAlgbwBytes, WholeBufferCollectivesCountOneBuffer) {
  for (Collective c : kWhole)
    for (int n : kRanks) {
      EXPECT_EQ(algbw_bytes(c, 262144, 4, n), double(MiB)) << to_string(c);
      EXPECT_EQ(algbw_bytes(c, 25, 4, n), 100.0) << to_string(c);
      EXPECT_EQ(algbw_bytes(c, 1, 8, n), 8.0) << to_string(c);
    }
}

TEST(CollectiveAlgbwBytes, BlockwiseCollectivesCountTheTotalAfterRounding) {
  for (Collective c : kBlockwise) {
    SCOPED_TRACE(to_string(c));
    EXPECT_EQ(algbw_bytes(c, 65536, 4, 4), double(MiB));
    EXPECT_EQ(algbw_bytes(c, 32768, 4, 8), double(MiB));
    EXPECT_EQ(algbw_bytes(c, 262144, 4, 1), double(MiB));
    // size 100 B of float: 6 per rank on 4 ranks counts 96 B, 3 on 8 counts 96 B, 12 on 2 counts 96 B.
    EXPECT_EQ(algbw_bytes(c, elements_per_rank(c, 100, 4, 4), 4, 4), 96.0);
    EXPECT_EQ(algbw_bytes(c, elements_per_rank(c, 100, 4, 8), 4, 8), 96.0);
    EXPECT_EQ(algbw_bytes(c, elements_per_rank(c, 100, 4, 2), 4, 2), 96.0);
    // Tiny: 8 B of float on 8 ranks is one element each, 32 B in all (more than asked).
    EXPECT_EQ(algbw_bytes(c, elements_per_rank(c, 8, 4, 8), 4, 8), 32.0);
    EXPECT_EQ(algbw_bytes(c, elements_per_rank(c, 8, 8, 2), 8, 2), 16.0);
  }
}

TEST(CollectiveAlgbwBytes, BarrierCountsNoBytes) {
  for (int n : kRanks) EXPECT_EQ(algbw_bytes(Collective::barrier, 1, 4, n), 0.0);
}

TEST(CollectiveBusBytes, AlgbwBytesTimesFactor) {
  // 1 MiB allreduce on 8 ranks: busbw bytes = 1 MiB x 1.75; allgather: x 0.875; bcast: x 1.
  const double ar = algbw_bytes(Collective::allreduce, elements_per_rank(Collective::allreduce, MiB, 4, 8), 4, 8);
  EXPECT_EQ(ar * bus_factor(Collective::allreduce, 8), 1835008.0);
  const double ag = algbw_bytes(Collective::allgather, elements_per_rank(Collective::allgather, MiB, 4, 8), 4, 8);
  EXPECT_EQ(ag * bus_factor(Collective::allgather, 8), 917504.0);
  const double bc = algbw_bytes(Collective::bcast, elements_per_rank(Collective::bcast, MiB, 4, 8), 4, 8);
  EXPECT_EQ(bc * bus_factor(Collective::bcast, 8), double(MiB));
}

}  // namespace
}  // namespace converge::collectives
