// io.posix.write / io.posix.read as pure functions (io/bw_common.hpp): the work model,
// the layouts' offsets (every byte of a file written exactly once), the read-back choice and
// rank mapping, the resident-bytes count from mincore's vector, and the tier default.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/benchmark.hpp"
#include "io/bw_common.hpp"

namespace converge::io::bw {
namespace {

constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB;

Geometry geo(Layout l, std::uint64_t transfer, std::uint64_t block, int ranks) { return {l, transfer, block, ranks}; }

TEST(PosixBwWorkModel, BytesAreBlockTimesRanksItemsAreTransfers) {
  for (Layout l : {Layout::fpp, Layout::shared_segmented, Layout::shared_strided}) {
    const core::WorkModel w = bw_work(geo(l, 1 * MiB, 64 * MiB, 4));
    EXPECT_EQ(w.bytes, 256.0 * MiB);
    EXPECT_EQ(w.items, 256.0);  // 64 transfers per rank x 4 ranks
    EXPECT_EQ(w.flops, 0.0);
    EXPECT_EQ(w.bus_bytes, 0.0);
  }
  EXPECT_EQ(bw_work(geo(Layout::fpp, 4 * KiB, 8 * MiB, 1)).items, 2048.0);
}

TEST(PosixBwLayout, FilesAndSizes) {
  EXPECT_EQ(file_name(Layout::fpp, 3), "f.3");
  EXPECT_EQ(file_name(Layout::shared_segmented, 3), "shared");
  EXPECT_EQ(file_name(Layout::shared_strided, 0), "shared");
  EXPECT_EQ(file_id(Layout::fpp, 3), 3u);
  EXPECT_EQ(file_id(Layout::shared_strided, 3), 0u);
  EXPECT_EQ(file_size(geo(Layout::fpp, MiB, 8 * MiB, 4)), 8 * MiB);
  EXPECT_EQ(file_size(geo(Layout::shared_segmented, MiB, 8 * MiB, 4)), 32 * MiB);
  EXPECT_EQ(file_size(geo(Layout::shared_strided, MiB, 8 * MiB, 4)), 32 * MiB);
  EXPECT_EQ(job_bytes(geo(Layout::fpp, MiB, 8 * MiB, 4)), 32 * MiB);
}

TEST(PosixBwLayout, OffsetsAsIorPlacesThem) {
  const auto seg = geo(Layout::shared_segmented, MiB, 8 * MiB, 4);
  EXPECT_EQ(transfer_offset(seg, 0, 0), 0u);
  EXPECT_EQ(transfer_offset(seg, 2, 0), 16 * MiB);
  EXPECT_EQ(transfer_offset(seg, 2, 3), 19 * MiB);
  const auto str = geo(Layout::shared_strided, MiB, 8 * MiB, 4);
  EXPECT_EQ(transfer_offset(str, 0, 0), 0u);
  EXPECT_EQ(transfer_offset(str, 1, 0), 1 * MiB);
  EXPECT_EQ(transfer_offset(str, 3, 0), 3 * MiB);
  EXPECT_EQ(transfer_offset(str, 0, 1), 4 * MiB);
  EXPECT_EQ(transfer_offset(str, 2, 7), (7 * 4 + 2) * MiB);
  const auto fpp = geo(Layout::fpp, MiB, 8 * MiB, 4);
  EXPECT_EQ(transfer_offset(fpp, 3, 5), 5 * MiB);
}

// Every layout covers its file(s) exactly once: no two transfers overlap and none is missing.
TEST(PosixBwLayout, TransfersTileTheFiles) {
  for (Layout l : {Layout::fpp, Layout::shared_segmented, Layout::shared_strided})
    for (int ranks : {1, 2, 3, 4}) {
      const auto g = geo(l, 4 * KiB, 40 * KiB, ranks);
      std::set<std::pair<std::string, std::uint64_t>> seen;
      for (int r = 0; r < ranks; ++r)
        for (std::uint64_t t = 0; t < transfers_per_rank(g); ++t) {
          const std::uint64_t at = transfer_offset(g, r, t);
          EXPECT_EQ(at % g.transfer, 0u);
          EXPECT_LT(at, file_size(g));
          EXPECT_TRUE(seen.insert({file_name(l, r), at}).second) << layout_name(l) << " rank " << r << " t " << t;
        }
      EXPECT_EQ(seen.size() * g.transfer, job_bytes(g)) << layout_name(l) << " " << ranks;
    }
}

TEST(PosixBwLayout, RankRangesMergeContiguousTransfers) {
  const auto seg = geo(Layout::shared_segmented, MiB, 8 * MiB, 4);
  EXPECT_EQ(rank_ranges(seg, 1), (std::vector<Range>{{8 * MiB, 8 * MiB}}));
  EXPECT_EQ(rank_ranges(geo(Layout::fpp, MiB, 8 * MiB, 4), 3), (std::vector<Range>{{0, 8 * MiB}}));
  EXPECT_EQ(rank_ranges(geo(Layout::shared_strided, MiB, 8 * MiB, 1), 0), (std::vector<Range>{{0, 8 * MiB}}));
  const auto str = rank_ranges(geo(Layout::shared_strided, MiB, 3 * MiB, 2), 1);
  EXPECT_EQ(str, (std::vector<Range>{{1 * MiB, MiB}, {3 * MiB, MiB}, {5 * MiB, MiB}}));
}

TEST(PosixBwGeometry, Checks) {
  EXPECT_EQ(check_geometry(MiB, 64 * MiB, false), "");
  EXPECT_EQ(check_geometry(MiB, 64 * MiB, true), "");
  EXPECT_EQ(check_geometry(24, 48, false), "");
  EXPECT_NE(check_geometry(0, 64, false), "");
  EXPECT_NE(check_geometry(12, 48, false).find("multiple of 8"), std::string::npos);
  EXPECT_NE(check_geometry(MiB, MiB + 8, false).find("multiple of transfer"), std::string::npos);
  EXPECT_NE(check_geometry(MiB, 0, false), "");
  EXPECT_NE(check_geometry(1000 * 8, 8000 * 8, true).find("4096"), std::string::npos);
  EXPECT_EQ(check_geometry(1000 * 8, 8000 * 8, false), "");
}

TEST(PosixBwReadback, AutoIsReorderAcrossNodesElseFadvise) {
  EXPECT_EQ(auto_readback(1, 1), Readback::fadvise);
  EXPECT_EQ(auto_readback(4, 1), Readback::fadvise);
  EXPECT_EQ(auto_readback(4, 2), Readback::reorder);
  EXPECT_EQ(readback_from("direct"), Readback::direct);
  EXPECT_STREQ(readback_name(Readback::none), "none");
  EXPECT_THROW(readback_from("auto"), std::invalid_argument);
  EXPECT_EQ(layout_from("shared_strided"), Layout::shared_strided);
  EXPECT_THROW(layout_from("strided"), std::invalid_argument);
}

TEST(PosixBwReadback, ReorderReadsTheNextNodesRank) {
  // 2 nodes x 2 ranks (ranks 0,1 on node A; 2,3 on node B): IOR -C's shift by tasks per node.
  EXPECT_EQ(reorder_source(0, 4, 2), 2);
  EXPECT_EQ(reorder_source(1, 4, 2), 3);
  EXPECT_EQ(reorder_source(2, 4, 2), 0);
  EXPECT_EQ(reorder_source(3, 4, 2), 1);
  // One node: every rank reads its own data (the page cache is shared anyway).
  for (int r = 0; r < 4; ++r) EXPECT_EQ(reorder_source(r, 4, 4), r);
  // Always a permutation: every rank's data is read exactly once.
  for (int n : {1, 2, 3, 6, 8})
    for (int per : {1, 2, 3})
      if (n % per == 0) {
        std::set<int> sources;
        for (int r = 0; r < n; ++r) sources.insert(reorder_source(r, n, per));
        EXPECT_EQ(int(sources.size()), n);
      }
}

TEST(PosixBwCache, ResidentBytesCountOnlyTheRange) {
  const std::vector<unsigned char> pages = {1, 0, 1, 1, 0};  // page size 4096
  EXPECT_EQ(resident_bytes(pages, 4096, {0, 5 * 4096}), 3 * 4096u);
  EXPECT_EQ(resident_bytes(pages, 4096, {4096, 4096}), 0u);
  EXPECT_EQ(resident_bytes(pages, 4096, {2048, 4096}), 2048u);          // half of page 0, half of page 1
  EXPECT_EQ(resident_bytes(pages, 4096, {2 * 4096 + 100, 5000}), 5000u);  // pages 2 and 3
  EXPECT_EQ(resident_bytes(pages, 4096, {0, 0}), 0u);
  // mincore's other bits are not residency.
  EXPECT_EQ(resident_bytes({2, 0xfe}, 4096, {0, 8192}), 0u);
}

TEST(PosixBwSpec, BothRegisteredWithTheirParameters) {
  for (const char* id : {"io.posix.write", "io.posix.read"}) {
    const core::BenchmarkSpec* s = core::Registry::instance().find(id);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_EQ(s->family, "io");
    EXPECT_EQ(s->backend, "posix");
    ASSERT_EQ(s->metrics.size(), 2u);
    EXPECT_EQ(s->metrics[0].name, "bandwidth");
    EXPECT_EQ(s->metrics[1].name, "ops");
    std::vector<std::string> names;
    for (const auto& p : s->params) names.push_back(p.name);
    for (const char* p : {"path", "tier", "layout", "transfer", "block", "hugepages", "direct", "seed"})
      EXPECT_NE(std::find(names.begin(), names.end(), p), names.end()) << id << " lacks " << p;
    const bool read = std::string(id) == "io.posix.read";
    EXPECT_EQ(std::find(names.begin(), names.end(), "readback") != names.end(), read);
    EXPECT_EQ(std::find(names.begin(), names.end(), "fsync") != names.end(), !read);
  }
}

// MPI-IO has no O_DIRECT: no `direct`, no readback=direct; it adds collective and hints.
TEST(PosixBwSpec, MpiioParametersDifferFromPosixOnes) {
  const auto names = [](const std::vector<core::ParamSpec>& ps) {
    std::vector<std::string> n;
    for (const auto& p : ps) n.push_back(p.name);
    return n;
  };
  for (bool read : {false, true}) {
    const auto posix = names(bw_params(read, Backend::posix)), mpiio = names(bw_params(read, Backend::mpiio));
    const auto has = [](const std::vector<std::string>& v, const char* n) { return std::find(v.begin(), v.end(), n) != v.end(); };
    EXPECT_TRUE(has(posix, "direct"));
    EXPECT_FALSE(has(mpiio, "direct"));
    EXPECT_TRUE(has(mpiio, "collective") && has(mpiio, "hints"));
    EXPECT_FALSE(has(posix, "collective") || has(posix, "hints"));
  }
  for (const auto& p : bw_params(true, Backend::mpiio)) {
    if (p.name == "readback") {
      EXPECT_EQ(p.choices, (std::vector<std::string>{"reorder", "fadvise", "none"}));
    }
  }
#ifdef CONVERGE_IO_MPI
  for (const char* id : {"io.mpiio.write", "io.mpiio.read"}) {
    const core::BenchmarkSpec* s = core::Registry::instance().find(id);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_EQ(s->backend, "mpiio");
  }
#endif
}

}  // namespace
}  // namespace converge::io::bw
