#include "core/cuda/cublas.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace converge::core::cuda {

void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  throw std::runtime_error(fmt::format("{}:{}: {} failed: {}: {}", file, line, expr, cublasGetStatusName(status),
                                       cublasGetStatusString(status)));
}

LtHandle::LtHandle() { CONVERGE_CUBLAS_CHECK(cublasLtCreate(&handle_)); }
LtHandle::~LtHandle() {
  if (handle_) (void)cublasLtDestroy(handle_);
}

BlasHandle::BlasHandle(cudaStream_t stream) {
  CONVERGE_CUBLAS_CHECK(cublasCreate(&handle_));
  CONVERGE_CUBLAS_CHECK(cublasSetStream(handle_, stream));
}
BlasHandle::~BlasHandle() {
  if (handle_) (void)cublasDestroy(handle_);
}

std::string cublas_version_text() {
  const std::size_t v = cublasLtGetVersion();  // major * 10000 + minor * 100 + patch
  return fmt::format("cuBLAS {}.{}.{}", v / 10000, (v / 100) % 100, v % 100);
}

}  // namespace converge::core::cuda
