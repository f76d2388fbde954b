// micro.gpu_mma on Hopper: wgmma.mma_async m64n256kK with both operands in shared memory. wgmma
// exists only in the arch-specific sm_90a target (no PTX forward compatibility), so this file is
// its own object library built for 90a-real alone; the host finds out at run time whether the
// image loads (wgmma_kernel_info) and falls back to mma.sync when not.
#include <cuda_runtime.h>

#include "core/cuda/cuda_runtime.hpp"
#include "micro/cuda/mma_kernels.hpp"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define CONVERGE_HAVE_WGMMA 1
#endif

// The 128 accumulator registers of one thread for m64n256 (64 x 256 / 128 threads).
#define CONVERGE_D128                                                                                     \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, " \
  "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, "  \
  "%42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, "  \
  "%62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, "  \
  "%82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, "      \
  "%101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, "      \
  "%117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}"
#define CONVERGE_OP8(c, d, i) \
  c(d[i]), c(d[i + 1]), c(d[i + 2]), c(d[i + 3]), c(d[i + 4]), c(d[i + 5]), c(d[i + 6]), c(d[i + 7])
#define CONVERGE_OPS128(c, d)                                                                         \
  CONVERGE_OP8(c, d, 0), CONVERGE_OP8(c, d, 8), CONVERGE_OP8(c, d, 16), CONVERGE_OP8(c, d, 24),       \
      CONVERGE_OP8(c, d, 32), CONVERGE_OP8(c, d, 40), CONVERGE_OP8(c, d, 48), CONVERGE_OP8(c, d, 56), \
      CONVERGE_OP8(c, d, 64), CONVERGE_OP8(c, d, 72), CONVERGE_OP8(c, d, 80), CONVERGE_OP8(c, d, 88), \
      CONVERGE_OP8(c, d, 96), CONVERGE_OP8(c, d, 104), CONVERGE_OP8(c, d, 112), CONVERGE_OP8(c, d, 120)
// Operand 128: A descriptor, 129: B descriptor, 130: scale-d (1: D = A B + D).
#define CONVERGE_WGMMA_ASM(shape_types, tail, c, d, a, b)                                             \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\nwgmma.mma_async.sync.aligned." shape_types \
               " " CONVERGE_D128 ", %128, %129, p" tail ";\n}\n"                                      \
               : CONVERGE_OPS128(c, d)                                                                \
               : "l"(a), "l"(b), "r"(1))

namespace converge::micro::cuda::mma {
namespace {

template <Precision P>
using Acc = std::conditional_t<P == Precision::int8, int, float>;

/// D += A B for the warpgroup (imm-scale-a/b 1; for f16/bf16 imm-trans-a/b 0: both K-major).
template <Precision P>
__device__ __forceinline__ void wgmma(Acc<P> (&d)[128], std::uint64_t a, std::uint64_t b) {
#ifdef CONVERGE_HAVE_WGMMA
  if constexpr (P == Precision::fp16)
    CONVERGE_WGMMA_ASM("m64n256k16.f32.f16.f16", ", 1, 1, 0, 0", "+f", d, a, b);
  else if constexpr (P == Precision::bf16)
    CONVERGE_WGMMA_ASM("m64n256k16.f32.bf16.bf16", ", 1, 1, 0, 0", "+f", d, a, b);
  else if constexpr (P == Precision::fp8)
    CONVERGE_WGMMA_ASM("m64n256k32.f32.e4m3.e4m3", ", 1, 1", "+f", d, a, b);
  else
    CONVERGE_WGMMA_ASM("m64n256k32.s32.s8.s8", "", "+r", d, a, b);
#endif
}

/// Keeps the compiler from moving accumulator accesses across the asynchronous wgmma region
/// (CUTLASS's warpgroup_fence_operand).
template <typename T>
__device__ __forceinline__ void fence_operands(T (&d)[128]) {
#pragma unroll
  for (int i = 0; i < 128; ++i) {
    if constexpr (std::is_same_v<T, float>)
      asm volatile("" : "+f"(d[i])::"memory");
    else
      asm volatile("" : "+r"(d[i])::"memory");
  }
}

__device__ __forceinline__ long long global_ns() {
  long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

template <Precision P>
__global__ void __launch_bounds__(kWgmmaThreads)
    wgmma_kernel(std::uint32_t seed, std::uint32_t iterations, Acc<P>* out, long long* clk, long long* ns, int* arch) {
#ifdef CONVERGE_HAVE_WGMMA
  __shared__ __align__(1024) unsigned char sa[2][kWgmmaM * kWgmmaKBytes];  // +A, -A
  __shared__ __align__(1024) unsigned char sb[kWgmmaN * kWgmmaKBytes];     // B as N x K, K-major
  const std::uint32_t unit = blockIdx.x;
  wgmma_fill(P, seed, unit, sa[0], sa[1], sb, threadIdx.x, kWgmmaThreads);
  // Generic-proxy stores must be made visible to the async proxy that wgmma reads through.
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();

  Acc<P> d[128];
#pragma unroll
  for (int i = 0; i < 128; ++i) {
    const Coord c = wgmma_d(threadIdx.x, i);
    d[i] = Acc<P>(c_init_value(P, seed, unit, 0, c.row, c.col));
  }
  const auto smem = [](const void* p) { return std::uint32_t(__cvta_generic_to_shared(p)); };
  const std::uint64_t da = wgmma_descriptor(smem(sa[0]), kLeadingByteOffset, kStrideByteOffset);
  const std::uint64_t dna = wgmma_descriptor(smem(sa[1]), kLeadingByteOffset, kStrideByteOffset);
  const std::uint64_t db = wgmma_descriptor(smem(sb), kLeadingByteOffset, kStrideByteOffset);

  const long long c0 = clock64(), g0 = global_ns();  // in every thread: no divergence around wgmma
  // Everything stays in flight except that each trip waits for the one before the previous
  // (wait_group 1), as CUTLASS's mainloop does with the same accumulators.
  for (std::uint32_t it = 0; it < iterations; ++it) {
    fence_operands(d);
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
    wgmma<P>(d, da, db);
    wgmma<P>(d, dna, db);
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 1;\n" ::: "memory");
  }
  fence_operands(d);
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
  wgmma<P>(d, da, db);
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
  fence_operands(d);

#pragma unroll
  for (int i = 0; i < 128; ++i) {
    const Coord c = wgmma_d(threadIdx.x, i);
    out[(std::size_t(unit) * kWgmmaM + c.row) * kWgmmaN + c.col] = d[i];
  }
  if (threadIdx.x == 0) {
    clk[blockIdx.x] = clock64() - c0;
    ns[blockIdx.x] = global_ns() - g0;
    if (blockIdx.x == 0) *arch = __CUDA_ARCH__;
  }
#else
  if (threadIdx.x == 0 && blockIdx.x == 0) *arch = -1;  // an image without wgmma: the host skips
#endif
}

const void* kernel_for(Precision p) {
  switch (p) {
    case Precision::fp16: return reinterpret_cast<const void*>(&wgmma_kernel<Precision::fp16>);
    case Precision::bf16: return reinterpret_cast<const void*>(&wgmma_kernel<Precision::bf16>);
    case Precision::int8: return reinterpret_cast<const void*>(&wgmma_kernel<Precision::int8>);
    case Precision::fp8: break;
  }
  return reinterpret_cast<const void*>(&wgmma_kernel<Precision::fp8>);
}

}  // namespace

WgmmaKernelInfo wgmma_kernel_info(Precision p) {
  WgmmaKernelInfo info;
  cudaFuncAttributes attr{};
  cudaError_t e = cudaFuncGetAttributes(&attr, kernel_for(p));
  if (e == cudaSuccess)
    e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&info.blocks_per_sm, kernel_for(p), kWgmmaThreads, 0);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // not sticky: clear it so the next CUDA call does not report it
    info.why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    return info;
  }
  info.loadable = info.blocks_per_sm > 0;
  if (!info.loadable) info.why = "no block of the wgmma kernel fits on an SM";
  info.registers = attr.numRegs;
  return info;
}

void launch_wgmma(Precision p, int blocks, std::uint32_t seed, std::uint32_t iterations, void* out, long long* clk,
                  long long* ns, int* arch, cudaStream_t stream) {
  switch (p) {
    case Precision::fp16:
      wgmma_kernel<Precision::fp16>
          <<<blocks, kWgmmaThreads, 0, stream>>>(seed, iterations, static_cast<float*>(out), clk, ns, arch);
      break;
    case Precision::bf16:
      wgmma_kernel<Precision::bf16>
          <<<blocks, kWgmmaThreads, 0, stream>>>(seed, iterations, static_cast<float*>(out), clk, ns, arch);
      break;
    case Precision::int8:
      wgmma_kernel<Precision::int8>
          <<<blocks, kWgmmaThreads, 0, stream>>>(seed, iterations, static_cast<int*>(out), clk, ns, arch);
      break;
    case Precision::fp8:
      wgmma_kernel<Precision::fp8>
          <<<blocks, kWgmmaThreads, 0, stream>>>(seed, iterations, static_cast<float*>(out), clk, ns, arch);
      break;
  }
  CONVERGE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace converge::micro::cuda::mma
