#include "core/cuda/device.hpp"

#include <cuda_runtime.h>

#include <fmt/format.h>

#include <vector>

#include "core/cuda/cuda_runtime.hpp"
#include "core/energy/nvml.hpp"

namespace converge::core::cuda {

std::string uuid_text(const unsigned char b[16]) {
  return fmt::format("GPU-{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                     b[15]);
}

namespace {

int attribute(cudaDeviceAttr a, int device) {
  int v = 0;
  CONVERGE_CUDA_CHECK(cudaDeviceGetAttribute(&v, a, device));
  return v;
}

std::string device_uuid(int index) {
  cudaDeviceProp p{};
  CONVERGE_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  return uuid_text(reinterpret_cast<const unsigned char*>(p.uuid.bytes));
}

}  // namespace

Expected<int> resolve_device(const std::string& spec, int local_rank) {
  const DeviceAvailability a = device_availability();
  if (a.count == 0) return make_error(a.reason);
  if (spec.empty() || spec == "auto") return local_rank % a.count;
  std::vector<std::string> uuids;
  for (int i = 0; i < a.count; ++i) uuids.push_back(device_uuid(i));
  const auto visible = [&] {
    std::string s;
    for (int i = 0; i < a.count; ++i) s += fmt::format("{}{} ({})", i ? ", " : "", i, uuids[std::size_t(i)]);
    return s;
  };
  if (spec.find_first_not_of("0123456789") == std::string::npos) {
    const int i = std::stoi(spec);
    if (i < a.count) return i;
    return make_error(fmt::format("device {} is not visible; visible devices: {}", spec, visible()));
  }
  int found = -1;
  for (int i = 0; i < a.count; ++i) {
    if (uuids[std::size_t(i)].rfind(spec, 0) != 0) continue;
    if (found >= 0) return make_error(fmt::format("device '{}' matches more than one UUID: {}", spec, visible()));
    found = i;
  }
  if (found < 0) return make_error(fmt::format("no visible device has UUID '{}'; visible devices: {}", spec, visible()));
  return found;
}

GpuInventory gpu_inventory(int index) {
  cudaDeviceProp p{};
  CONVERGE_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  GpuInventory g;
  g.index = index;
  g.name = p.name;
  g.uuid = uuid_text(reinterpret_cast<const unsigned char*>(p.uuid.bytes));
  char bus[32] = {};
  if (cudaDeviceGetPCIBusId(bus, sizeof bus, index) == cudaSuccess) g.pci_bus_id = bus;
  g.cc_major = p.major;
  g.cc_minor = p.minor;
  g.sm_count = p.multiProcessorCount;
  // kHz; cudaDeviceProp lost clockRate and memoryClockRate in CUDA 13, the attributes remain.
  g.max_sm_mhz = attribute(cudaDevAttrClockRate, index) / 1000.0;
  g.max_mem_mhz = attribute(cudaDevAttrMemoryClockRate, index) / 1000.0;
  g.memory_bytes = p.totalGlobalMem;
  g.bus_width_bits = p.memoryBusWidth;
  g.l2_bytes = std::uint64_t(p.l2CacheSize);
  g.ecc = p.ECCEnabled ? "on" : "off";
  int driver = 0, runtime = 0;
  (void)cudaDriverGetVersion(&driver);
  (void)cudaRuntimeGetVersion(&runtime);
  g.driver_version = "CUDA " + cuda_version_text(driver);
  g.runtime_version = cuda_version_text(runtime);
  if (auto f = energy::nvml_device_facts(g.uuid)) {
    g.current_sm_mhz = f->sm_mhz;
    g.current_mem_mhz = f->mem_mhz;
    g.power_limit_w = f->power_limit_w;
    if (!f->ecc.empty()) g.ecc = f->ecc;
    if (!f->driver_version.empty()) g.driver_version = f->driver_version + " (CUDA " + cuda_version_text(driver) + ")";
  } else {
    g.nvml = f.error();
  }
  return g;
}

void fill_gpu_inventory(Inventory& inv) {
  int runtime = 0;
  (void)cudaRuntimeGetVersion(&runtime);
  const std::string prefix = "CUDA runtime " + cuda_version_text(runtime);
  const DeviceAvailability a = device_availability();
  if (a.count == 0) {
    inv.gpu_probe = prefix + ": " + a.reason;
    return;
  }
  try {
    for (int i = 0; i < a.count; ++i) inv.gpus.push_back(gpu_inventory(i));
    inv.gpu_probe = fmt::format("{}: {} device{}", prefix, a.count, a.count == 1 ? "" : "s");
    for (const auto& g : inv.gpus)
      if (g.name != inv.gpus.front().name)
        inv.warnings.push_back(fmt::format("GPUs of different models on one node ({} and {}): the run's GPU peaks "
                                           "describe device 0; each benchmark uses its own device's",
                                           inv.gpus.front().name, g.name));
  } catch (const std::exception& e) {
    inv.gpu_probe = prefix + ": " + e.what();
  }
}

}  // namespace converge::core::cuda
