#pragma once
// What the MPI data collectives (allreduce, reduce, bcast, allgather, alltoall, reduce_scatter,
// gather, scatter) share: their parameters and how size and iterations resolve, the timed loop
// of `iterations` back-to-back operations, the check (fresh inputs, one operation, the test-only
// fault, an exact comparison), the work model and notes from collectives/bus_factor.hpp, and
// their spec with the metrics latency, algbw and busbw. Each benchmark file keeps only what
// differs: its MPI call, its buffers and inputs, its expected result and failure text.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {

/// The expected element i of a sum over `ranks` ranks of the input pattern: sum of pattern(r, i).
double pattern_sum(int ranks, std::uint64_t i);

/// OSU's message size, in bytes, from which `iterations=auto` takes its count: the block each
/// rank sends (allreduce, allgather, alltoall: elems_per_rank x elem_bytes), or the whole send
/// buffer for reduce_scatter (n x that, as osu_reduce_scatter).
std::uint64_t osu_message_bytes(Collective c, std::uint64_t elems_per_rank, std::uint64_t elem_bytes, int n);

/// Rooted collectives (reduce, bcast, gather, scatter) time one operation per repetition by
/// default and have no `auto` iterations (rooted_iterations_param()).
bool rooted(Collective c);

/// Base of the MPI data collectives. A subclass states its buffers, inputs, MPI call and
/// expected output; this class runs the parameters, the timed loop and the checks.
class CollectiveBenchmark : public MpiBenchmark {
 public:
  /// open() with at least 2 ranks; reads dtype, in_place (false where the spec has none),
  /// size (rounded to whole elements per rank, elements_per_rank(), and resolved to the algbw
  /// bytes of one operation), iterations (auto: OSU's count for osu_message_bytes(); resolved)
  /// and check_every; then allocate() and fill_inputs().
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) final;
  /// `iterations` operations back to back.
  void run() final;
  /// One check after every `check_every`-th timed repetition (outside the timed region).
  void after_repetition(int rep) final;
  /// One check, then the verification with method()'s text and the number of checks.
  core::Verification verify() final;
  /// bytes = algbw_bytes() x iterations, items = iterations, bus_bytes = bytes x bus_factor().
  core::WorkModel work() const final;

 protected:
  explicit CollectiveBenchmark(Collective c) : c_(c) {}

  /// The elements one rank checks after an operation: the first `count` of `buffer`.
  struct Output {
    Buffer& buffer;
    std::uint64_t count;
  };

  /// Allocates send_/recv_ (or only what this rank uses) for count_ elements per rank.
  virtual void allocate() = 0;
  /// Fresh inputs (the pattern) and output buffers set to -1, a value no expected one equals.
  /// Before the first repetition and around every check, so the timed operations always
  /// start from the documented input (in-place runs overwrite it).
  virtual void fill_inputs() = 0;
  /// One MPI operation, the one the timed loop repeats.
  virtual void operate() = 0;
  /// What this rank checks after one operation from fresh inputs.
  virtual Output output() = 0;
  /// Expected element i of output(), exact.
  virtual double expected(std::uint64_t i) const = 0;
  /// Names element i in a failure, before ": got != expected (check N)". "element i" here.
  virtual std::string where(std::uint64_t i) const;
  /// The verification method: what one check does and compares.
  virtual std::string method() const = 0;
  /// notes.operation: the MPI call with count, type and MPI_IN_PLACE when used.
  virtual std::string operation() const = 0;

  /// "operation" and "bus_factor" (formula = value for this rank count).
  std::map<std::string, std::string> extra_notes() const final;

  /// The root of the rooted collectives (reduce, bcast, gather, scatter), as in OSU's tests.
  static constexpr int kRoot = 0;
  /// Whether this rank is kRoot.
  bool root() const { return rank_ == kRoot; }

  const Collective c_;
  Dtype t_ = Dtype::f32;
  bool in_place_ = false;
  std::uint64_t count_ = 0;  ///< elements per rank, elements_per_rank()
  std::int64_t iterations_ = 0;
  int check_every_ = 0;
  Buffer send_, recv_;

 private:
  /// Fresh inputs, one operation, the test-only fault, compare, record the first failure.
  void check();
};

/// Whether a collective's spec declares the in_place parameter.
enum class InPlace { no, yes };

/// The spec of an MPI data collective: id "collectives.mpi.<collective>"; parameters size
/// (default 8, `size_doc`), dtype, in_place (if declared), iterations (rooted_iterations_param()
/// for rooted collectives, iterations_param() otherwise), check_every; metrics latency (s per
/// operation), algbw and busbw (B/s).
core::BenchmarkSpec collective_spec(Collective c, std::string summary, std::string size_doc, InPlace in_place,
                                    std::function<std::unique_ptr<core::Benchmark>()> make);

}  // namespace converge::collectives::mpi
