// micro.gpu_gemm.*, host side: the input generator (deterministic, in range, exact in each
// input type), the storage convention against a textbook column-major GEMM, the reference, the
// tolerance formula, and verification: emulated correct results pass, corrupted ones fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "micro/cuda/gemm_verify.hpp"

namespace converge::micro::cuda::gemm {
namespace {

double gen(Precision p, std::uint64_t seed, int matrix, std::uint64_t index) {
  return input_value(seed, matrix, index, traits(p).input_bits, traits(p).input_min_exp);
}

float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
// fp32 -> bf16 -> fp32, round to nearest even (finite inputs), as __float2bfloat16_rn does.
float to_bf16(float f) {
  std::uint32_t u = float_bits(f);
  u += 0x7FFF + ((u >> 16) & 1);
  return bits_to_float(u & 0xFFFF0000u);
}
// fp32 -> tf32 by dropping the 13 low mantissa bits (the Tensor Cores' worst case).
float to_tf32_truncated(float f) { return bits_to_float(float_bits(f) & 0xFFFFE000u); }

// Every finite e4m3 value from its 256 bit patterns: an independent reading of the format
// (1 sign, 4 exponent bits with bias 7, 3 mantissa bits; S.1111.111 is NaN, no infinities).
const std::set<double>& e4m3_values() {
  static const std::set<double> values = [] {
    std::set<double> v;
    for (int b = 0; b < 256; ++b) {
      const int e = (b >> 3) & 0xF, m = b & 7;
      if (e == 15 && m == 7) continue;
      const double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 10);
      v.insert(b & 0x80 ? -mag : mag);
    }
    return v;
  }();
  return values;
}

bool exact_in_input_type(Precision p, double v) {
  switch (p) {
    case Precision::fp16: return double(_Float16(v)) == v;
    case Precision::bf16: return double(float(v)) == v && (float_bits(float(v)) & 0xFFFF) == 0;
    case Precision::tf32: return double(float(v)) == v;
    case Precision::fp8: return e4m3_values().count(v) == 1;
    case Precision::int8: return v == std::rint(v) && v >= -64 && v <= 63;
    case Precision::fp64: return true;
  }
  return false;
}

// What a correct GPU could return: products summed in fp32 in k order, or in blocks of 32 whose
// sums are added afterwards (a split-K order), then rounded to D's type.
double emulate_gpu(Precision p, std::uint64_t seed, std::uint64_t n, Position at, bool blocked) {
  if (p == Precision::int8 || p == Precision::fp64) {
    long long ia = 0;
    double acc = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      const double a = gen(p, seed, 0, a_index(n, at.i, k)), b = gen(p, seed, 1, b_index(n, k, at.j));
      ia += (long long)a * (long long)b;
      acc = std::fma(a, b, acc);
    }
    return p == Precision::int8 ? double(std::int32_t(ia)) : acc;
  }
  float acc = 0, block = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    float a = float(gen(p, seed, 0, a_index(n, at.i, k))), b = float(gen(p, seed, 1, b_index(n, k, at.j)));
    if (p == Precision::tf32) a = to_tf32_truncated(a), b = to_tf32_truncated(b);
    (blocked ? block : acc) += a * b;
    if (blocked && k % 32 == 31) acc += block, block = 0;
  }
  acc += block;
  switch (p) {
    case Precision::fp16: return double(_Float16(acc));
    case Precision::bf16:
    case Precision::fp8: return to_bf16(acc);
    default: return acc;
  }
}

std::vector<double> emulate_all(Precision p, std::uint64_t seed, std::uint64_t n, const std::vector<Position>& at,
                                bool blocked = false) {
  std::vector<double> got;
  for (const auto& x : at) got.push_back(emulate_gpu(p, seed, n, x, blocked));
  return got;
}

TEST(CudaGemm, InputsAreDeterministicAndDependOnSeedMatrixAndIndex) {
  for (Precision p : all_precisions()) {
    int same_seed = 0, same_matrix = 0, same_next = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) {
      EXPECT_EQ(gen(p, 42, 0, i), gen(p, 42, 0, i));
      same_seed += gen(p, 42, 0, i) == gen(p, 43, 0, i);
      same_matrix += gen(p, 42, 0, i) == gen(p, 42, 1, i);
      same_next += gen(p, 42, 0, i) == gen(p, 42, 0, i + 1);
    }
    // Chance agreements only: fp8 and int8 have ~100 values, so about 1% coincide.
    EXPECT_LT(same_seed, 40) << traits(p).name;
    EXPECT_LT(same_matrix, 40) << traits(p).name;
    EXPECT_LT(same_next, 40) << traits(p).name;
  }
}

TEST(CudaGemm, InputsAreInRangeExactInTheirTypeAndSpread) {
  for (Precision p : all_precisions()) {
    std::set<double> distinct;
    double sum = 0, sum_abs = 0;
    const int count = 200000;
    for (std::uint64_t i = 0; i < std::uint64_t(count); ++i) {
      const double v = gen(p, 7, int(i % 2), i * 2654435761u);
      ASSERT_TRUE(exact_in_input_type(p, v)) << traits(p).name << " value " << v;
      if (p == Precision::int8) ASSERT_TRUE(v >= -64 && v <= 63) << v;
      else ASSERT_TRUE(v >= -1 && v <= 1) << traits(p).name << " value " << v;
      distinct.insert(v);
      sum += v, sum_abs += std::fabs(v);
    }
    const std::size_t want = p == Precision::fp8 ? 90 : p == Precision::int8 ? 128 : p == Precision::bf16 ? 1000
                                                        : p == Precision::fp16 ? 10000 : 190000;
    EXPECT_GE(distinct.size(), want) << traits(p).name;
    const double scale = p == Precision::int8 ? 64 : 1;  // uniform: mean 0, mean |x| = scale / 2
    EXPECT_NEAR(sum / count / scale, 0, 0.01) << traits(p).name;
    EXPECT_NEAR(sum_abs / count / scale, 0.5, 0.01) << traits(p).name;
  }
}

TEST(CudaGemm, RoundToFormatMatchesTheFormats) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> mant(-1, 1);
  std::uniform_int_distribution<int> exp(-30, 2);
  for (int s = 0; s < 100000; ++s) {
    const double x = std::ldexp(mant(rng), exp(rng));  // reaches fp16's and e4m3's subnormals
    EXPECT_EQ(round_to_format(x, 11, -24), double(_Float16(x))) << x;
    EXPECT_EQ(round_to_format(x, 24, -149), double(float(x))) << x;
    const float f = float(x);  // bf16 of an fp32 value: one rounding, so start from an exact float
    EXPECT_EQ(round_to_format(f, 8, -133), double(to_bf16(f))) << f;
    if (std::fabs(x) <= 448) {  // e4m3: the nearest of its values (exact ties are measure zero)
      const auto& v = e4m3_values();
      auto hi = v.lower_bound(x);
      double best = *hi;
      if (hi != v.begin() && std::fabs(*std::prev(hi) - x) < std::fabs(best - x)) best = *std::prev(hi);
      EXPECT_EQ(round_to_format(x, 4, -9), best) << x;
    }
  }
}

// A textbook column-major GEMM with BLAS's transpose arguments, on buffers filled the way the
// fill kernel fills them (element index -> value), must give the reference at D's index.
TEST(CudaGemm, StorageConventionIsTnColumnMajor) {
  const std::uint64_t n = 12, lda = n, ldb = n;
  for (Precision p : all_precisions()) {
    std::vector<double> a(n * n), b(n * n), d(n * n);
    for (std::uint64_t x = 0; x < n * n; ++x) a[x] = gen(p, 5, 0, x), b[x] = gen(p, 5, 1, x);
    for (std::uint64_t j = 0; j < n; ++j)
      for (std::uint64_t i = 0; i < n; ++i) {
        long double s = 0;
        for (std::uint64_t k = 0; k < n; ++k) s += (long double)a[k + i * lda] * b[k + j * ldb];  // op(A) = A^T
        d[i + j * n] = double(s);
      }
    for (std::uint64_t i = 0; i < n; ++i)
      for (std::uint64_t j = 0; j < n; ++j) {
        const EntryReference r = reference_entry(p, 5, n, i, j);
        EXPECT_EQ(r.value, d[d_index(n, i, j)]) << traits(p).name << " D[" << i << "][" << j << "]";
        EXPECT_GE(r.abs_sum, std::fabs(r.value));
        EXPECT_GT(r.abs_sum, 0);
      }
  }
}

TEST(CudaGemm, ToleranceFormula) {
  const std::uint64_t n = 1024;
  const double ref = 3, s = 256, c32 = 0x1p-12;  // 2 n 2^-23
  EXPECT_DOUBLE_EQ(entry_bound(Precision::fp16, n, ref, s), c32 * s + 0x1p-11 * (ref + c32 * s) + 0x1p-25);
  EXPECT_DOUBLE_EQ(entry_bound(Precision::bf16, n, -ref, s), c32 * s + 0x1p-8 * (ref + c32 * s) + 0x1p-134);
  const double cin = 0x1p-9 + 0x1p-20, ctf = cin + c32 * (1 + cin);
  EXPECT_DOUBLE_EQ(entry_bound(Precision::tf32, n, ref, s), ctf * s + 0x1p-24 * (ref + ctf * s) + 0x1p-150);
  const double c8 = c32 + 0x1p-8;
  EXPECT_DOUBLE_EQ(entry_bound(Precision::fp8, n, ref, s), c8 * s + 0x1p-8 * (ref + c8 * s) + 0x1p-134);
  EXPECT_DOUBLE_EQ(entry_bound(Precision::fp64, n, ref, s), 0x1p-42 * s);
  EXPECT_EQ(entry_bound(Precision::int8, n, ref, s), 0);
  // Split-K in D's type adds 2 s u_D; in the compute type nothing.
  EXPECT_DOUBLE_EQ(accumulation_constant(Precision::fp16, n, {4, true}), c32 + 8 * 0x1p-11);
  EXPECT_DOUBLE_EQ(accumulation_constant(Precision::fp16, n, {4, false}), c32);
  EXPECT_DOUBLE_EQ(accumulation_constant(Precision::fp16, n, {1, true}), c32);
  EXPECT_EQ(accumulation_constant(Precision::int8, n, {4, true}), 0);
  // Linear in n (gamma_n), so a larger n allows proportionally more.
  EXPECT_DOUBLE_EQ(accumulation_constant(Precision::bf16, 2 * n), 2 * c32);
}

TEST(CudaGemm, EmulatedCorrectResultsPass) {
  for (Precision p : all_precisions()) {
    for (std::uint64_t n : {16u, 256u}) {
      const auto at = sample_positions(9, n);
      for (bool blocked : {false, true}) {
        const auto v = check_entries(p, 9, n, at, emulate_all(p, 9, n, at, blocked));
        EXPECT_EQ(v.status, core::VerifyStatus::passed) << traits(p).name << " n " << n << ": " << v.message;
        EXPECT_LE(v.max_error, v.tolerance) << traits(p).name;
        EXPECT_FALSE(v.method.empty());
      }
    }
  }
}

TEST(CudaGemm, CorruptedResultsFailNamingTheEntry) {
  const std::uint64_t n = 256, seed = 11;
  const auto at = sample_positions(seed, n);
  for (Precision p : all_precisions()) {
    const auto good = emulate_all(p, seed, n, at);
    const auto entry = [&](std::size_t s) {
      return "D[" + std::to_string(at[s].i) + "][" + std::to_string(at[s].j) + "]";
    };
    const auto expect_fail = [&](std::vector<double> got, std::size_t s, const char* what) {
      const auto v = check_entries(p, seed, n, at, got);
      EXPECT_EQ(v.status, core::VerifyStatus::failed) << traits(p).name << ": " << what;
      EXPECT_NE(v.message.find(entry(s)), std::string::npos) << traits(p).name << ": " << v.message;
    };
    // Just outside the bound of entry 5.
    const EntryReference r = reference_entry(p, seed, n, at[5].i, at[5].j);
    auto off = good;
    off[5] = r.value + 2 * entry_bound(p, n, r.value, r.abs_sum) + (p == Precision::int8 ? 1 : 1e-3);
    expect_fail(off, 5, "outside the bound");
    auto nan = good;
    nan[17] = NAN;
    expect_fail(nan, 17, "NaN");
    // An entry never written keeps the 0x7F fill.
    const unsigned char fill[8] = {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F};
    auto unwritten = good;
    unwritten[30] = decode_output(p, fill);
    expect_fail(unwritten, 30, "unwritten");
    // Values at the wrong positions (a transposed or shifted D).
    auto shifted = good;
    std::rotate(shifted.begin(), shifted.begin() + 1, shifted.end());
    const auto v = check_entries(p, seed, n, at, shifted);
    EXPECT_EQ(v.status, core::VerifyStatus::failed) << traits(p).name;
    EXPECT_NE(v.message.find("sampled entries out of bounds"), std::string::npos) << v.message;
  }
  EXPECT_EQ(check_entries(Precision::fp16, seed, n, at, {1.0}).status, core::VerifyStatus::failed);
}

TEST(CudaGemm, SamplePositions) {
  const auto a = sample_positions(42, 1000), b = sample_positions(42, 1000), c = sample_positions(43, 1000);
  ASSERT_EQ(a.size(), 64u);
  std::set<std::uint64_t> rows, cols;
  int same = 0;
  for (std::size_t s = 0; s < a.size(); ++s) {
    EXPECT_EQ(a[s].i, b[s].i);
    EXPECT_EQ(a[s].j, b[s].j);
    EXPECT_LT(a[s].i, 1000u);
    EXPECT_LT(a[s].j, 1000u);
    rows.insert(a[s].i), cols.insert(a[s].j);
    same += a[s].i == c[s].i && a[s].j == c[s].j;
  }
  EXPECT_GT(rows.size(), 50u);
  EXPECT_GT(cols.size(), 50u);
  EXPECT_LT(same, 2);
}

TEST(CudaGemm, RequirementsByComputeCapability) {
  EXPECT_EQ(unsupported_reason(Precision::fp8, 8, 0).value_or(""),
            "fp8 Tensor Core GEMM needs compute capability >= 8.9; device is 8.0");
  EXPECT_FALSE(unsupported_reason(Precision::fp8, 8, 9));
  EXPECT_FALSE(unsupported_reason(Precision::fp8, 9, 0));
  EXPECT_FALSE(unsupported_reason(Precision::fp8, 10, 0));
  EXPECT_TRUE(unsupported_reason(Precision::bf16, 7, 5));
  EXPECT_TRUE(unsupported_reason(Precision::tf32, 7, 5));
  EXPECT_FALSE(unsupported_reason(Precision::tf32, 8, 6));
  EXPECT_FALSE(unsupported_reason(Precision::int8, 7, 5));
  EXPECT_FALSE(unsupported_reason(Precision::fp16, 7, 5));
  EXPECT_FALSE(unsupported_reason(Precision::fp64, 7, 5));  // runs on the FP64 units
  EXPECT_EQ(layout_problem(Precision::fp8, 100).value_or("").rfind("n = 100: fp8 GEMM needs n a multiple of 16", 0), 0u);
  EXPECT_FALSE(layout_problem(Precision::fp8, 8192));
  EXPECT_TRUE(layout_problem(Precision::int8, 18));
  EXPECT_FALSE(layout_problem(Precision::int8, 20));
  EXPECT_FALSE(layout_problem(Precision::fp16, 17));
  EXPECT_EQ(fp64_units(8, 0).rfind("FP64 Tensor Cores", 0), 0u);
  EXPECT_EQ(fp64_units(9, 0).rfind("FP64 Tensor Cores", 0), 0u);
  EXPECT_EQ(fp64_units(8, 6).rfind("FP64 CUDA cores", 0), 0u);
  EXPECT_EQ(fp64_units(7, 5).rfind("FP64 CUDA cores", 0), 0u);
  EXPECT_EQ(fp64_units(12, 0).rfind("unknown", 0), 0u);
}

TEST(CudaGemm, WorkModel) {
  const double n = 8192, ops = 2 * n * n * n;
  EXPECT_DOUBLE_EQ(gemm_work(Precision::fp16, 8192).flops, ops);
  EXPECT_DOUBLE_EQ(gemm_work(Precision::fp16, 8192).items, ops);
  EXPECT_DOUBLE_EQ(gemm_work(Precision::fp16, 8192).bytes, n * n * 6);
  EXPECT_DOUBLE_EQ(gemm_work(Precision::tf32, 8192).bytes, n * n * 12);
  EXPECT_DOUBLE_EQ(gemm_work(Precision::fp8, 8192).bytes, n * n * 4);
  EXPECT_DOUBLE_EQ(gemm_work(Precision::fp64, 8192).bytes, n * n * 24);
  EXPECT_EQ(gemm_work(Precision::int8, 8192).flops, 0);  // integer operations: op_rate from items
  EXPECT_DOUBLE_EQ(gemm_work(Precision::int8, 8192).items, ops);
  EXPECT_DOUBLE_EQ(gemm_work(Precision::int8, 8192).bytes, n * n * 6);
  EXPECT_DOUBLE_EQ(gemm_work(Precision::bf16, 3).flops, 54);
}

TEST(CudaGemm, DecodeOutput) {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const std::uint16_t bits = std::uint16_t(h);
    _Float16 f;
    std::memcpy(&f, &bits, 2);
    const double got = decode_output(Precision::fp16, reinterpret_cast<const unsigned char*>(&bits));
    if (std::isnan(double(f))) EXPECT_TRUE(std::isnan(got)) << h;
    else EXPECT_EQ(got, double(f)) << h;
  }
  const float x = -1.5f;
  const std::uint16_t hi = std::uint16_t(float_bits(x) >> 16);
  EXPECT_EQ(decode_output(Precision::bf16, reinterpret_cast<const unsigned char*>(&hi)), -1.5);
  EXPECT_EQ(decode_output(Precision::fp8, reinterpret_cast<const unsigned char*>(&hi)), -1.5);  // D is bf16
  EXPECT_EQ(decode_output(Precision::tf32, reinterpret_cast<const unsigned char*>(&x)), -1.5);
  const std::int32_t i = -123456;
  EXPECT_EQ(decode_output(Precision::int8, reinterpret_cast<const unsigned char*>(&i)), -123456);
  const double d = 0.1;
  EXPECT_EQ(decode_output(Precision::fp64, reinterpret_cast<const unsigned char*>(&d)), 0.1);
  const unsigned char fill[8] = {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F};
  EXPECT_TRUE(std::isnan(decode_output(Precision::fp16, fill)));
  EXPECT_GT(decode_output(Precision::bf16, fill), 1e38);
  EXPECT_EQ(decode_output(Precision::int8, fill), 2139062143);
  EXPECT_GT(decode_output(Precision::fp64, fill), 1e300);
}

TEST(CudaGemm, VerificationMethodStatesTheBound) {
  EXPECT_NE(verification_method(Precision::fp16).find("2 n 2^-23"), std::string::npos);
  EXPECT_NE(verification_method(Precision::fp16).find("u_D = 2^-11"), std::string::npos);
  EXPECT_NE(verification_method(Precision::bf16).find("u_D = 2^-8"), std::string::npos);
  EXPECT_NE(verification_method(Precision::tf32).find("2^-10"), std::string::npos);
  EXPECT_NE(verification_method(Precision::fp8).find("+ 2^-8 (FP8 Tensor Core accumulator"), std::string::npos);
  EXPECT_NE(verification_method(Precision::fp64).find("2 n 2^-53"), std::string::npos);
  EXPECT_NE(verification_method(Precision::int8).find("tolerance 0"), std::string::npos);
  EXPECT_NE(verification_method(Precision::bf16, {3, true}).find("s = 3 partial sums"), std::string::npos);
  EXPECT_EQ(verification_method(Precision::bf16, {3, false}).find("partial sums"), std::string::npos);
}

}  // namespace
}  // namespace converge::micro::cuda::gemm
