#pragma once
// cuBLAS and cuBLASLt status checks and owned handles. Only targets that link cuBLAS include
// this (converge_core_cublas).
#include <cublasLt.h>
#include <cublas_v2.h>

#include <string>

namespace converge::core::cuda {

/// Throws std::runtime_error "<file>:<line>: <expr> failed: <cublasGetStatusName>: <string>".
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line);

#define CONVERGE_CUBLAS_CHECK(expr)                                                          \
  do {                                                                                       \
    const cublasStatus_t converge_cublas_status_ = (expr);                                   \
    if (converge_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                    \
      ::converge::core::cuda::throw_cublas_error(converge_cublas_status_, #expr, __FILE__, __LINE__); \
  } while (0)

/// A cuBLASLt handle on the current device.
class LtHandle {
 public:
  LtHandle();
  ~LtHandle();
  LtHandle(const LtHandle&) = delete;
  LtHandle& operator=(const LtHandle&) = delete;
  cublasLtHandle_t get() const { return handle_; }

 private:
  cublasLtHandle_t handle_ = nullptr;
};

/// A cuBLAS handle on the current device, bound to `stream`.
class BlasHandle {
 public:
  explicit BlasHandle(cudaStream_t stream);
  ~BlasHandle();
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

/// "cuBLAS 13.0.2" (cublasLtGetVersion), for results' notes.
std::string cublas_version_text();

}  // namespace converge::core::cuda
