#pragma once
// What every MPI benchmark shares: its parameters (size, dtype, in_place, iterations,
// check_every), the ranks it runs on (the worker's MPI_COMM_WORLD group), the per-rank input
// pattern and the topology notes (hosts, binding, transport). OSU's conventions where they
// exist; nccl-tests' meaning of size for collectives (collectives/bus_factor.hpp).
#include <mpi.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collectives/bus_factor.hpp"
#include "core/benchmark.hpp"
#include "core/mpi/mpi_group.hpp"
#include "core/params.hpp"

namespace converge::collectives::mpi {

enum class Dtype { f32, f64, i32 };

/// "float", "double", "int" (the parameter's values).
Dtype dtype_from(const std::string& name);
const char* dtype_name(Dtype t);
MPI_Datatype mpi_type(Dtype t);
std::uint64_t dtype_bytes(Dtype t);

/// The input pattern: element i of rank r. Small integers (1..20), exact in every dtype, so a
/// sum over up to 2^19 ranks is exact in float and every expected value is exact.
constexpr double pattern(int rank, std::uint64_t i) { return double(rank % 13 + 1 + int(i % 7)); }

/// `count` elements of a dtype, zero-initialised, 64-byte aligned (raw bytes; the dtype is the
/// benchmark's).
class Buffer {
 public:
  Buffer() = default;
  Buffer(Dtype t, std::uint64_t count) : t_(t), count_(count), bytes_(std::size_t(count * dtype_bytes(t)) + 64) {}
  void* data() { return align(); }
  const void* data() const { return const_cast<Buffer*>(this)->align(); }
  std::uint64_t count() const { return count_; }

 private:
  void* align() {
    auto p = reinterpret_cast<std::uintptr_t>(bytes_.data());
    return bytes_.data() + ((64 - p % 64) % 64);
  }
  Dtype t_ = Dtype::f32;
  std::uint64_t count_ = 0;
  std::vector<unsigned char> bytes_;
};

/// Element i of `b` (i < count) = pattern(rank, first + i).
void fill_pattern(Buffer& b, Dtype t, int rank, std::uint64_t first = 0);
/// Sets every element to `value` (e.g. a sentinel no expected value equals).
void fill_value(Buffer& b, Dtype t, double value);
/// Element i as a double.
double element(const Buffer& b, Dtype t, std::uint64_t i);
/// The first i < count with element(i) != expected(i) exactly, or nullopt; `got` receives it.
std::optional<std::uint64_t> first_mismatch(const Buffer& b, Dtype t, std::uint64_t count,
                                            double (*expected)(std::uint64_t, const void*), const void* arg,
                                            double* got);
/// Adds 1 to element count/2 (the test-only fault).
void corrupt_one(Buffer& b, Dtype t, std::uint64_t count);

core::ParamSpec size_param(const std::string& default_value, const std::string& doc);
core::ParamSpec dtype_param();
core::ParamSpec in_place_param();
/// Operations per timed repetition. auto = OSU's: 1000 up to 8 KiB, 100 above (the same on
/// every rank, since it depends on size only).
core::ParamSpec iterations_param();
std::int64_t auto_iterations(std::uint64_t size_bytes);
/// Operations per timed repetition for rooted collectives (reduce, bcast, gather, scatter):
/// default 1. Back to back, their operations overlap (the root starts the next before the
/// last rank has the previous one), which would understate the latency; one operation after
/// the harness's barrier is how OSU times them.
core::ParamSpec rooted_iterations_param();
/// Check the output every N timed repetitions as well as after the last (0: after the last only).
core::ParamSpec check_every_param();

/// Test-only fault switch: CONVERGE_TEST_CORRUPT_RANK=R makes rank R corrupt one element of its
/// received data before it is checked, so that tests can see a wrong result reported invalid.
/// Returns R, or -1 when unset. A result produced with it says so in notes.fault_injection.
int corrupt_rank_for_test();

/// Base of the MPI benchmarks. open() in setup: the ranks (skips below `min_ranks`, or outside
/// the MPI worker) and the topology notes; then the subclass allocates.
class MpiBenchmark : public core::Benchmark {
 public:
  std::map<std::string, std::string> notes() const override;

 protected:
  core::SetupStatus open(core::ParamValues& params, const core::Context& ctx, int min_ranks);
  /// Notes of the subclass; open()'s topology notes are added by notes().
  virtual std::map<std::string, std::string> extra_notes() const { return {}; }
  /// Records the first failed check (kept for verify(); later ones are ignored).
  void record_failure(const std::string& message) {
    if (failure_.empty()) failure_ = message;
  }
  /// Verification from the recorded failure, with `method` describing the check.
  core::Verification checked(const std::string& method) const;

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  int corrupt_rank_ = -1;
  int checks_ = 0;  ///< how many times the output was checked
  std::string failure_;

 private:
  std::map<std::string, std::string> topology_;
};

}  // namespace converge::collectives::mpi
