#pragma once
// Choosing the device a benchmark runs on, and what the inventory says about every device.
#include <string>

#include "core/expected.hpp"
#include "core/inventory.hpp"

namespace converge::core::cuda {

/// The device index for `spec`: "auto" = local_rank modulo the visible devices (one process
/// per GPU when the launcher starts one rank per GPU), a visible index ("1"), or a UUID or
/// unique prefix of one ("GPU-8f3c..."). Errors name the visible devices. Needs a device.
Expected<int> resolve_device(const std::string& spec, int local_rank);

/// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi -L prints it.
std::string uuid_text(const unsigned char bytes[16]);

/// The inventory of visible device `index` (CUDA runtime figures, then NVML's where it
/// answers). Throws on a CUDA error.
GpuInventory gpu_inventory(int index);

/// Inventory probe: lists every visible device in inv.gpus and says how in inv.gpu_probe.
/// Never throws.
void fill_gpu_inventory(Inventory& inv);

}  // namespace converge::core::cuda
