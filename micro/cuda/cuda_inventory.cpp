// The CUDA worker lists the node's GPUs in its inventory (name, UUID, clocks, memory, ECC,
// power limit, driver and runtime), so runs record the devices their figures came from.
#include "core/cuda/device.hpp"

namespace converge::micro::cuda {
namespace {

[[maybe_unused]] const bool gpu_probe_registered = core::register_inventory_probe(&core::cuda::fill_gpu_inventory);

}  // namespace
}  // namespace converge::micro::cuda
