#pragma once
// The benchmark API: a spec (name, parameters, metrics) kept apart from the implementation
// (setup, one repetition, verify, teardown), and a registry the workers list and run from.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/params.hpp"
#include "core/peak.hpp"
#include "core/timer.hpp"

namespace converge::core {

struct Inventory;
class Group;

/// Work done by one repetition, in base units. It is data beside the kernel, never inferred
/// from timings; metrics are computed from it and the measured time.
struct WorkModel {
  double flops = 0;  ///< floating-point operations (an FMA counts 2)
  double bytes = 0;  ///< bytes counted by the benchmark's stated convention (see its README)
  double items = 0;  ///< discrete items: loads, messages, operations
  /// Bytes as a collective's bus sees them: bytes x the collective's bus factor (nccl-tests'
  /// busbw, e.g. 2(n-1)/n for allreduce), so that figures compare across rank counts and
  /// libraries. 0 for benchmarks that are not collectives.
  double bus_bytes = 0;
};

enum class Quantity { flops, bytes, items, bus_bytes };
enum class MetricKind {
  rate,           ///< quantity / time (FLOP/s, B/s, items/s)
  time_per_item,  ///< time / items (s per load)
};
enum class Direction { higher_is_better, lower_is_better };

/// A figure a benchmark reports, derived from the work model and the repetition time.
struct MetricSpec {
  std::string name;  ///< snake_case, e.g. "flop_rate", "bandwidth", "latency"
  std::string unit;  ///< base unit: "FLOP/s", "B/s", "s", "1/s"
  MetricKind kind = MetricKind::rate;
  Quantity quantity = Quantity::flops;
  Direction direction = Direction::higher_is_better;
};

enum class VerifyStatus { passed, failed, not_checked };

/// Outcome of checking a benchmark's output, done outside the timed loop.
struct Verification {
  VerifyStatus status = VerifyStatus::not_checked;
  std::string method;     ///< how it was checked ("all elements exact", "64 sampled entries")
  double max_error = 0;   ///< largest error seen (relative unless the method says otherwise)
  double tolerance = 0;   ///< the bound it was checked against, and how it was derived in method
  std::string message;    ///< for a failure: where ("element 17: 3.0 != 5.0")

  static Verification passed(std::string method, double max_error = 0, double tolerance = 0);
  static Verification failed(std::string method, std::string message, double max_error = 0,
                             double tolerance = 0);
};

/// What setup() decided: go on, skip (with the reason), or fail (with the error).
/// Thrown by a benchmark after setup when every rank of its group has agreed on the failure and
/// throws it together (io's settle() does): no rank is left waiting in a collective step, so the
/// harness reports an ordinary failed result and the launch goes on with the next instance,
/// instead of aborting the group as for one rank's exception.
struct GroupFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SetupStatus {
  enum class Kind { ok, skipped, failed } kind = Kind::ok;
  std::string reason;
  static SetupStatus ok() { return {}; }
  static SetupStatus skip(std::string r) { return {Kind::skipped, std::move(r)}; }
  static SetupStatus fail(std::string r) { return {Kind::failed, std::move(r)}; }
};

/// What the harness gives a benchmark about where it runs.
namespace energy {
class Recorder;
}

struct Context {
  const Inventory* inventory = nullptr;
  const PeakModel* peaks = nullptr;
  int threads = 1;  ///< OpenMP threads available to the benchmark (one per core by default)
  /// Reads the energy meters around the timed region; null: energy is not measured by this
  /// process, for `energy_reason` (e.g. another rank on the node reads the meters).
  energy::Recorder* energy = nullptr;
  std::string energy_reason;
  /// The ranks running this instance together (MPI worker); null or size 1: one process.
  /// With several, the harness synchronises repetitions and reduces times over the ranks.
  Group* group = nullptr;
};

/// One benchmark instance. Lifetime: setup, run() once per warm-up and timed repetition,
/// verify, teardown. The harness times run(); a benchmark never times itself.
class Benchmark {
 public:
  virtual ~Benchmark() = default;
  /// Allocates and initialises; resolves "auto" parameters with params.resolve().
  virtual SetupStatus setup(ParamValues& params, const Context& ctx) = 0;
  /// Runs one repetition. For host timers the work is complete when it returns.
  virtual void run() = 0;
  /// Called before every repetition, warm-up and timed, outside the timed region and before
  /// the ranks' barrier: to bring the state back to where a repetition starts (a write
  /// benchmark truncating its file, so that every repetition allocates its blocks).
  virtual void before_repetition() {}
  /// Called after each timed repetition, outside the timed region (`rep` counts from 1): for
  /// checks a benchmark repeats during the run (collectives' --check-every). With several
  /// ranks every rank calls it; it must not leave a rank waiting on another.
  virtual void after_repetition(int /*rep*/) {}
  /// Checks the output of the repetitions run so far.
  virtual Verification verify() = 0;
  virtual void teardown() {}
  /// Work per repetition; valid after setup().
  virtual WorkModel work() const = 0;
  /// Ceiling for a metric on this instance (e.g. per-core peak x threads), if known.
  virtual std::optional<Peak> peak(const std::string& /*metric*/, const Context& /*ctx*/) const {
    return std::nullopt;
  }
  /// Facts about how it ran, recorded in the result ("isa": "avx512f", "threads": "2").
  virtual std::map<std::string, std::string> notes() const { return {}; }
  /// The timer the harness wraps around run(); host clock by default.
  virtual std::unique_ptr<Timer> make_timer() const { return std::make_unique<HostTimer>(); }
};

/// Everything known about a benchmark before it runs.
struct BenchmarkSpec {
  std::string id;       ///< family.group.name, lowercase: "micro.stream.triad"
  std::string family;   ///< micro, collectives, io, ml, apps (or "test")
  std::string backend;  ///< cpu, cuda, mpi, nccl, posix, mpiio
  std::string summary;  ///< one line
  std::vector<ParamSpec> params;
  std::vector<MetricSpec> metrics;  ///< the first is the primary metric
  std::function<std::unique_ptr<Benchmark>()> make;
};

/// The process-wide list of benchmarks this executable was linked with.
class Registry {
 public:
  static Registry& instance();
  /// Adds a spec; a duplicate id aborts at start-up (a programming error).
  bool add(BenchmarkSpec spec);
  const BenchmarkSpec* find(const std::string& id) const;
  const std::vector<BenchmarkSpec>& all() const { return specs_; }
  /// Ids closest to `id` by edit distance, best first (for "did you mean").
  std::vector<std::string> nearest(const std::string& id, std::size_t count = 3) const;

 private:
  std::vector<BenchmarkSpec> specs_;
};

/// Registers a spec at static-initialisation time. Benchmark files are compiled into object
/// libraries (never static archives) so that the linker keeps every registration.
#define CONVERGE_REGISTER_BENCHMARK(unique_name, spec_expr) \
  static const bool converge_registered_##unique_name =     \
      ::converge::core::Registry::instance().add(spec_expr)

/// Nearest strings to `word` among `candidates` by edit distance (best first, at most count).
std::vector<std::string> nearest_names(const std::string& word,
                                       const std::vector<std::string>& candidates,
                                       std::size_t count = 3);

}  // namespace converge::core
