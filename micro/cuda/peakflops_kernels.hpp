#pragma once
// micro.gpu_peakflops.*: what the kernel and its check share, written once for both sides.
// Operands, initial values and the one-step recurrence are CONVERGE_HD, so the unit tests (g++)
// run exactly what the kernel computes; the half/bf16 rounding is done on bit patterns, so the
// host needs no CUDA types. Also the work model, the auto iteration count, the SM clock from
// the kernel's timestamps, and the output checks (host only; launch.cu's count check is here
// too, to be unit-tested beside these). At the end, for nvcc only: the element type per
// precision and the registers the kernel stamps.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/benchmark.hpp"
#include "core/cuda/host_device.hpp"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

namespace converge::micro::cuda::gpu_fma {

enum class Precision { fp64, fp32, fp16, bf16 };

/// Independent accumulators per thread (each one FMA instruction per iteration), and the
/// iterations unrolled per loop trip: 16 x 8 = 128 FMA instructions per 3 loop instructions.
constexpr int kChains = 16;
constexpr int kUnroll = 8;
constexpr int kBlockThreads = 256;

struct PrecisionInfo {
  const char* name;         ///< "fp64": the benchmark id's last part and the peak id "gpu.<name>"
  int lanes;                ///< values per FMA instruction: 1, or 2 for half2 / bfloat162
  const char* instruction;  ///< SASS opcode of the inner loop (checked with cuobjdump, see peakflops.md)
  int min_cc_major;         ///< compute capability the instruction needs
};

CONVERGE_HD constexpr PrecisionInfo info(Precision p) {
  switch (p) {
    case Precision::fp64: return {"fp64", 1, "DFMA", 7};
    case Precision::fp32: return {"fp32", 1, "FFMA", 7};
    case Precision::fp16: return {"fp16", 2, "HFMA2", 7};
    case Precision::bf16: return {"bf16", 2, "HFMA2.BF16_V2", 8};
  }
  return {"?", 1, "?", 99};
}

// ---- half and bfloat16 encodings, on bit patterns -------------------------------------------

/// Rounds `x` to nearest-even into a binary format with `p` significand bits (implicit one
/// included) and exponent bias `bias`; returns its bits (sign | exponent | fraction). Handles
/// subnormal results, overflow to infinity, zeros and NaN. This is one rounding, so applied to
/// an exact a*b+c it gives the fused multiply-add's result.
CONVERGE_HD std::uint32_t round_to_format(double x, int p, int bias, int exp_bits) {
  std::uint64_t u;
  memcpy(&u, &x, 8);
  const std::uint32_t sign = std::uint32_t(u >> 63) << (p - 1 + exp_bits);
  const int e_field = int((u >> 52) & 0x7FF);
  const std::uint64_t frac = u & ((std::uint64_t(1) << 52) - 1);
  const std::uint32_t inf = ((1u << exp_bits) - 1) << (p - 1);
  if (e_field == 0x7FF) return sign | inf | (frac ? 1u << (p - 2) : 0u);  // inf, quiet NaN
  if (e_field == 0) return sign;  // zero; double subnormals are far below any target's range
  const int e = e_field - 1023, emin = 1 - bias;
  const std::uint64_t sig = frac | (std::uint64_t(1) << 52);
  const int shift = 52 - (p - 1) + (e < emin ? emin - e : 0);
  if (shift > 62) return sign;  // below half the smallest subnormal
  std::uint64_t keep = sig >> shift;
  const std::uint64_t rem = sig & ((std::uint64_t(1) << shift) - 1), half = std::uint64_t(1) << (shift - 1);
  if (rem > half || (rem == half && (keep & 1))) ++keep;
  if (keep == 0) return sign;
  int q = e - 52 + shift;  // exponent of keep's unit
  if (keep >> p) keep >>= 1, ++q;  // rounding carried into a new binade
  if (keep < (std::uint64_t(1) << (p - 1))) return sign | std::uint32_t(keep);  // subnormal
  const int biased = q + (p - 1) + bias;
  if (biased >= (1 << exp_bits) - 1) return sign | inf;
  return sign | (std::uint32_t(biased) << (p - 1)) | std::uint32_t(keep - (std::uint64_t(1) << (p - 1)));
}

/// The value of bits in that format (exact in double).
CONVERGE_HD double format_value(std::uint32_t bits, int p, int bias, int exp_bits) {
  const double s = (bits >> (p - 1 + exp_bits)) & 1 ? -1.0 : 1.0;
  const int e_field = int((bits >> (p - 1)) & ((1u << exp_bits) - 1));
  const double frac = double(bits & ((1u << (p - 1)) - 1));
  if (e_field == (1 << exp_bits) - 1) return frac != 0 ? NAN : s * INFINITY;
  if (e_field == 0) return s * ldexp(frac, 1 - bias - (p - 1));
  return s * ldexp(frac + double(1u << (p - 1)), e_field - bias - (p - 1));
}

CONVERGE_HD std::uint16_t to_half_bits(double x) { return std::uint16_t(round_to_format(x, 11, 15, 5)); }
CONVERGE_HD std::uint16_t to_bf16_bits(double x) { return std::uint16_t(round_to_format(x, 8, 127, 8)); }
CONVERGE_HD double half_value(std::uint16_t b) { return format_value(b, 11, 15, 5); }
CONVERGE_HD double bf16_value(std::uint16_t b) { return format_value(b, 8, 127, 8); }

/// `x` rounded to precision p (round to nearest even), as a double.
CONVERGE_HD double round_to(Precision p, double x) {
  switch (p) {
    case Precision::fp64: return x;
    case Precision::fp32: return double(float(x));
    case Precision::fp16: return half_value(to_half_bits(x));
    case Precision::bf16: return bf16_value(to_bf16_bits(x));
  }
  return x;
}

/// The bit pattern of a value representable in p (fp16/bf16 in the low 16 bits).
CONVERGE_HD std::uint64_t element_bits(Precision p, double v) {
  switch (p) {
    case Precision::fp64: { std::uint64_t u; memcpy(&u, &v, 8); return u; }
    case Precision::fp32: { const float f = float(v); std::uint32_t u; memcpy(&u, &f, 4); return u; }
    case Precision::fp16: return to_half_bits(v);
    case Precision::bf16: return to_bf16_bits(v);
  }
  return 0;
}

// ---- operands, initial values, the recurrence ----------------------------------------------

/// acc = fma(acc, b, c) with 0 < b < 1 and c = (1 - b)(1 + lane/64) contracts every lane
/// towards 1 + lane/64 (lane < 64: exact in every precision). b = 15/16 (as micro.peakflops on
/// the CPU), except bf16: there the rounding stalls up to ulp/(2(1 - b)) = 8 ulp short of the
/// fixed point, more than the lanes' 2-ulp spacing, so neighbouring lanes would end equal;
/// b = 1/2 stalls within 1 ulp and keeps every lane's end point its own. Lane = chain x lanes +
/// half (half2: .x is half 0).
CONVERGE_HD double op_b(Precision p) { return p == Precision::bf16 ? 0.5 : 15.0 / 16; }
CONVERGE_HD double op_c(Precision p, int lane) { return (1 - op_b(p)) * (1.0 + lane / 64.0); }
/// Initial value of lane `lane` of thread `thread`: 0.25 + (j mod 128)/256 for the flat lane
/// index j, in [0.25, 0.75) (exact in bf16), below every end point (all > 0.99), so a lane that
/// is never updated fails.
CONVERGE_HD double initial_value(std::uint64_t thread, int lane, int lanes_per_thread) {
  const std::uint64_t j = thread * std::uint64_t(lanes_per_thread) + std::uint64_t(lane);
  return 0.25 + double(j % 128) / 256;
}

/// One fused step in precision p. fp16/bf16: x*b + c of 8- or 11-bit operands is exact in
/// double, so rounding it once is the fused result __hfma2 gives.
CONVERGE_HD double fma_step(Precision p, double x, double b, double c) {
  switch (p) {
    case Precision::fp64: return fma(x, b, c);
    case Precision::fp32: return double(fmaf(float(x), float(b), float(c)));
    case Precision::fp16:
    case Precision::bf16: return round_to(p, x * b + c);
  }
  return x;
}

/// The value after `iterations` steps from x0. Once a step returns its input every later one
/// does, so the loop stops there (at most 531 steps: fp64 from 0.25 with b = 15/16).
CONVERGE_HD double reference(Precision p, double x0, int lane, std::uint64_t iterations) {
  const double b = op_b(p), c = op_c(p, lane);
  double x = x0;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    const double y = fma_step(p, x, b, c);
    if (y == x) break;
    x = y;
  }
  return x;
}

// ---- work model, iterations, clock ----------------------------------------------------------

/// FLOPs per repetition = 2 x lanes x chains x iterations x threads; items = FMA instructions.
inline core::WorkModel work(Precision p, int chains, std::uint64_t iterations, std::uint64_t threads) {
  const double instructions = double(chains) * double(iterations) * double(threads);
  return {2.0 * info(p).lanes * instructions, 0, instructions};
}

/// Iterations for `seconds` per repetition at `peak_flops`, rounded up to a whole number of
/// unrolled trips (at least one).
inline std::uint64_t auto_iterations(double peak_flops, double flops_per_iteration, double seconds) {
  const double it = std::ceil(seconds * peak_flops / flops_per_iteration / kUnroll) * kUnroll;
  return it < kUnroll ? kUnroll : std::uint64_t(it);
}
/// `iterations` rounded up to a multiple of kUnroll.
inline std::uint64_t round_iterations(std::uint64_t iterations) {
  return (iterations + kUnroll - 1) / kUnroll * kUnroll;
}

/// Per block, stamped by thread 0 before a barrier that precedes the first FMA and after one
/// that follows the last: clock64() and %globaltimer (ns) at start and end, and the SM (%smid).
struct BlockTimes {
  std::uint64_t clock_start, clock_end, ns_start, ns_end;
  std::uint32_t sm, pad;
};
/// Effective SM clock in MHz = sum of clock deltas / sum of nanosecond deltas x 1000; 0 when no
/// block shows a positive interval.
inline double effective_clock_mhz(const std::vector<BlockTimes>& t) {
  double cycles = 0, ns = 0;
  for (const auto& b : t) {
    if (b.clock_end <= b.clock_start || b.ns_end <= b.ns_start) continue;
    cycles += double(b.clock_end - b.clock_start), ns += double(b.ns_end - b.ns_start);
  }
  return ns > 0 ? cycles / ns * 1000 : 0;
}

/// The cycle check allows the SMs 10% more FLOP per cycle than the table: cycles are counted
/// exactly, so the margin is for the table alone; a kernel that did 90% or less of the work
/// counted still fails.
constexpr double kCycleMargin = 1.1;

/// Work check: every block stamped its interval (cycles > 0), and on every SM the cycles from its first
/// block's start to its last block's end (one SM's clock64, so comparable) are at least the
/// FLOPs of its blocks / (kCycleMargin x the table's FLOP per clock per SM): no SM can retire
/// FMAs faster than its issue rate. Empty when it holds, else where it does not.
/// flops_per_clock_per_sm <= 0 (no table entry) checks the stamps only.
inline std::string check_cycles(const std::vector<BlockTimes>& t, double flops_per_block,
                                double flops_per_clock_per_sm) {
  struct Span { std::uint64_t first = ~std::uint64_t(0), last = 0; int blocks = 0; };
  std::vector<Span> sms;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto& b = t[i];
    // %globaltimer may tick in microseconds on some GPUs, so a short block can show 0 ns.
    if (b.clock_end <= b.clock_start || b.ns_end < b.ns_start || b.ns_end == 0)
      return "block " + std::to_string(i) + " recorded no interval (clock " + std::to_string(b.clock_start) + ".." +
             std::to_string(b.clock_end) + ", ns " + std::to_string(b.ns_start) + ".." + std::to_string(b.ns_end) + ")";
    if (b.sm >= sms.size()) sms.resize(b.sm + 1);
    Span& s = sms[b.sm];
    s.first = b.clock_start < s.first ? b.clock_start : s.first;
    s.last = b.clock_end > s.last ? b.clock_end : s.last;
    ++s.blocks;
  }
  if (flops_per_clock_per_sm <= 0) return "";
  for (std::size_t sm = 0; sm < sms.size(); ++sm) {
    const Span& s = sms[sm];
    if (s.blocks == 0) continue;
    const double cycles = double(s.last - s.first), flops = s.blocks * flops_per_block;
    const double need = flops / (kCycleMargin * flops_per_clock_per_sm);
    if (cycles < need) {
      char buf[320];
      std::snprintf(buf, sizeof buf,
                    "SM %zu ran %d blocks (%.6g FLOP) in %.0f cycles, %.3g FLOP/cycle, more than %g x the model's "
                    "%g FLOP/clock/SM: the kernel did less work than counted, or the peak table is low for this GPU",
                    sm, s.blocks, flops, cycles, flops / cycles, kCycleMargin, flops_per_clock_per_sm);
      return buf;
    }
  }
  return "";
}

inline std::string grid_text(int blocks, int threads, int blocks_per_sm) {
  return std::to_string(blocks) + " blocks x " + std::to_string(threads) + " threads, " +
         std::to_string(blocks_per_sm) + " blocks/SM";
}

// ---- checks -----------------------------------------------------------------------------------

/// Checks the kernel's output, laid out out[chain x threads + thread] with `lanes` values per
/// element (element size 8, 4, 4, 4 bytes): every lane must equal the reference bit for bit.
/// The reference depends only on (initial value, lane), so it is computed once per pair.
inline core::Verification check_output(Precision p, const void* out, std::uint64_t threads, int chains,
                                       std::uint64_t iterations) {
  const PrecisionInfo in = info(p);
  const int per_thread = chains * in.lanes;
  std::vector<std::uint64_t> table(128 * std::size_t(per_thread));
  for (int v = 0; v < 128; ++v)
    for (int lane = 0; lane < per_thread; ++lane)
      table[std::size_t(v * per_thread + lane)] =
          element_bits(p, reference(p, initial_value(std::uint64_t(v), 0, 1), lane, iterations));
  const std::string method =
      std::string("every lane of every accumulator of every thread == the recurrence acc = fma(acc, b, (1 - b)(1 + "
                  "lane/64)), b = ") + (p == Precision::bf16 ? "1/2" : "15/16") +
      ", from the same initial value, on the host in the same precision (fp64 fma, fp32 fmaf, fp16/bf16 exact in "
      "double then rounded once to nearest even = the fused result), bit for bit (tolerance 0)";
  const auto* bytes = static_cast<const unsigned char*>(out);
  const std::size_t elem = p == Precision::fp64 ? 8 : 4;
  std::uint64_t bad = 0;
  double max_err = 0;
  std::string first;
  for (int k = 0; k < chains; ++k)
    for (std::uint64_t t = 0; t < threads; ++t) {
      std::uint64_t word = 0;
      memcpy(&word, bytes + (std::uint64_t(k) * threads + t) * elem, elem);
      for (int h = 0; h < in.lanes; ++h) {
        const int lane = k * in.lanes + h;
        const std::uint64_t got = in.lanes == 2 ? (word >> (16 * h)) & 0xFFFF : word;
        const std::uint64_t j = t * std::uint64_t(per_thread) + std::uint64_t(lane);
        const std::uint64_t want = table[std::size_t((j % 128) * std::uint64_t(per_thread) + std::uint64_t(lane))];
        if (got == want) continue;
        const auto value = [&](std::uint64_t b) {
          if (p == Precision::fp64) { double d; memcpy(&d, &b, 8); return d; }
          if (p == Precision::fp32) { float f; const auto u = std::uint32_t(b); memcpy(&f, &u, 4); return double(f); }
          return p == Precision::fp16 ? half_value(std::uint16_t(b)) : bf16_value(std::uint16_t(b));
        };
        const double g = value(got), w = value(want);
        const double err = std::fabs(g - w) / std::fabs(w);
        if (!(err <= max_err)) max_err = std::isnan(err) ? INFINITY : err;  // a NaN lane counts as infinite
        if (bad++ == 0) {
          char buf[224];
          std::snprintf(buf, sizeof buf, "thread %llu (block %llu) chain %d lane %d: got %.17g (0x%llx) != expected %.17g (0x%llx)",
                        (unsigned long long)t, (unsigned long long)(t / kBlockThreads), k, lane, g,
                        (unsigned long long)got, w, (unsigned long long)want);
          first = buf;
        }
      }
    }
  if (bad) return core::Verification::failed(method, std::to_string(bad) + " lanes differ, first " + first, max_err, 0);
  return core::Verification::passed(method, 0, 0);
}

/// launch.cu: each launch adds one to a device counter, so after `runs` repetitions of
/// `launches` launches it must hold exactly runs x launches.
inline core::Verification check_launch_count(std::uint64_t counter, std::uint64_t runs, std::uint64_t launches) {
  const std::string method = "device counter (one increment per kernel) == run() calls x launches, exact";
  const std::uint64_t want = runs * launches;
  if (counter == want) return core::Verification::passed(method);
  return core::Verification::failed(method, "counter " + std::to_string(counter) + " != " + std::to_string(want) + " (" +
                                                std::to_string(runs) + " run() calls x " + std::to_string(launches) +
                                                " launches)",
                                    std::fabs(double(counter) - double(want)) / double(want ? want : 1));
}

// ---- device side (nvcc only): the element type per precision and the stamps' registers -------
#if defined(__CUDACC__)

template <class T> struct Dev;
template <> struct Dev<double> {
  static constexpr Precision p = Precision::fp64;
  static __device__ double make(double lo, double) { return lo; }
  static __device__ double fma(double a, double b, double c) { return ::fma(a, b, c); }
};
template <> struct Dev<float> {
  static constexpr Precision p = Precision::fp32;
  static __device__ float make(double lo, double) { return float(lo); }
  static __device__ float fma(float a, float b, float c) { return fmaf(a, b, c); }
};
template <> struct Dev<__half2> {
  static constexpr Precision p = Precision::fp16;
  static __device__ __half2 make(double lo, double hi) { return __halves2half2(__double2half(lo), __double2half(hi)); }
  static __device__ __half2 fma(__half2 a, __half2 b, __half2 c) { return __hfma2(a, b, c); }
};
template <> struct Dev<__nv_bfloat162> {
  static constexpr Precision p = Precision::bf16;
  static __device__ __nv_bfloat162 make(double lo, double hi) {
    return __halves2bfloat162(__double2bfloat16(lo), __double2bfloat16(hi));
  }
  static __device__ __nv_bfloat162 fma(__nv_bfloat162 a, __nv_bfloat162 b, __nv_bfloat162 c) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    return __hfma2(a, b, c);
#else
    return a;  // never runs: setup skips below compute capability 8.0 (cuda_bf16 would emulate it)
#endif
  }
};

template <class T> struct Operands {
  T b;
  T c[kChains];
};

__device__ __forceinline__ std::uint64_t global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
__device__ __forceinline__ std::uint32_t sm_id() {
  unsigned s;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(s));
  return s;
}

#endif  // __CUDACC__

}  // namespace converge::micro::cuda::gpu_fma
