// Host-side parts of the CUDA backend that need no device: UUID text, device selection's
// answer without a device, and the skip path of a CUDA benchmark's setup.
#include <gtest/gtest.h>

#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/device.hpp"

namespace converge::core::cuda {
namespace {

TEST(CudaHost, UuidAsNvidiaSmiPrintsIt) {
  const unsigned char b[16] = {0x8f, 0x3c, 0x01, 0x02, 0xa0, 0xb1, 0xc2, 0xd3,
                               0xe4, 0xf5, 0x06, 0x17, 0x28, 0x39, 0x4a, 0x5b};
  EXPECT_EQ(uuid_text(b), "GPU-8f3c0102-a0b1-c2d3-e4f5-061728394a5b");
}

TEST(CudaHost, VersionText) {
  EXPECT_EQ(cuda_version_text(13000), "13.0");
  EXPECT_EQ(cuda_version_text(12040), "12.4");
  EXPECT_EQ(cuda_version_text(0), "none");
}

// Without a device every answer is the reason, never a guess; with one, "auto" picks a
// visible device and a bad index is refused naming the visible ones.
TEST(CudaHost, DeviceSelection) {
  const auto a = device_availability();
  if (a.count == 0) {
    EXPECT_FALSE(a.reason.empty());
    const auto d = resolve_device("auto", 0);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), a.reason);
    Inventory inv;
    fill_gpu_inventory(inv);
    EXPECT_TRUE(inv.gpus.empty());
    EXPECT_NE(inv.gpu_probe.find(a.reason), std::string::npos) << inv.gpu_probe;
    return;
  }
  const auto d = resolve_device("auto", a.count + 1);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d, (a.count + 1) % a.count);
  const auto bad = resolve_device(std::to_string(a.count), 0);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("visible devices: 0 (GPU-"), std::string::npos) << bad.error();
  const GpuInventory g = gpu_inventory(0);
  const auto by_uuid = resolve_device(g.uuid.substr(0, 12), 0);
  ASSERT_TRUE(by_uuid) << by_uuid.error();
  EXPECT_GT(g.sm_count, 0);
  EXPECT_GT(g.max_sm_mhz, 0);
}

}  // namespace
}  // namespace converge::core::cuda
