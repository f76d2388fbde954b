#pragma once
// Owned CUDA streams and events, and the harness's device timer: CUDA events recorded on the
// benchmark's stream around run(), synchronised in stop().
#include <cuda_runtime_api.h>

#include <string>

#include "core/cuda/cuda_runtime.hpp"
#include "core/timer.hpp"

namespace converge::core::cuda {

/// A non-blocking stream (no implicit synchronisation with the legacy default stream).
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }
  /// Waits for everything queued on the stream; throws on an error from the queued work.
  void synchronize() const;

 private:
  cudaStream_t stream_ = nullptr;
};

/// An event with timing enabled.
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

/// Device timer: records `start` and `stop` events on `stream`; stop() synchronises on the stop
/// event and returns the elapsed device time. The stream must outlive the timer.
class EventTimer final : public Timer {
 public:
  explicit EventTimer(cudaStream_t stream) : stream_(stream) {}
  void start() override;
  double stop() override;
  std::string name() const override { return "cuda_event"; }
  /// cudaEventElapsedTime's documented resolution: about half a microsecond.
  double resolution_s() const override { return 0.5e-6; }

 private:
  cudaStream_t stream_;
  Event start_, stop_;
};

}  // namespace converge::core::cuda
