#pragma once
// FMA throughput kernels for micro.peakflops.*: `kAcc` independent accumulator chains, every
// operand in registers, so the loop is FMA-class instructions plus one counter update. The
// chains hide FMA latency: 4-5 cycles x 2 FMA pipes (Zen3/4/5, Skylake-SP .. Granite Rapids)
// needs >= 8-10 chains; 12 of the 16 ymm registers on AVX2, 24 of the 32 zmm on AVX-512,
// leaving room for the two operand vectors. Each kernel is written out per ISA because a
// target attribute cannot be a template parameter; they differ only in types and intrinsic.
//
// Layout shared by all kernels (T = the element type, L = lanes per vector):
//   in/out:   kAcc x L accumulators, accumulator-major;
//   operands: two L-lane vectors, b then c, for acc = acc * b + c (fp64, fp32, fp16);
//             for bf16 see bf16_avx512.
#include <immintrin.h>

#include <cstdint>
#include <string>

namespace converge::micro::fma {

inline constexpr int kAccAvx2 = 12;
inline constexpr int kAccAvx512 = 24;

/// A kernel: reads the accumulators from `in`, runs `iterations` rounds over all of them,
/// writes them to `out`.
using KernelFn = void (*)(const void* in, void* out, const void* operands, std::uint64_t iterations);

[[gnu::target("avx2,fma")]] inline void fp64_avx2(const void* in, void* out, const void* ops,
                                                  std::uint64_t iterations) {
  const auto* src = static_cast<const double*>(in);
  const auto* op = static_cast<const double*>(ops);
  const __m256d b = _mm256_loadu_pd(op), c = _mm256_loadu_pd(op + 4);
  __m256d acc[kAccAvx2];
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx2; ++k) acc[k] = _mm256_loadu_pd(src + 4 * k);
  for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int k = 0; k < kAccAvx2; ++k) acc[k] = _mm256_fmadd_pd(acc[k], b, c);
  }
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx2; ++k) _mm256_storeu_pd(static_cast<double*>(out) + 4 * k, acc[k]);
}

[[gnu::target("avx2,fma")]] inline void fp32_avx2(const void* in, void* out, const void* ops,
                                                  std::uint64_t iterations) {
  const auto* src = static_cast<const float*>(in);
  const auto* op = static_cast<const float*>(ops);
  const __m256 b = _mm256_loadu_ps(op), c = _mm256_loadu_ps(op + 8);
  __m256 acc[kAccAvx2];
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx2; ++k) acc[k] = _mm256_loadu_ps(src + 8 * k);
  for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int k = 0; k < kAccAvx2; ++k) acc[k] = _mm256_fmadd_ps(acc[k], b, c);
  }
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx2; ++k) _mm256_storeu_ps(static_cast<float*>(out) + 8 * k, acc[k]);
}

[[gnu::target("avx512f")]] inline void fp64_avx512(const void* in, void* out, const void* ops,
                                                   std::uint64_t iterations) {
  const auto* src = static_cast<const double*>(in);
  const auto* op = static_cast<const double*>(ops);
  const __m512d b = _mm512_loadu_pd(op), c = _mm512_loadu_pd(op + 8);
  __m512d acc[kAccAvx512];
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_loadu_pd(src + 8 * k);
  for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_fmadd_pd(acc[k], b, c);
  }
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k) _mm512_storeu_pd(static_cast<double*>(out) + 8 * k, acc[k]);
}

[[gnu::target("avx512f")]] inline void fp32_avx512(const void* in, void* out, const void* ops,
                                                   std::uint64_t iterations) {
  const auto* src = static_cast<const float*>(in);
  const auto* op = static_cast<const float*>(ops);
  const __m512 b = _mm512_loadu_ps(op), c = _mm512_loadu_ps(op + 16);
  __m512 acc[kAccAvx512];
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_loadu_ps(src + 16 * k);
  for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_fmadd_ps(acc[k], b, c);
  }
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k) _mm512_storeu_ps(static_cast<float*>(out) + 16 * k, acc[k]);
}

/// fp16: 32 half lanes per zmm, vfmadd231ph (AVX512_FP16: Sapphire Rapids and later).
[[gnu::target("avx512f,avx512bw,avx512vl,avx512fp16")]] inline void fp16_avx512(
    const void* in, void* out, const void* ops, std::uint64_t iterations) {
  const auto* op = static_cast<const char*>(ops);
  const __m512h b = _mm512_loadu_ph(op), c = _mm512_loadu_ph(op + 64);
  __m512h acc[kAccAvx512];
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_loadu_ph(static_cast<const char*>(in) + 64 * k);
  for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_fmadd_ph(acc[k], b, c);
  }
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k) _mm512_storeu_ph(static_cast<char*>(out) + 64 * k, acc[k]);
}

/// bf16: vdpbf16ps adds two bf16 products to each fp32 lane (AVX512_BF16: Cooper Lake,
/// Sapphire Rapids, Zen4 and later). A dot product cannot contract like acc*b+c, so each
/// iteration adds +p then -p (operands: x, y_up, y_down, 32 bf16 each) and one final +p
/// leaves the output different from the input. Accumulators are fp32 (16 lanes).
[[gnu::target("avx512f,avx512bf16")]] inline void bf16_avx512(const void* in, void* out, const void* ops,
                                                              std::uint64_t iterations) {
  const auto* src = static_cast<const float*>(in);
  const auto* op = static_cast<const char*>(ops);
  const auto x = (__m512bh)_mm512_loadu_si512(op);
  const auto up = (__m512bh)_mm512_loadu_si512(op + 64);
  const auto down = (__m512bh)_mm512_loadu_si512(op + 128);
  __m512 acc[kAccAvx512];
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_loadu_ps(src + 16 * k);
  for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], x, up);
#pragma GCC unroll 32
    for (int k = 0; k < kAccAvx512; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], x, down);
  }
#pragma GCC unroll 32
  for (int k = 0; k < kAccAvx512; ++k)
    _mm512_storeu_ps(static_cast<float*>(out) + 16 * k, _mm512_dpbf16_ps(acc[k], x, up));
}

enum class Precision { fp64, fp32, fp16, bf16 };

/// One ISA's kernel for one precision and the facts its work model needs.
struct Kernel {
  std::string isa;
  KernelFn fn = nullptr;
  int accs = 0, lanes = 0;             // accumulator vectors per thread, lanes per vector
  int elem_bytes = 0;                  // bytes per accumulator lane
  int instructions_per_iteration = 0;  // per thread
  int final_instructions = 0;          // after the loop (bf16's closing +p)
  int products_per_lane = 1;           // 2 for vdpbf16ps
  std::string instruction;
};

/// The widest kernel this CPU runs for `p`; without one, fn is null and why_not says why.
inline Kernel select_kernel(Precision p, std::string& why_not) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  switch (p) {
    case Precision::fp64:
      if (avx512) return {"avx512f", fp64_avx512, kAccAvx512, 8, 8, kAccAvx512, 0, 1, "vfmadd231pd zmm"};
      if (avx2) return {"avx2+fma", fp64_avx2, kAccAvx2, 4, 8, kAccAvx2, 0, 1, "vfmadd231pd ymm"};
      break;
    case Precision::fp32:
      if (avx512) return {"avx512f", fp32_avx512, kAccAvx512, 16, 4, kAccAvx512, 0, 1, "vfmadd231ps zmm"};
      if (avx2) return {"avx2+fma", fp32_avx2, kAccAvx2, 8, 4, kAccAvx2, 0, 1, "vfmadd231ps ymm"};
      break;
    case Precision::fp16:
      if (__builtin_cpu_supports("avx512fp16"))
        return {"avx512fp16", fp16_avx512, kAccAvx512, 32, 2, kAccAvx512, 0, 1, "vfmadd231ph zmm"};
      why_not = "CPU lacks AVX512_FP16";
      return {};
    case Precision::bf16:
      if (__builtin_cpu_supports("avx512bf16"))
        return {"avx512bf16", bf16_avx512, kAccAvx512, 16, 4, 2 * kAccAvx512, kAccAvx512, 2,
                "vdpbf16ps zmm (+p then -p per iteration)"};
      why_not = "CPU lacks AVX512_BF16";
      return {};
  }
  why_not = "CPU lacks AVX2+FMA";
  return {};
}

}  // namespace converge::micro::fma
