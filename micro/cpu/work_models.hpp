#pragma once
// Work models of the CPU microbenchmarks as pure functions: the data beside each kernel,
// unit-tested on their own (tests/micro/cpu_work_model_test.cpp). micro/README.md states
// the same formulas for people.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "core/benchmark.hpp"

namespace converge::micro {

/// The five STREAM kernels (McCalpin): copy c=a, scale b=s*c, add c=a+b, triad a=b+s*c,
/// dot sum(a*b).
enum class StreamKernel { copy, scale, add, triad, dot };

constexpr std::string_view to_string(StreamKernel k) {
  switch (k) {
    case StreamKernel::copy: return "copy";
    case StreamKernel::scale: return "scale";
    case StreamKernel::add: return "add";
    case StreamKernel::triad: return "triad";
    case StreamKernel::dot: return "dot";
  }
  return "?";
}

/// Bytes per element as STREAM counts them: one 8-byte read per input array and one 8-byte
/// write per output array. The write-allocate read of a cached store's line is NOT counted.
constexpr double stream_bytes_per_element(StreamKernel k) {
  switch (k) {
    case StreamKernel::copy: return 16;   // read a, write c
    case StreamKernel::scale: return 16;  // read c, write b
    case StreamKernel::add: return 24;    // read a, b, write c
    case StreamKernel::triad: return 24;  // read b, c, write a
    case StreamKernel::dot: return 16;    // read a, b
  }
  return 0;
}

/// FLOPs per element: scale 1 mul, add 1 add, triad and dot 1 mul + 1 add.
constexpr double stream_flops_per_element(StreamKernel k) {
  switch (k) {
    case StreamKernel::copy: return 0;
    case StreamKernel::scale: return 1;
    case StreamKernel::add: return 1;
    case StreamKernel::triad: return 2;
    case StreamKernel::dot: return 2;
  }
  return 0;
}

/// One repetition of a STREAM kernel over n elements per array.
constexpr core::WorkModel stream_work(StreamKernel k, std::uint64_t n) {
  return {stream_flops_per_element(k) * double(n), stream_bytes_per_element(k) * double(n),
          double(n)};
}

/// STREAM's sizing rule: each array at least 4x the last-level cache (all instances summed;
/// 64 MiB assumed when unknown), rounded up to a multiple of 2^20 elements, capped so the
/// three arrays use at most half of the available memory (0 = unknown, no cap), and never
/// below `min_elements`.
constexpr std::uint64_t stream_auto_elements(std::uint64_t llc_bytes, std::uint64_t available_bytes,
                                             std::uint64_t min_elements = 1 << 20) {
  constexpr std::uint64_t round = 1 << 20;
  if (llc_bytes == 0) llc_bytes = std::uint64_t(64) << 20;
  std::uint64_t n = (4 * llc_bytes / 8 + round - 1) / round * round;
  if (available_bytes > 0) n = std::min<std::uint64_t>(n, available_bytes / 2 / (3 * 8));
  return std::max(n, min_elements);
}

/// FLOPs of one FMA-class instruction: lanes x products per lane x 2 (a multiply and an add
/// per product). vfmadd on 8 fp64 lanes: 16; vdpbf16ps on 16 fp32 lanes (2 products): 64.
constexpr double fma_flops_per_instruction(int lanes, int products_per_lane = 1) {
  return 2.0 * lanes * products_per_lane;
}

/// One peakflops repetition: every thread issues instructions_per_iteration FMA-class
/// instructions per iteration.
constexpr core::WorkModel peakflops_work(double flops_per_instruction, int instructions_per_iteration,
                                         std::uint64_t iterations, int threads) {
  const double instructions = double(instructions_per_iteration) * double(iterations) * threads;
  return {flops_per_instruction * instructions, 0, instructions};
}

/// GEMM C = A*B with square n x n matrices: n^3 multiply-adds.
constexpr double gemm_flops(std::uint64_t n) { return 2.0 * double(n) * double(n) * double(n); }

/// One GEMM repetition. Bytes: the compulsory traffic (read A and B, write C once); BLAS moves
/// more than that through the caches, so it is a lower bound, not a bandwidth claim.
constexpr core::WorkModel gemm_work(std::uint64_t n, std::uint64_t element_bytes) {
  return {gemm_flops(n), 3.0 * double(n) * double(n) * double(element_bytes), 1};
}

/// Cache bandwidth: every thread moves its own `size_bytes` buffer `passes` times.
constexpr core::WorkModel cachebw_work(std::uint64_t size_bytes, int threads, std::uint64_t passes) {
  return {0, double(size_bytes) * threads * double(passes), double(passes) * threads};
}

/// Passes so that at least `min_bytes` move per thread per repetition (at least one).
constexpr std::uint64_t cachebw_auto_passes(std::uint64_t size_bytes,
                                            std::uint64_t min_bytes = 32ull << 20) {
  return size_bytes == 0 ? 1 : std::max<std::uint64_t>(1, (min_bytes + size_bytes - 1) / size_bytes);
}

/// Pointer chase: loads per repetition, a whole number of laps of the `nodes`-long cycle and
/// at least `min_loads`, so that the chase ends where it started.
constexpr std::uint64_t latency_auto_loads(std::uint64_t nodes, std::uint64_t min_loads = 1000000) {
  if (nodes == 0) return 0;
  return std::max<std::uint64_t>(1, (min_loads + nodes - 1) / nodes) * nodes;
}

/// One chase repetition: `loads` dependent loads, each from its own 64-byte line. No bytes are
/// claimed: the metric is time per load, not a bandwidth.
constexpr core::WorkModel latency_work(std::uint64_t loads) { return {0, 0, double(loads)}; }

}  // namespace converge::micro
