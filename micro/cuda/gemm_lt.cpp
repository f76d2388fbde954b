// micro.gpu_gemm.*: the cuBLASLt descriptors, the heuristic's choice and the matmul call.
#include "micro/cuda/gemm_lt.hpp"

#include <fmt/format.h>

#include <cstring>

#include "core/cuda/cublas.hpp"

namespace converge::micro::cuda::gemm {
namespace {

// cublasLtMatmulTile_t 1..35, as cublasLt.h numbers them (the ids are part of the API).
constexpr const char* kTiles[] = {"undefined", "8x8",    "8x16",   "16x8",    "8x32",    "16x16",  "32x8",
                                  "8x64",      "16x32",  "32x16",  "64x8",    "32x32",   "32x64",  "64x32",
                                  "32x128",    "64x64",  "128x32", "64x128",  "128x64",  "64x256", "128x128",
                                  "256x64",    "64x512", "128x256", "256x128", "512x64", "64x96",  "96x64",
                                  "96x128",    "128x160", "160x128", "192x128", "128x192", "128x96", "32x256",
                                  "256x32"};

template <typename T>
std::string config(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  T v{};
  std::size_t written = 0;
  if (cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &v, sizeof v, &written) != CUBLAS_STATUS_SUCCESS) return "?";
  return std::to_string(v);
}

template <typename T>
void set_scalars(unsigned char* alpha, unsigned char* beta) {
  const T one = 1, zero = 0;
  std::memcpy(alpha, &one, sizeof one);
  std::memcpy(beta, &zero, sizeof zero);
}

}  // namespace

LtTypes lt_types(Precision p) {
  switch (p) {
    case Precision::fp16: return {CUDA_R_16F, CUDA_R_16F, CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case Precision::bf16: return {CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case Precision::tf32: return {CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32};
    case Precision::fp8: return {CUDA_R_8F_E4M3, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case Precision::int8: return {CUDA_R_8I, CUDA_R_32I, CUDA_R_32I, CUBLAS_COMPUTE_32I};
    case Precision::fp64: return {CUDA_R_64F, CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F};
  }
  return {};
}

std::string tile_text(unsigned tile_id) {
  return tile_id < std::size(kTiles) ? kTiles[tile_id] : fmt::format("tile id {}", tile_id);
}

core::Expected<std::unique_ptr<LtGemm>> LtGemm::plan(cublasLtHandle_t lt, Precision p, std::uint64_t n,
                                                     std::uint64_t workspace_bytes) {
  std::unique_ptr<LtGemm> g(new LtGemm());
  g->lt_ = lt;
  g->workspace_bytes_ = workspace_bytes;
  const LtTypes t = lt_types(p);
  CONVERGE_CUBLAS_CHECK(cublasLtMatmulDescCreate(&g->op_, t.compute, t.scale));
  // "TN": cuBLASLt's FP8 and IMMA kernels require it (A transposed, B not); the other
  // precisions use it too, so that every precision reads both operands k-contiguous.
  const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
  CONVERGE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(g->op_, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa));
  CONVERGE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(g->op_, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb));
  if (p == Precision::fp8) {  // the default, stated: partial sums are promoted to fp32 (the bound relies on it)
    const std::int8_t fast_accum = 0;
    CONVERGE_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(g->op_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast_accum, sizeof fast_accum));
  }
  const auto ld = std::int64_t(n);
  CONVERGE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&g->a_, t.ab, n, n, ld));  // k x m, op(A) = A^T
  CONVERGE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&g->b_, t.ab, n, n, ld));  // k x n
  CONVERGE_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&g->d_, t.d, n, n, ld));   // m x n, also C
  switch (t.scale) {
    case CUDA_R_64F: set_scalars<double>(g->alpha_, g->beta_); break;
    case CUDA_R_32I: set_scalars<std::int32_t>(g->alpha_, g->beta_); break;
    default: set_scalars<float>(g->alpha_, g->beta_);
  }

  cublasLtMatmulPreference_t pref = nullptr;
  CONVERGE_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, cublasStatus_t (*)(cublasLtMatmulPreference_t)> owned(
      pref, &cublasLtMatmulPreferenceDestroy);
  CONVERGE_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                             &workspace_bytes, sizeof workspace_bytes));
  int returned = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(lt, g->op_, g->a_, g->b_, g->d_, g->d_, pref, 1, &g->heuristic_, &returned);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED || (st == CUBLAS_STATUS_SUCCESS && returned == 0))
    return core::Error{fmt::format("cublasLtMatmulAlgoGetHeuristic offers no algorithm for {} ({}; {}), n = {}, "
                                   "workspace {} B: {}",
                                   traits(p).name, traits(p).types, traits(p).compute, n, workspace_bytes,
                                   cublasGetStatusName(st))};
  CONVERGE_CUBLAS_CHECK(st);
  CONVERGE_CUBLAS_CHECK(g->heuristic_.state);
  return g;
}

LtGemm::~LtGemm() {
  // Destructors must not throw; a failing destroy leaves nothing the next call depends on.
  if (d_) (void)cublasLtMatrixLayoutDestroy(d_);
  if (b_) (void)cublasLtMatrixLayoutDestroy(b_);
  if (a_) (void)cublasLtMatrixLayoutDestroy(a_);
  if (op_) (void)cublasLtMatmulDescDestroy(op_);
}

void LtGemm::enqueue(cudaStream_t stream, const void* a, const void* b, void* d, void* workspace) const {
  CONVERGE_CUBLAS_CHECK(cublasLtMatmul(lt_, op_, alpha_, a, a_, b, b_, beta_, d, d_, d, d_, &heuristic_.algo,
                                       workspace, workspace_bytes_, stream));
}

std::string LtGemm::algo_text() const {
  const auto& algo = heuristic_.algo;
  std::uint32_t tile = 0;
  std::size_t written = 0;
  const bool have_tile = cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile,
                                                              &written) == CUBLAS_STATUS_SUCCESS;
  return fmt::format(
      "id {}, tile {}, stages id {}, split-k {}, reduction scheme {}, swizzle {}, custom option {}, inner shape id {}, "
      "cluster shape id {}; waves {:.3g}; best of cublasLtMatmulAlgoGetHeuristic",
      config<std::int32_t>(algo, CUBLASLT_ALGO_CONFIG_ID), have_tile ? tile_text(tile) : "?",
      config<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_STAGES_ID), config<std::int32_t>(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM),
      config<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME),
      config<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING),
      config<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION),
      config<std::uint16_t>(algo, CUBLASLT_ALGO_CONFIG_INNER_SHAPE_ID),
      config<std::uint16_t>(algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID), heuristic_.wavesCount);
}

SplitK LtGemm::split() const {
  std::int32_t splits = 1;
  std::uint32_t scheme = CUBLASLT_REDUCTION_SCHEME_NONE;
  std::size_t written = 0;
  // The bound depends on these, so an unreadable one is an error rather than a guess.
  CONVERGE_CUBLAS_CHECK(cublasLtMatmulAlgoConfigGetAttribute(&heuristic_.algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splits,
                                                             sizeof splits, &written));
  CONVERGE_CUBLAS_CHECK(cublasLtMatmulAlgoConfigGetAttribute(&heuristic_.algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME,
                                                             &scheme, sizeof scheme, &written));
  return {splits, scheme == CUBLASLT_REDUCTION_SCHEME_INPLACE || scheme == CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE};
}

}  // namespace converge::micro::cuda::gemm
