// micro.gpu_gemm.*: the host side of the benchmark (requirements, work model, reference and
// tolerance). No CUDA calls: unit-tested by the ordinary C++ compiler.
#include "micro/cuda/gemm_verify.hpp"

#include <fmt/format.h>

#include <cstring>

#include "core/gpu_peak.hpp"

namespace converge::micro::cuda::gemm {
namespace {

// Every figure is derived in gemm.md ("Verification"); the ids are the benchmark names.
const Traits kTraits[] = {
    {"fp16", 2, 2, 11, -24, 0x1p-11, 0x1p-25, 7, 0, 1, "A, B, D: CUDA_R_16F; scale: CUDA_R_32F", "CUBLAS_COMPUTE_32F"},
    {"bf16", 2, 2, 8, -133, 0x1p-8, 0x1p-134, 8, 0, 1, "A, B, D: CUDA_R_16BF; scale: CUDA_R_32F",
     "CUBLAS_COMPUTE_32F"},
    {"tf32", 4, 4, 24, -149, 0x1p-24, 0x1p-150, 8, 0, 1, "A, B, D: CUDA_R_32F; scale: CUDA_R_32F",
     "CUBLAS_COMPUTE_32F_FAST_TF32"},
    {"fp8", 1, 2, 4, -9, 0x1p-8, 0x1p-134, 8, 9, 16,
     "A, B: CUDA_R_8F_E4M3 (no scale pointers: scale 1); D: CUDA_R_16BF; scale: CUDA_R_32F", "CUBLAS_COMPUTE_32F"},
    {"int8", 1, 4, 0, 0, 0, 0, 7, 5, 4, "A, B: CUDA_R_8I; D: CUDA_R_32I; scale: CUDA_R_32I", "CUBLAS_COMPUTE_32I"},
    {"fp64", 8, 8, 53, -1074, 0, 0, 0, 0, 1, "A, B, D: CUDA_R_64F; scale: CUDA_R_64F", "CUBLAS_COMPUTE_64F"},
};

constexpr double kTf32Input = 2 * 0x1p-10 + 0x1p-20;  // (1 + 2^-10)^2 - 1: both factors cut to tf32
constexpr double kFp8Accumulator = 0x1p-8;            // 16 MMA steps x 2^-13, factor 2

}  // namespace

const Traits& traits(Precision p) { return kTraits[int(p)]; }

const std::vector<Precision>& all_precisions() {
  static const std::vector<Precision> all = {Precision::fp16, Precision::bf16, Precision::tf32,
                                             Precision::fp8,  Precision::int8, Precision::fp64};
  return all;
}

std::optional<std::string> unsupported_reason(Precision p, int cc_major, int cc_minor) {
  const Traits& t = traits(p);
  if (cc_major * 10 + cc_minor >= t.min_cc_major * 10 + t.min_cc_minor) return std::nullopt;
  return fmt::format("{} Tensor Core GEMM needs compute capability >= {}.{}; device is {}.{}", t.name, t.min_cc_major,
                     t.min_cc_minor, cc_major, cc_minor);
}

std::optional<std::string> layout_problem(Precision p, std::uint64_t n) {
  const Traits& t = traits(p);
  if (n % std::uint64_t(t.n_multiple) == 0) return std::nullopt;
  const char* why = p == Precision::fp8 ? "cuBLASLt's FP8 kernels need 16-byte aligned leading dimensions"
                                        : "cuBLASLt's IMMA kernels need m, k and leading dimensions multiples of 4";
  return fmt::format("n = {}: {} GEMM needs n a multiple of {} ({})", n, t.name, t.n_multiple, why);
}

std::string fp64_units(int cc_major, int cc_minor) {
  if (core::gpu_ops_per_clock_per_sm(cc_major, cc_minor, "tensor", "fp64"))
    return "FP64 Tensor Cores (DMMA); peak gpu.tensor.fp64";
  if (core::gpu_architecture_name(cc_major, cc_minor).empty())
    return fmt::format("unknown: compute capability {}.{} is not in the GPU peak table", cc_major, cc_minor);
  return fmt::format("FP64 CUDA cores: compute capability {}.{} has no FP64 Tensor Cores; peak gpu.fp64", cc_major,
                     cc_minor);
}

core::WorkModel gemm_work(Precision p, std::uint64_t n) {
  const double nn = double(n) * double(n), ops = 2.0 * nn * double(n);
  const Traits& t = traits(p);
  return {p == Precision::int8 ? 0.0 : ops, nn * (2.0 * t.in_bytes + t.out_bytes), ops};
}

EntryReference reference_entry(Precision p, std::uint64_t seed, std::uint64_t n, std::uint64_t i, std::uint64_t j) {
  const Traits& t = traits(p);
  long double sum = 0, abs_sum = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    const long double a = input_value(seed, 0, a_index(n, i, k), t.input_bits, t.input_min_exp);
    const long double b = input_value(seed, 1, b_index(n, k, j), t.input_bits, t.input_min_exp);
    sum += a * b;  // int8: products and sums are integers below 2^64, exact in long double
    abs_sum += std::fabs(a * b);
  }
  return {double(sum), double(abs_sum)};
}

double accumulation_constant(Precision p, std::uint64_t n, SplitK split) {
  const double nd = double(n);
  const Traits& t = traits(p);
  const double split_term = split.splits > 1 && split.in_output_type ? 2.0 * split.splits * t.u_out : 0.0;
  switch (p) {
    case Precision::int8: return 0;
    case Precision::fp64: return 2 * nd * 0x1p-53 + split_term;
    case Precision::tf32: return kTf32Input + 2 * nd * 0x1p-23 * (1 + kTf32Input) + split_term;
    case Precision::fp8: return 2 * nd * 0x1p-23 + kFp8Accumulator + split_term;
    default: return 2 * nd * 0x1p-23 + split_term;
  }
}

double entry_bound(Precision p, std::uint64_t n, double ref, double abs_sum, SplitK split) {
  if (p == Precision::int8) return 0;
  const Traits& t = traits(p);
  const double acc = accumulation_constant(p, n, split) * abs_sum;
  return acc + t.u_out * (std::fabs(ref) + acc) + t.eta_out;
}

std::string verification_method(Precision p, SplitK split) {
  const std::string sampled = "64 seeded entries of D read back vs a long double dot product of the regenerated inputs";
  if (p == Precision::int8)
    return sampled + " (exact: integers, |sum| <= 4096 n < 2^31); tolerance 0";
  const Traits& t = traits(p);
  const std::string fp32_acc = "2 n 2^-23 (fp32 accumulation: gamma_n with u = 2^-23 as Tensor Cores truncate in "
                               "their adders, factor 2 for alignment and blocked/split-K order)";
  std::string c = "c = " + fp32_acc;
  if (p == Precision::fp64) c = "c = 2 n 2^-53 (gamma_n of the FMA chain in any summation order, factor 2)";
  if (p == Precision::tf32)
    c = "c = c_in + (1 + c_in) " + fp32_acc + ", c_in = 2 2^-10 + 2^-20 (both fp32 factors cut to tf32, 10 stored "
        "bits, inside the Tensor Cores)";
  if (p == Precision::fp8)
    c += " + 2^-8 (FP8 Tensor Core accumulator of 13 mantissa bits, truncated: 2^-13 per MMA step of k = 32, "
         "<= 16 steps before cuBLASLt (FAST_ACCUM off) promotes the partial sum to fp32, factor 2)";
  if (split.splits > 1 && split.in_output_type)
    c += fmt::format(" + 2 s u_D (split-K: s = {} partial sums rounded to and added in D's type)", split.splits);
  const std::string out = p == Precision::fp64 ? "D is the accumulator (u_D = 0, eta_D = 0)"
                                               : fmt::format("u_D = 2^{} and eta_D = 2^{} of D's type",
                                                             std::ilogb(t.u_out), std::ilogb(t.eta_out));
  return sampled + "; inputs exact in their type; |d - ref| <= c S + u_D (|ref| + c S) + eta_D with S = sum_k |a_ik "
                   "b_kj|, " + c + "; " + out + "; error and tolerance relative to S";
}

std::vector<Position> sample_positions(std::uint64_t seed, std::uint64_t n, int count) {
  std::vector<Position> out;
  for (int s = 0; s < count; ++s)
    out.push_back({input_hash(seed, 2, 2 * std::uint64_t(s)) % n, input_hash(seed, 2, 2 * std::uint64_t(s) + 1) % n});
  return out;
}

double decode_output(Precision p, const unsigned char* bytes) {
  std::uint16_t h = 0;
  std::uint32_t w = 0;
  switch (p) {
    case Precision::fp16: {
      std::memcpy(&h, bytes, 2);
      const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
      const double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(1024 + m, e - 25);
      return h & 0x8000 ? -v : v;
    }
    case Precision::bf16:
    case Precision::fp8: {  // D is bf16: the high half of an fp32
      std::memcpy(&h, bytes, 2);
      w = std::uint32_t(h) << 16;
      float f;
      std::memcpy(&f, &w, 4);
      return f;
    }
    case Precision::tf32: {
      float f;
      std::memcpy(&f, bytes, 4);
      return f;
    }
    case Precision::int8: {
      std::int32_t i;
      std::memcpy(&i, bytes, 4);
      return i;
    }
    case Precision::fp64: {
      double d;
      std::memcpy(&d, bytes, 8);
      return d;
    }
  }
  return NAN;
}

core::Verification check_entries(Precision p, std::uint64_t seed, std::uint64_t n, const std::vector<Position>& positions,
                                 const std::vector<double>& got, SplitK split) {
  const std::string method = verification_method(p, split);
  if (positions.empty() || got.size() != positions.size())
    return core::Verification::failed(method, fmt::format("{} values for {} sampled positions", got.size(), positions.size()));
  const bool exact = p == Precision::int8;
  double max_err = 0, max_tol = 0;
  std::size_t bad = 0;
  std::string first;
  for (std::size_t s = 0; s < positions.size(); ++s) {
    const auto [i, j] = positions[s];
    const EntryReference r = reference_entry(p, seed, n, i, j);
    const double bound = entry_bound(p, n, r.value, r.abs_sum, split);
    const double err = std::fabs(got[s] - r.value);
    const double scale = exact || !(r.abs_sum > 0) ? 1.0 : r.abs_sum;
    max_err = std::max(max_err, std::isnan(err) ? INFINITY : err / scale);
    max_tol = std::max(max_tol, bound / scale);
    if (err <= bound) continue;
    if (bad++ == 0)
      first = fmt::format("D[{}][{}] = {:.9g}, reference {:.9g}: |error| {:.3g} > bound {:.3g} (S = {:.6g})", i, j,
                          got[s], r.value, err, bound, r.abs_sum);
  }
  if (bad > 0)
    return core::Verification::failed(
        method, fmt::format("{} of {} sampled entries out of bounds; first {}", bad, positions.size(), first), max_err,
        max_tol);
  return core::Verification::passed(method, max_err, max_tol);
}

}  // namespace converge::micro::cuda::gemm
