#pragma once
// micro.gpu_stream.*: BabelStream's kernels on double arrays a, b, c. The element bodies, the
// initial and expected values, the work model, the auto size rule and the exact check live
// here, apart from the launches (stream.cu): the kernels and the unit tests run the same
// CONVERGE_HD code, the tests on the host, without a device.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "core/benchmark.hpp"
#include "core/cuda/host_device.hpp"

namespace converge::micro::cuda {

/// BabelStream's kernels: copy c = a, mul b = s*c, add c = a + b, triad a = b + s*c,
/// dot sum(a*b).
enum class GpuStreamKernel { copy, mul, add, triad, dot };

constexpr const char* to_string(GpuStreamKernel k) {
  switch (k) {
    case GpuStreamKernel::copy: return "copy";
    case GpuStreamKernel::mul: return "mul";
    case GpuStreamKernel::add: return "add";
    case GpuStreamKernel::triad: return "triad";
    case GpuStreamKernel::dot: return "dot";
  }
  return "?";
}

/// BabelStream's scalar (startScalar).
inline constexpr double kGpuStreamScalar = 0.4;

/// Array indices: 0 = a, 1 = b, 2 = c.
inline constexpr char kGpuStreamArrayNames[3] = {'a', 'b', 'c'};

/// The array kernel k writes; -1 for dot, which writes none.
CONVERGE_HD int gpu_stream_output(GpuStreamKernel k) {
  switch (k) {
    case GpuStreamKernel::copy: return 2;
    case GpuStreamKernel::mul: return 1;
    case GpuStreamKernel::add: return 2;
    case GpuStreamKernel::triad: return 0;
    case GpuStreamKernel::dot: return -1;
  }
  return -1;
}

/// Input value of element i of array 0/1/2: a = 1 + i%7, b = 1 + i%5 (small integers: add and
/// dot are exact), c = 2^(i%9 - 4) (a power of two: s*c is exact, so whether the compiler
/// contracts b + s*c into an FMA cannot change a result). They vary with i so that a kernel
/// reading or writing the wrong element fails; BabelStream's 0.1, 0.2 are not exact in binary.
CONVERGE_HD double gpu_stream_input(int array, std::uint64_t i) {
  if (array == 0) return double(1 + i % 7);
  if (array == 1) return double(1 + i % 5);
  return double(1u << unsigned(i % 9)) / 16;
}

/// Value of element i of `array` before the first repetition of kernel k: the input values,
/// except the output array, which starts at 0 (no kernel's result), so skipped stores fail.
CONVERGE_HD double gpu_stream_initial(GpuStreamKernel k, int array, std::uint64_t i) {
  return array == gpu_stream_output(k) ? 0.0 : gpu_stream_input(array, i);
}

/// One element of one kernel (the body of the CUDA kernel for index i). dot has its own.
template <GpuStreamKernel K>
CONVERGE_HD void gpu_stream_element(double* a, double* b, double* c, std::size_t i) {
  if constexpr (K == GpuStreamKernel::copy) c[i] = a[i];
  else if constexpr (K == GpuStreamKernel::mul) b[i] = kGpuStreamScalar * c[i];
  else if constexpr (K == GpuStreamKernel::add) c[i] = a[i] + b[i];
  else if constexpr (K == GpuStreamKernel::triad) a[i] = b[i] + kGpuStreamScalar * c[i];
}

/// One thread's share of dot: a grid-stride sum from `first` in steps of `stride`.
CONVERGE_HD double gpu_stream_dot_thread(const double* a, const double* b, std::size_t n, std::size_t first,
                                         std::size_t stride) {
  double sum = 0;
  for (std::size_t i = first; i < n; i += stride) sum += a[i] * b[i];
  return sum;
}

/// Value of element i of `array` after any number (>= 1) of repetitions of kernel k: each
/// kernel writes one array from others it does not write, so one repetition is a fixed point.
CONVERGE_HD double gpu_stream_expected(GpuStreamKernel k, int array, std::uint64_t i) {
  if (array != gpu_stream_output(k)) return gpu_stream_initial(k, array, i);
  const double a = gpu_stream_input(0, i), b = gpu_stream_input(1, i), c = gpu_stream_input(2, i);
  switch (k) {
    case GpuStreamKernel::copy: return a;
    case GpuStreamKernel::mul: return kGpuStreamScalar * c;
    case GpuStreamKernel::add: return a + b;
    case GpuStreamKernel::triad: return b + kGpuStreamScalar * c;
    case GpuStreamKernel::dot: break;
  }
  return 0;
}

/// dot's exact value for n elements: sum (1 + i%7)(1 + i%5). Over every 35 consecutive i the
/// pair (i%7, i%5) takes each of its 35 values once (Chinese remainder theorem), so a period
/// sums to (1+...+7)(1+...+5) = 28 * 15 = 420.
constexpr std::uint64_t gpu_stream_dot_exact(std::uint64_t n) {
  std::uint64_t sum = n / 35 * 420;
  for (std::uint64_t i = n / 35 * 35; i < n; ++i) sum += (1 + i % 7) * (1 + i % 5);
  return sum;
}

/// Bytes per element as BabelStream counts them: one 8-byte read per input array, one 8-byte
/// write per output array (copy 2, mul 2, add 3, triad 3, dot 2 arrays).
constexpr double gpu_stream_bytes_per_element(GpuStreamKernel k) {
  switch (k) {
    case GpuStreamKernel::copy: return 2 * 8;
    case GpuStreamKernel::mul: return 2 * 8;
    case GpuStreamKernel::add: return 3 * 8;
    case GpuStreamKernel::triad: return 3 * 8;
    case GpuStreamKernel::dot: return 2 * 8;
  }
  return 0;
}

/// FLOPs per element: mul 1, add 1, triad 2 (multiply and add), dot 2, copy 0.
constexpr double gpu_stream_flops_per_element(GpuStreamKernel k) {
  switch (k) {
    case GpuStreamKernel::copy: return 0;
    case GpuStreamKernel::mul: return 1;
    case GpuStreamKernel::add: return 1;
    case GpuStreamKernel::triad: return 2;
    case GpuStreamKernel::dot: return 2;
  }
  return 0;
}

/// One repetition of kernel k over n elements per array; items = n.
constexpr core::WorkModel gpu_stream_work(GpuStreamKernel k, std::uint64_t n) {
  return {gpu_stream_flops_per_element(k) * double(n), gpu_stream_bytes_per_element(k) * double(n), double(n)};
}

/// The auto size, elements per array: at least 2^25 and at least 4x the L2 (so no array fits
/// in it), rounded up to a multiple of 2^20; capped so the three arrays use at most half of
/// the device memory (the cap rounded down to 2^20 when it is that large; memory 0 = unknown,
/// no cap). Never 0.
constexpr std::uint64_t gpu_stream_auto_elements(std::uint64_t l2_bytes, std::uint64_t memory_bytes) {
  constexpr std::uint64_t round = std::uint64_t(1) << 20, floor = std::uint64_t(1) << 25;
  std::uint64_t n = std::max(floor, (4 * l2_bytes + 7) / 8);
  n = (n + round - 1) / round * round;
  if (memory_bytes > 0) {
    const std::uint64_t cap = memory_bytes / 2 / (3 * 8);
    if (n > cap) n = cap >= round ? cap / round * round : std::max<std::uint64_t>(cap, 1);
  }
  return n;
}

/// Mismatches found so far by gpu_stream_check (over arrays and chunks).
struct GpuStreamCheck {
  std::uint64_t bad = 0;  ///< elements that differ
  std::string first;      ///< the first one: "c[17] = 0, expected 1"
  double max_error = 0;   ///< largest |got - want| / max(1, |want|); infinity for NaN
};

/// Shortest text that reads back as the same double.
inline std::string gpu_stream_text(double x) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
}

/// Compares count elements of `array`, starting at element `first` (x[0] is element first),
/// with gpu_stream_expected exactly (==), adding what differs to acc.
inline void gpu_stream_check(GpuStreamKernel k, int array, const double* x, std::uint64_t first,
                             std::uint64_t count, GpuStreamCheck& acc) {
  for (std::uint64_t j = 0; j < count; ++j) {
    const double want = gpu_stream_expected(k, array, first + j), got = x[j];
    if (got == want) continue;
    const double err = std::isnan(got) ? std::numeric_limits<double>::infinity()
                                       : std::fabs(got - want) / std::max(1.0, std::fabs(want));
    acc.max_error = std::max(acc.max_error, err);
    if (acc.bad++ == 0)
      acc.first = std::string(1, kGpuStreamArrayNames[array]) + "[" + std::to_string(first + j) +
                  "] = " + gpu_stream_text(got) + ", expected " + gpu_stream_text(want);
  }
}

/// The verdict for kernel k over n elements per array, after gpu_stream_check has seen every
/// element of a, b and c; `dot` is the device's sum (ignored unless k is dot).
inline core::Verification gpu_stream_verification(GpuStreamKernel k, std::uint64_t n, const GpuStreamCheck& acc,
                                                  double dot) {
  std::string method =
      "every element of a, b, c == its known value (inputs a = 1 + i%7, b = 1 + i%5, c = 2^(i%9 - 4), output "
      "array started at 0; s*c is exact since c is a power of 2, so FMA contraction cannot change a result: "
      "tolerance 0)";
  if (k == GpuStreamKernel::dot)
    method += "; dot == sum (1 + i%7)(1 + i%5) exactly (every product and partial sum is an integer < 2^53, "
              "so any summation order gives it: tolerance 0)";
  if (acc.bad > 0)
    return core::Verification::failed(method, acc.first + " (" + std::to_string(acc.bad) + " of " +
                                                  std::to_string(3 * n) + " elements differ)",
                                      acc.max_error);
  if (k == GpuStreamKernel::dot) {
    const double want = double(gpu_stream_dot_exact(n));
    if (!(dot == want))
      return core::Verification::failed(method, "dot = " + gpu_stream_text(dot) + ", expected " + gpu_stream_text(want),
                                        std::isnan(dot) ? std::numeric_limits<double>::infinity()
                                                        : std::fabs(dot - want) / want);
  }
  return core::Verification::passed(method);
}

}  // namespace converge::micro::cuda
