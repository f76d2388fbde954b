// The GPU peak model as pure arithmetic: the per-architecture table against vendor data-sheet
// figures (SMs x clock x ops/clock/SM), the memory peak, absent entries, and which peak a
// benchmark on a given device gets.
#include <gtest/gtest.h>

#include "core/gpu_peak.hpp"
#include "core/inventory.hpp"
#include "core/peak.hpp"

namespace converge::core {
namespace {

GpuInventory gpu(std::string name, int major, int minor, int sms, double sm_mhz, double mem_mhz, int bus) {
  GpuInventory g;
  g.name = std::move(name);
  g.cc_major = major;
  g.cc_minor = minor;
  g.sm_count = sms;
  g.max_sm_mhz = sm_mhz;
  g.max_mem_mhz = mem_mhz;
  g.bus_width_bits = bus;
  return g;
}

GpuInventory h100() { return gpu("NVIDIA H100 80GB HBM3", 9, 0, 132, 1980, 2619, 5120); }
GpuInventory a100() { return gpu("NVIDIA A100-SXM4-40GB", 8, 0, 108, 1410, 1215, 5120); }

double peak(const GpuInventory& g, const std::string& id, double mhz = 0) {
  PeakModel m;
  add_gpu_peaks(m, g, mhz);
  const auto p = m.get(id);
  EXPECT_TRUE(p.has_value()) << id;
  return p ? p->value : 0;
}

// Data-sheet figures, within 1% (they are rounded to 3-4 digits).
TEST(GpuPeak, H100MatchesTheDataSheet) {
  EXPECT_NEAR(peak(h100(), "gpu.fp64") / 1e12, 33.5, 0.3);
  EXPECT_NEAR(peak(h100(), "gpu.fp32") / 1e12, 66.9, 0.5);
  EXPECT_NEAR(peak(h100(), "gpu.tensor.fp64") / 1e12, 66.9, 0.5);
  EXPECT_NEAR(peak(h100(), "gpu.fp16") / 1e12, 133.8, 1.0);
  // NVIDIA quotes Tensor Core figures at 1830 MHz: 989.4 dense fp16, 494.7 tf32, 1979 fp8.
  EXPECT_NEAR(peak(h100(), "gpu.tensor.fp16", 1830) / 1e12, 989.4, 5);
  EXPECT_NEAR(peak(h100(), "gpu.tensor.bf16", 1830) / 1e12, 989.4, 5);
  EXPECT_NEAR(peak(h100(), "gpu.tensor.tf32", 1830) / 1e12, 494.7, 3);
  EXPECT_NEAR(peak(h100(), "gpu.tensor.fp8", 1830) / 1e12, 1979, 10);
  EXPECT_NEAR(peak(h100(), "gpu.tensor.int8", 1830) / 1e12, 1979, 10);
  EXPECT_NEAR(peak(h100(), "gpu.mem_bw") / 1e12, 3.35, 0.02);
}

TEST(GpuPeak, A100MatchesTheDataSheet) {
  EXPECT_NEAR(peak(a100(), "gpu.fp64") / 1e12, 9.7, 0.1);
  EXPECT_NEAR(peak(a100(), "gpu.fp32") / 1e12, 19.5, 0.1);
  EXPECT_NEAR(peak(a100(), "gpu.tensor.fp64") / 1e12, 19.5, 0.1);
  EXPECT_NEAR(peak(a100(), "gpu.tensor.tf32") / 1e12, 156, 1);
  EXPECT_NEAR(peak(a100(), "gpu.tensor.fp16") / 1e12, 312, 2);
  EXPECT_NEAR(peak(a100(), "gpu.tensor.int8") / 1e12, 624, 4);
  EXPECT_NEAR(peak(a100(), "gpu.mem_bw") / 1e12, 1.555, 0.01);
}

TEST(GpuPeak, V100AndT4) {
  const auto v100 = gpu("Tesla V100-SXM2-16GB", 7, 0, 80, 1530, 877, 4096);
  EXPECT_NEAR(peak(v100, "gpu.fp64") / 1e12, 7.8, 0.1);
  EXPECT_NEAR(peak(v100, "gpu.tensor.fp16") / 1e12, 125, 1);
  EXPECT_NEAR(peak(v100, "gpu.mem_bw") / 1e9, 898, 5);
  const auto t4 = gpu("Tesla T4", 7, 5, 40, 1590, 5001, 256);
  EXPECT_NEAR(peak(t4, "gpu.tensor.fp16") / 1e12, 65, 1);
  EXPECT_NEAR(peak(t4, "gpu.tensor.int8") / 1e12, 130, 1);
}

// What an architecture lacks has no peak, and an architecture the table does not know has
// none at all (never a guess).
TEST(GpuPeak, AbsentNotGuessed) {
  PeakModel m;
  add_gpu_peaks(m, a100());
  EXPECT_FALSE(m.get("gpu.tensor.fp8"));  // FP8 arrived with Ada and Hopper
  PeakModel v;
  add_gpu_peaks(v, gpu("Tesla V100", 7, 0, 80, 1530, 877, 4096));
  EXPECT_FALSE(v.get("gpu.bf16"));
  EXPECT_FALSE(v.get("gpu.tensor.bf16"));
  EXPECT_FALSE(v.get("gpu.tensor.tf32"));
  PeakModel b;
  add_gpu_peaks(b, gpu("NVIDIA B200", 10, 0, 148, 1965, 4000, 8192));
  EXPECT_FALSE(b.get("gpu.fp64"));
  EXPECT_FALSE(b.get("gpu.tensor.fp16"));
  EXPECT_TRUE(b.get("gpu.mem_bw"));  // memory clock x bus width needs no table
  EXPECT_FALSE(gpu_ops_per_clock_per_sm(9, 0, "tensor", "fp4"));
  EXPECT_FALSE(gpu_ops_per_clock_per_sm(9, 0, "vector", "fp64"));
}

TEST(GpuPeak, AssumptionsShowEveryFactor) {
  PeakModel m;
  add_gpu_peaks(m, h100());
  const auto p = m.get("gpu.tensor.bf16");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->unit, "FLOP/s");
  EXPECT_EQ(p->source, "model");
  EXPECT_NE(p->assumptions.find("NVIDIA H100 80GB HBM3: 132 SMs × 4096 bf16 FLOP/clock/SM (Hopper sm_90, Tensor Cores"),
            std::string::npos)
      << p->assumptions;
  EXPECT_NE(p->assumptions.find("1980 MHz SM clock (the device's maximum"), std::string::npos) << p->assumptions;
  EXPECT_EQ(m.get("gpu.tensor.int8")->unit, "OP/s");
  EXPECT_EQ(m.get("gpu.mem_bw")->unit, "B/s");
}

TEST(GpuPeak, RunModelDescribesTheFirstGpu) {
  Inventory inv;
  inv.gpus = {h100()};
  const PeakModel m = PeakModel::from_inventory(inv);
  EXPECT_NEAR(m.get("gpu.fp64")->value, 132 * 128 * 1980e6, 1);
}

// A benchmark gets the run's figure for the same GPU model or a site-config figure; on a
// different model it gets its own device's.
TEST(GpuPeak, PeakForTheDeviceInUse) {
  Inventory inv;
  inv.gpus = {h100(), a100()};
  PeakModel m = PeakModel::from_inventory(inv);
  EXPECT_NEAR(gpu_peak(&m, h100(), "gpu.fp64")->value, 132 * 128 * 1980e6, 1);
  EXPECT_NEAR(gpu_peak(&m, a100(), "gpu.fp64")->value, 108 * 64 * 1410e6, 1);
  m.apply_override("gpu.fp64", 30e12);
  EXPECT_EQ(gpu_peak(&m, a100(), "gpu.fp64")->value, 30e12);
  EXPECT_EQ(gpu_peak(&m, a100(), "gpu.fp64")->source, "config");
  EXPECT_NEAR(gpu_peak(nullptr, a100(), "gpu.tensor.fp16")->value, 108 * 2048 * 1410e6, 1);
  m.apply_override("gpu.tensor.int8", 1e15);
  EXPECT_EQ(m.get("gpu.tensor.int8")->unit, "OP/s");
}

}  // namespace
}  // namespace converge::core
