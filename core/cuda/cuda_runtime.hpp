#pragma once
// Small CUDA runtime helpers shared by every CUDA benchmark: an error check that throws with
// the call site, and "is there a usable device, and if not, why not".
#include <cuda_runtime_api.h>

#include <string>

namespace converge::core::cuda {

/// Throws std::runtime_error
/// "<file>:<line>: <expr> failed: <cudaGetErrorName>: <cudaGetErrorString>".
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);

/// Evaluates a CUDA runtime call once; throws (see throw_cuda_error) unless it returns cudaSuccess.
#define CONVERGE_CUDA_CHECK(expr)                                                          \
  do {                                                                                     \
    const cudaError_t converge_cuda_err_ = (expr);                                         \
    if (converge_cuda_err_ != cudaSuccess)                                                 \
      ::converge::core::cuda::throw_cuda_error(converge_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

/// How many CUDA devices this process can use; when none, why not (for "skipped: ...").
struct DeviceAvailability {
  int count = 0;       ///< devices visible to this process (after CUDA_VISIBLE_DEVICES)
  std::string reason;  ///< empty when count > 0
};

/// Never throws. Reasons: "no CUDA device visible", "no CUDA device visible (no CUDA driver: ...)",
/// "driver/runtime mismatch: driver supports CUDA X, runtime is Y", or the CUDA error string.
DeviceAvailability device_availability();

/// CUDA's integer versions as text: 13000 -> "13.0", 12040 -> "12.4"; 0 -> "none".
std::string cuda_version_text(int version);

}  // namespace converge::core::cuda
