// Inventory of this host (sanity bounds only: the machine varies), and the pure checks on
// hand-made inventories: BLAS kernels vs ISA, hwloc vs /proc/meminfo, last-level cache.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

#include "core/inventory.hpp"

namespace converge::core {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(Inventory, ThisHost) {
  ::setenv("OMP_PROC_BIND", "close", 1);
  ::setenv("CONVERGE_TEST_NOT_ALLOWED", "secret", 1);
  const Inventory inv = collect_inventory();
  ::unsetenv("OMP_PROC_BIND");
  ::unsetenv("CONVERGE_TEST_NOT_ALLOWED");

  EXPECT_GE(inv.cpu.cores, 1);
  EXPECT_GE(inv.cpu.threads, inv.cpu.cores);
  EXPECT_GE(inv.cpu.sockets, 1);
  EXPECT_GE(inv.cpu.numa_nodes, 1);
  EXPECT_GT(inv.memory.total_bytes, 0u);
  EXPECT_LE(inv.memory.available_bytes, inv.memory.total_bytes);
  EXPECT_FALSE(inv.topology_source.empty());
  EXPECT_FALSE(inv.kernel.empty());
  EXPECT_FALSE(inv.arch.empty());
  EXPECT_FALSE(inv.compiler.empty());
  EXPECT_FALSE(inv.suite_version.empty());
  EXPECT_FALSE(inv.cpu.microarchitecture.empty());
  EXPECT_FALSE(inv.cpu.frequency_source.empty());
#if defined(__x86_64__)
  EXPECT_FALSE(inv.cpu.vendor.empty());
  EXPECT_TRUE(has_isa(inv, "sse2"));  // part of x86-64 itself
  EXPECT_FALSE(has_isa(inv, "sse9"));
#endif
  const bool has_l1 = std::any_of(inv.cpu.caches.begin(), inv.cpu.caches.end(),
                                  [](const CacheLevel& c) { return c.level == 1; });
  EXPECT_TRUE(has_l1);
  for (const CacheLevel& c : inv.cpu.caches) {
    EXPECT_GT(c.size_bytes, 0u);
    EXPECT_GE(c.instances, 1);
    EXPECT_GE(c.shared_by_cpus, 1);
  }
  EXPECT_GT(last_level_cache_bytes(inv), 0u);

  // Allow-listed variables only: the environment can hold secrets.
  EXPECT_EQ(inv.environment.count("OMP_PROC_BIND"), 1u);
  EXPECT_EQ(inv.environment.count("CONVERGE_TEST_NOT_ALLOWED"), 0u);
  EXPECT_EQ(inv.environment.count("PATH"), 0u);
}

Inventory with_blas(const std::string& vendor, std::vector<std::string> isa,
                    const std::string& corename) {
  Inventory inv;
  inv.cpu.vendor = vendor;
  inv.cpu.isa = std::move(isa);
  inv.blas.library = "OpenBLAS";
  inv.blas.corename = corename;
  return inv;
}

const std::vector<std::string> kAvx2 = {"sse2", "avx", "fma", "avx2"};
const std::vector<std::string> kAvx512 = {"sse2", "avx", "fma", "avx2", "avx512f"};

TEST(BlasCheck, OldKernelsOnAvx512Warn) {
  Inventory inv = with_blas("GenuineIntel", kAvx512, "Prescott");
  check_blas_against_isa(inv);
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_TRUE(contains(inv.warnings[0], "Prescott")) << inv.warnings[0];
  EXPECT_TRUE(contains(inv.warnings[0], "OPENBLAS_CORETYPE=SkylakeX")) << inv.warnings[0];

  inv = with_blas("GenuineIntel", kAvx512, "haswell");  // names are case-insensitive
  check_blas_against_isa(inv);
  EXPECT_EQ(inv.warnings.size(), 1u);
}

TEST(BlasCheck, MatchingKernelsDoNotWarn) {
  for (const char* core : {"SkylakeX", "SKYLAKEX", "Cooperlake", "SapphireRapids"}) {
    Inventory inv = with_blas("GenuineIntel", kAvx512, core);
    check_blas_against_isa(inv);
    EXPECT_TRUE(inv.warnings.empty()) << core;
  }
  Inventory zen = with_blas("AuthenticAMD", kAvx2, "Zen");
  check_blas_against_isa(zen);
  EXPECT_TRUE(zen.warnings.empty());
  Inventory unknown = with_blas("GenuineIntel", kAvx512, "SomethingNew");
  check_blas_against_isa(unknown);
  EXPECT_TRUE(unknown.warnings.empty());
  Inventory none;  // no BLAS linked
  none.cpu.isa = kAvx512;
  check_blas_against_isa(none);
  EXPECT_TRUE(none.warnings.empty());
}

TEST(BlasCheck, FixFollowsVendorAndIsa) {
  Inventory amd = with_blas("AuthenticAMD", kAvx2, "Nehalem");
  check_blas_against_isa(amd);
  ASSERT_EQ(amd.warnings.size(), 1u);
  EXPECT_TRUE(contains(amd.warnings[0], "OPENBLAS_CORETYPE=Zen")) << amd.warnings[0];

  Inventory intel = with_blas("GenuineIntel", kAvx2, "sandybridge");
  check_blas_against_isa(intel);
  ASSERT_EQ(intel.warnings.size(), 1u);
  EXPECT_TRUE(contains(intel.warnings[0], "OPENBLAS_CORETYPE=Haswell")) << intel.warnings[0];

  std::vector<std::string> spr = kAvx512;
  spr.insert(spr.end(), {"avx512_bf16", "avx512_fp16"});
  Inventory sapphire = with_blas("GenuineIntel", spr, "Haswell");
  check_blas_against_isa(sapphire);
  ASSERT_EQ(sapphire.warnings.size(), 1u);
  EXPECT_TRUE(contains(sapphire.warnings[0], "OPENBLAS_CORETYPE=SapphireRapids"));
}

TEST(MemoryCrossCheck, WarnsBeyondTenPercent) {
  constexpr std::uint64_t gib = 1ull << 30;
  const auto w = memory_mismatch_warning(24 * gib, 5 * gib);
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(contains(*w, "24.00 GiB")) << *w;
  EXPECT_TRUE(contains(*w, "5.00 GiB")) << *w;
  EXPECT_TRUE(contains(*w, "uses /proc/meminfo")) << *w;
  EXPECT_TRUE(memory_mismatch_warning(5 * gib, 24 * gib).has_value());
  EXPECT_FALSE(memory_mismatch_warning(100 * gib, 105 * gib).has_value());
  EXPECT_FALSE(memory_mismatch_warning(100 * gib, 91 * gib).has_value());
  EXPECT_FALSE(memory_mismatch_warning(24 * gib, 0).has_value()) << "no hwloc: nothing to check";
}

TEST(Inventory, LastLevelCacheSumsInstancesAndSkipsInstructionCaches) {
  Inventory inv;
  inv.cpu.caches = {{1, "data", 32 << 10, 64, 1},
                    {1, "instruction", 32 << 10, 64, 1},
                    {2, "unified", 1 << 20, 64, 1},
                    {3, "unified", 32 << 20, 8, 8}};
  EXPECT_EQ(last_level_cache_bytes(inv), 8ull * (32 << 20));
  EXPECT_EQ(last_level_cache_bytes(Inventory{}), 0u);
}

void mark_probed(Inventory& inv) { inv.hostname = "probed"; }

TEST(Inventory, ProbesRunInFullInventory) {
  EXPECT_TRUE(register_inventory_probe(&mark_probed));
  EXPECT_FALSE(register_inventory_probe(nullptr));
  EXPECT_EQ(collect_full_inventory().hostname, "probed");
}

}  // namespace
}  // namespace converge::core
