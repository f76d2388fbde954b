#pragma once
// Timers the harness wraps around one repetition. The host timer reads a monotonic clock;
// a device timer (CUDA events) implements the same interface and synchronises in stop().
#include <chrono>
#include <memory>
#include <string>

namespace converge::core {

class Timer {
 public:
  virtual ~Timer() = default;
  /// Marks the start of the timed region.
  virtual void start() = 0;
  /// Marks the end and returns the region's duration in seconds. Must not return before
  /// the timed work is complete (a device timer synchronises on its stop event).
  virtual double stop() = 0;
  /// Short name recorded in results ("host_steady_clock", "cuda_event").
  virtual std::string name() const = 0;
  /// Smallest duration this timer resolves, in seconds.
  virtual double resolution_s() const = 0;
};

/// std::chrono::steady_clock (CLOCK_MONOTONIC on Linux).
class HostTimer final : public Timer {
 public:
  void start() override { t0_ = std::chrono::steady_clock::now(); }
  double stop() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  std::string name() const override { return "host_steady_clock"; }
  double resolution_s() const override;

 private:
  std::chrono::steady_clock::time_point t0_;
};

/// Seconds since an arbitrary fixed point, monotonic.
double monotonic_seconds();
/// Current UTC time as ISO 8601 with milliseconds ("2026-11-23T10:00:00.123Z").
std::string utc_timestamp();

}  // namespace converge::core
