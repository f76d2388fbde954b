#pragma once
// micro.gpu_gemm.*: one cuBLASLt matmul, planned once (descriptors and the heuristic's best
// algorithm) and enqueued once per repetition. Host code (links cuBLASLt).
#include <cublasLt.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/expected.hpp"
#include "micro/cuda/gemm_verify.hpp"

namespace converge::micro::cuda::gemm {

/// The cuBLASLt types of precision p (gemm_verify.hpp's traits().types says the same in words).
struct LtTypes {
  cudaDataType_t ab;  ///< A and B
  cudaDataType_t d;   ///< C and D (C = D, beta = 0)
  cudaDataType_t scale;
  cublasComputeType_t compute;
};
LtTypes lt_types(Precision p);

/// cuBLASLt's tile enum as "128x256" ("tile id 77" where the table stops).
std::string tile_text(unsigned tile_id);

/// D = op(A) B for square n in the storage convention of gemm_verify.hpp: "TN", column-major,
/// op(A) = A^T, op(B) = B, lda = ldb = ldd = n, alpha = 1, beta = 0, C = D.
class LtGemm {
 public:
  /// Creates the descriptors and asks cublasLtMatmulAlgoGetHeuristic for its best algorithm
  /// within `workspace_bytes`. An error (not an exception) when cuBLASLt offers none.
  static core::Expected<std::unique_ptr<LtGemm>> plan(cublasLtHandle_t lt, Precision p, std::uint64_t n,
                                                       std::uint64_t workspace_bytes);
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  /// Enqueues one matmul on `stream` and returns (asynchronous); throws on a cuBLAS error.
  /// `workspace` holds the `workspace_bytes` given to plan().
  void enqueue(cudaStream_t stream, const void* a, const void* b, void* d, void* workspace) const;
  /// The chosen algorithm's configuration, for notes: "id 66, tile 128x256, stages id 35, ...".
  std::string algo_text() const;
  /// Bytes of workspace the chosen algorithm uses.
  std::uint64_t workspace_used() const { return heuristic_.workspaceSize; }
  /// How the chosen algorithm splits k (for the verification bound).
  SplitK split() const;

 private:
  LtGemm() = default;
  cublasLtHandle_t lt_ = nullptr;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
  cublasLtMatmulHeuristicResult_t heuristic_{};
  std::uint64_t workspace_bytes_ = 0;
  alignas(8) unsigned char alpha_[8] = {}, beta_[8] = {};  // float, double or int32, as the scale type
};

}  // namespace converge::micro::cuda::gemm
