#include "core/cuda/stream.hpp"

#include <cuda_runtime.h>

namespace converge::core::cuda {

Stream::Stream() { CONVERGE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
Stream::~Stream() {
  if (stream_) (void)cudaStreamDestroy(stream_);
}
void Stream::synchronize() const { CONVERGE_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

Event::Event() { CONVERGE_CUDA_CHECK(cudaEventCreate(&event_)); }
Event::~Event() {
  if (event_) (void)cudaEventDestroy(event_);
}

void EventTimer::start() { CONVERGE_CUDA_CHECK(cudaEventRecord(start_.get(), stream_)); }

double EventTimer::stop() {
  CONVERGE_CUDA_CHECK(cudaEventRecord(stop_.get(), stream_));
  CONVERGE_CUDA_CHECK(cudaEventSynchronize(stop_.get()));
  // A kernel that faulted shows here rather than at the next unrelated call.
  CONVERGE_CUDA_CHECK(cudaGetLastError());
  float ms = 0;
  CONVERGE_CUDA_CHECK(cudaEventElapsedTime(&ms, start_.get(), stop_.get()));
  return double(ms) * 1e-3;
}

}  // namespace converge::core::cuda
