#pragma once
// micro.gpu_gemm.*: what the host knows without a device. The input generator (CONVERGE_HD:
// the fill kernel and the host reference call the same function, so the host regenerates any
// element of A or B without copying the matrices back), the per-precision facts (types, the
// compute capability needed, cuBLASLt's layout rule, the work model), the reference dot
// product and the derived tolerance of each sampled entry of D.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/benchmark.hpp"
#include "core/cuda/host_device.hpp"

namespace converge::micro::cuda::gemm {

enum class Precision { fp16, bf16, tf32, fp8, int8, fp64 };

/// Everything about one precision that does not need the CUDA headers.
struct Traits {
  const char* name;      ///< "fp16": the benchmark id's last part
  int in_bytes;          ///< bytes per element of A and B
  int out_bytes;         ///< bytes per element of D
  int input_bits;        ///< significant bits of the generated inputs (0: int8 integers)
  int input_min_exp;     ///< the inputs' smallest quantum is 2^input_min_exp (the type's subnormal step)
  double u_out;          ///< unit roundoff of D's type (0: D is exact or the accumulator's type)
  double eta_out;        ///< half the smallest subnormal of D's type (absolute error of underflow)
  int min_cc_major, min_cc_minor;  ///< Tensor Core support for the precision (fp64: runs anywhere)
  int n_multiple;        ///< n must be a multiple of this (cuBLASLt's FP8 / IMMA layout rules)
  const char* types;     ///< the cuBLASLt types, for notes
  const char* compute;   ///< the cuBLASLt compute type, for notes
};

/// The facts of precision p (see gemm.md for where each comes from).
const Traits& traits(Precision p);
/// All six, in registration order.
const std::vector<Precision>& all_precisions();

// --- the input generator (runs on the device in the fill kernel, and on the host) ----------

/// splitmix64's finaliser: a bijection of 64-bit words with good avalanche.
CONVERGE_HD std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Counter-based hash of (seed, stream, index): stream 0 is A, 1 is B, 2 the sampled positions.
CONVERGE_HD std::uint64_t input_hash(std::uint64_t seed, int stream, std::uint64_t index) {
  return mix64(mix64(seed ^ (0xD1B54A32D192ED03ull * std::uint64_t(stream + 1))) + index);
}

/// x rounded to nearest (ties to even) on the grid of a binary format with `bits` significant
/// bits whose smallest quantum is 2^min_exp (the subnormal step): the value that format holds.
CONVERGE_HD double round_to_format(double x, int bits, int min_exp) {
  if (x == 0) return 0;
  int e = 0;
  (void)::frexp(x, &e);  // |x| = m 2^e with m in [0.5, 1): the leading bit is 2^(e-1)
  int q = e - bits;       // quantum of a `bits`-bit significand at that exponent
  if (q < min_exp) q = min_exp;
  return ::ldexp(::rint(::ldexp(x, -q)), q);
}

/// Element `index` of matrix `stream` (0 = A, 1 = B) for a precision with `bits` significant
/// bits (traits().input_bits): uniform in [-1, 1) from 53 random bits, rounded to the format,
/// so it is exactly representable in the input type; bits == 0 (int8): uniform integers in
/// [-64, 63]. Never constant: every element has its own hash.
CONVERGE_HD double input_value(std::uint64_t seed, int stream, std::uint64_t index, int bits, int min_exp) {
  const std::uint64_t h = input_hash(seed, stream, index);
  if (bits == 0) return double(int(h >> 57) - 64);
  const double u = double(h >> 11) * 0x1p-52 - 1.0;  // exact: 53-bit integer times a power of two
  return round_to_format(u, bits, min_exp);
}

/// Storage convention ("TN, column-major"): A is kept k-contiguous, element (i, k) of the
/// m x k operand at index i*n + k (cuBLASLt: a k x m matrix, lda = n, op(A) = A^T); B's (k, j)
/// at j*n + k (k x n, ldb = n, op(B) = B); D's (i, j) at i + j*n (n x n, ldd = n).
inline std::uint64_t a_index(std::uint64_t n, std::uint64_t i, std::uint64_t k) { return i * n + k; }
inline std::uint64_t b_index(std::uint64_t n, std::uint64_t k, std::uint64_t j) { return j * n + k; }
inline std::uint64_t d_index(std::uint64_t n, std::uint64_t i, std::uint64_t j) { return i + j * n; }

// --- host only: requirements, work, reference, tolerance, verification ---------------------

/// Why precision p cannot run on compute capability major.minor ("fp8 Tensor Core GEMM needs
/// compute capability >= 8.9; device is 8.0"), or nullopt when it can.
std::optional<std::string> unsupported_reason(Precision p, int cc_major, int cc_minor);
/// Why n breaks cuBLASLt's layout rule for p ("n = 100: FP8 GEMM needs n a multiple of 16 ..."), or nullopt.
std::optional<std::string> layout_problem(Precision p, std::uint64_t n);
/// Which units run fp64 on compute capability major.minor, from the GPU peak table; notes text.
std::string fp64_units(int cc_major, int cc_minor);

/// One repetition: items = 2 n^3 operations (multiply and add counted apart), flops the same
/// for the floating-point precisions and 0 for int8 (its metric is op_rate, from items);
/// bytes = the compulsory traffic, A and B read and D written once (a lower bound).
core::WorkModel gemm_work(Precision p, std::uint64_t n);

/// D(i, j) computed on the host in long double from the regenerated inputs, and
/// S = sum_k |a_ik b_kj|, the scale of every error bound.
struct EntryReference {
  double value = 0;
  double abs_sum = 0;
};
EntryReference reference_entry(Precision p, std::uint64_t seed, std::uint64_t n, std::uint64_t i,
                                std::uint64_t j);

/// How the chosen cuBLASLt algorithm splits the k dimension: `splits` parts (CUBLASLT_ALGO_CONFIG_
/// SPLITK_NUM) whose partial sums are rounded to D's type and added there when
/// `in_output_type` (reduction schemes INPLACE and OUTPUT_TYPE); COMPUTE_TYPE keeps them in the
/// accumulator's type, which the accumulation bound already covers.
struct SplitK {
  int splits = 1;
  bool in_output_type = false;
};

/// Relative constant c of the bound |D - ref| <= c S + u_D |ref| + eta_D (see gemm.md).
double accumulation_constant(Precision p, std::uint64_t n, SplitK split = {});
/// Largest |d - ref| allowed for one entry: c S + u_D (|ref| + c S) + eta_D (0 for int8).
double entry_bound(Precision p, std::uint64_t n, double ref, double abs_sum, SplitK split = {});
/// The verification method text: the sampling, the bound and its derivation for p.
std::string verification_method(Precision p, SplitK split = {});

/// The `count` sampled positions (i, j) of D for seed and n (deterministic).
struct Position {
  std::uint64_t i = 0, j = 0;
};
std::vector<Position> sample_positions(std::uint64_t seed, std::uint64_t n, int count = 64);

/// D's element from its bytes in device order (fp16, bf16, fp32, int32 or fp64 per p).
double decode_output(Precision p, const unsigned char* bytes);

/// Checks the values read back at `positions` (got[s] is D at positions[s]) against the
/// reference and bound: failed, naming the first entry out of bounds, or passed. The reported
/// error and tolerance are relative to S (int8: absolute).
core::Verification check_entries(Precision p, std::uint64_t seed, std::uint64_t n,
                                 const std::vector<Position>& positions, const std::vector<double>& got,
                                 SplitK split = {});

}  // namespace converge::micro::cuda::gemm
