// gpu-labelled check that the CUDA runtime wrapper links and answers: it reports the visible
// devices, or skips (exit 77) with the reason when none is visible, as the benchmarks will.
#include <cstdio>

#include "core/cuda/cuda_runtime.hpp"

int main() {
  const auto a = converge::core::cuda::device_availability();
  if (a.count <= 0) {
    std::printf("skipped: %s\n", a.reason.c_str());
    return 77;
  }
  std::printf("%d CUDA device(s) visible\n", a.count);
  return 0;
}
