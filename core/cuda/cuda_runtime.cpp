// CUDA runtime helpers. Compiled by nvcc, but needs no GPU: every call here reports the
// absence of one as data, so CPU-only nodes run the rest of the suite.
#include "core/cuda/cuda_runtime.hpp"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace converge::core::cuda {

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + expr +
                           " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

std::string cuda_version_text(int version) {
  if (version <= 0) return "none";
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

DeviceAvailability device_availability() {
  DeviceAvailability a;
  const cudaError_t err = cudaGetDeviceCount(&a.count);
  if (err == cudaSuccess && a.count > 0) return a;
  // Initialisation errors are reported again by the next call; clear what can be cleared so
  // that a caller that goes on does not trip over ours.
  (void)cudaGetLastError();
  a.count = 0;
  int driver = 0, runtime = 0;
  (void)cudaDriverGetVersion(&driver);  // 0 when no driver is loaded
  (void)cudaRuntimeGetVersion(&runtime);
  if (err == cudaSuccess || err == cudaErrorNoDevice) {
    a.reason = "no CUDA device visible";
  } else if (err == cudaErrorInsufficientDriver && driver == 0) {
    a.reason = "no CUDA device visible (no CUDA driver: libcuda.so.1 not found)";
  } else if (err == cudaErrorInsufficientDriver) {
    a.reason = "driver/runtime mismatch: driver supports CUDA " + cuda_version_text(driver) +
               ", runtime is " + cuda_version_text(runtime);
  } else {
    a.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
  }
  return a;
}

}  // namespace converge::core::cuda
