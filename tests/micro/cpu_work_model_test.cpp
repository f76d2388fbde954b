// Work models of the CPU microbenchmarks as pure functions (micro/cpu/work_models.hpp), and
// the partition and STREAM values the kernels and their checks rely on.
#include <gtest/gtest.h>

#include "micro/cpu/cpu_common.hpp"
#include "micro/cpu/stream_common.hpp"
#include "micro/cpu/work_models.hpp"

namespace converge::micro {
namespace {

constexpr std::uint64_t MiB = 1 << 20;

TEST(StreamWorkModel, BytesAsStreamCountsThem) {
  // McCalpin's table: copy and scale 2 words, add and triad 3 words per iteration.
  EXPECT_EQ(stream_bytes_per_element(StreamKernel::copy), 16);
  EXPECT_EQ(stream_bytes_per_element(StreamKernel::scale), 16);
  EXPECT_EQ(stream_bytes_per_element(StreamKernel::add), 24);
  EXPECT_EQ(stream_bytes_per_element(StreamKernel::triad), 24);
  EXPECT_EQ(stream_bytes_per_element(StreamKernel::dot), 16);
}

TEST(StreamWorkModel, FlopsAndItems) {
  EXPECT_EQ(stream_flops_per_element(StreamKernel::copy), 0);
  EXPECT_EQ(stream_flops_per_element(StreamKernel::scale), 1);
  EXPECT_EQ(stream_flops_per_element(StreamKernel::add), 1);
  EXPECT_EQ(stream_flops_per_element(StreamKernel::triad), 2);
  EXPECT_EQ(stream_flops_per_element(StreamKernel::dot), 2);
  constexpr core::WorkModel w = stream_work(StreamKernel::triad, 1000);
  static_assert(w.bytes == 24000 && w.flops == 2000 && w.items == 1000);
}

TEST(StreamWorkModel, AutoSizeIsFourTimesLlcPerArray) {
  // 32 MiB L3: each array 128 MiB = 16 Mi doubles.
  EXPECT_EQ(stream_auto_elements(32 * MiB, 24ull << 30), 16 * MiB);
  // Rounded up to whole Mi elements.
  EXPECT_EQ(stream_auto_elements(33 * 1000 * 1000, 24ull << 30), 16 * MiB);
  EXPECT_EQ(stream_auto_elements(36 * MiB, 24ull << 30), 18 * MiB);
  // Unknown LLC: 64 MiB assumed.
  EXPECT_EQ(stream_auto_elements(0, 24ull << 30), 32 * MiB);
}

TEST(StreamWorkModel, AutoSizeCappedAtHalfOfAvailableMemory) {
  // 384 MiB free: three arrays may use 192 MiB, 64 MiB = 8 Mi doubles each.
  EXPECT_EQ(stream_auto_elements(32 * MiB, 384 * MiB), 8 * MiB);
  EXPECT_LE(3 * 8 * stream_auto_elements(1ull << 40, 1ull << 34), (1ull << 34) / 2);
  // Unknown available memory: no cap.
  EXPECT_EQ(stream_auto_elements(32 * MiB, 0), 16 * MiB);
}

TEST(StreamValues, ExpectedFollowFromInitialValues) {
  const double s = kStreamScalar;
  auto i = stream_initial(StreamKernel::copy), e = stream_expected(StreamKernel::copy);
  EXPECT_EQ(e.c, i.a);
  EXPECT_NE(i.c, e.c);  // the output starts different from the result
  i = stream_initial(StreamKernel::scale), e = stream_expected(StreamKernel::scale);
  EXPECT_EQ(e.b, s * i.c);
  EXPECT_NE(i.b, e.b);
  i = stream_initial(StreamKernel::add), e = stream_expected(StreamKernel::add);
  EXPECT_EQ(e.c, i.a + i.b);
  EXPECT_NE(i.c, e.c);
  i = stream_initial(StreamKernel::triad), e = stream_expected(StreamKernel::triad);
  EXPECT_EQ(e.a, i.b + s * i.c);
  EXPECT_NE(i.a, e.a);
  EXPECT_NE(i.c, 0);  // triad's multiply is part of the check
  i = stream_initial(StreamKernel::dot);
  EXPECT_EQ(i.a * i.b, 2);  // dot == 2 n
}

TEST(PeakflopsWorkModel, FlopsPerInstruction) {
  EXPECT_EQ(fma_flops_per_instruction(4), 8);       // vfmadd231pd ymm
  EXPECT_EQ(fma_flops_per_instruction(8), 16);      // vfmadd231pd zmm
  EXPECT_EQ(fma_flops_per_instruction(16), 32);     // vfmadd231ps zmm
  EXPECT_EQ(fma_flops_per_instruction(32), 64);     // vfmadd231ph zmm
  EXPECT_EQ(fma_flops_per_instruction(16, 2), 64);  // vdpbf16ps zmm: 2 products per fp32 lane
}

TEST(PeakflopsWorkModel, PerRepetition) {
  // 12 ymm fp64 chains, 1000 iterations, 2 threads.
  constexpr core::WorkModel w = peakflops_work(8, 12, 1000, 2);
  static_assert(w.flops == 8.0 * 12 * 1000 * 2 && w.items == 12 * 1000 * 2 && w.bytes == 0);
  EXPECT_EQ(peakflops_work(64, 48, 10, 1).flops, 64 * 48 * 10);
}

TEST(GemmWorkModel, TwoNCubed) {
  EXPECT_EQ(gemm_flops(1), 2);
  EXPECT_EQ(gemm_flops(64), 2.0 * 64 * 64 * 64);
  EXPECT_EQ(gemm_flops(4096), 137438953472.0);
  EXPECT_EQ(gemm_work(100, 8).bytes, 3 * 100 * 100 * 8);
}

TEST(CacheBandwidthWorkModel, BytesAndPasses) {
  EXPECT_EQ(cachebw_work(16384, 2, 2048).bytes, 16384.0 * 2 * 2048);
  EXPECT_EQ(cachebw_auto_passes(16 << 10), 2048u);   // 32 MiB / 16 KiB
  EXPECT_EQ(cachebw_auto_passes(20 * MiB), 2u);      // rounded up
  EXPECT_EQ(cachebw_auto_passes(256 * MiB), 1u);     // at least one
  EXPECT_GE(cachebw_auto_passes(3000) * 3000, 32 * MiB);
}

TEST(LatencyWorkModel, WholeLapsAndAtLeastAMillion) {
  for (std::uint64_t nodes : {2ull, 256ull, 1000ull, 999983ull, 1ull << 20, 4ull << 20}) {
    const std::uint64_t loads = latency_auto_loads(nodes);
    EXPECT_EQ(loads % nodes, 0u) << nodes;
    EXPECT_GE(loads, 1000000u) << nodes;
    EXPECT_LT(loads, 1000000u + nodes) << nodes;  // the smallest such count
  }
  EXPECT_EQ(latency_auto_loads(256), 1000192u);
  EXPECT_EQ(latency_auto_loads(100, 250), 300u);
  EXPECT_EQ(latency_work(1000).items, 1000);
}

TEST(StaticBlock, CoversRangeWithCacheLineAlignedDisjointBlocks) {
  for (std::size_t n : {0ul, 1ul, 7ul, 8ul, 9ul, 4096ul, 4099ul, 1000003ul}) {
    for (int threads : {1, 2, 3, 7, 16, 64}) {
      std::size_t next = 0, smallest = n, largest = 0;
      for (int t = 0; t < threads; ++t) {
        const Range r = static_block(n, t, threads);
        EXPECT_EQ(r.begin, next) << n << " " << threads << " " << t;
        if (r.size() > 0) {
          EXPECT_EQ(r.begin % 8, 0u);
        }
        next = r.end;
        smallest = std::min(smallest, r.size()), largest = std::max(largest, r.size());
      }
      EXPECT_EQ(next, n) << n << " " << threads;
      EXPECT_LE(largest - smallest, 8u) << n << " " << threads;
    }
  }
}

}  // namespace
}  // namespace converge::micro
