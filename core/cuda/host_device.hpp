#pragma once
// CONVERGE_HD marks functions that run on both sides: __host__ __device__ under nvcc, plain
// inline C++ otherwise, so that kernel bodies written with it are unit-tested on the host by
// the ordinary C++ compiler.
#if defined(__CUDACC__)
#define CONVERGE_HD __host__ __device__ inline
#else
#define CONVERGE_HD inline
#endif
