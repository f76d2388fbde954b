#pragma once
// What every NCCL benchmark shares (nccl-tests' common.cu, kept small): the parameters (size,
// dtype, in_place, iterations, check_every, device), one GPU per rank and a communicator
// bootstrapped over the MPI worker's ranks, device buffers with host staging, the timed loop
// on the benchmark's stream under CUDA events, the exact check of one operation after fresh
// inputs, the work model from collectives/bus_factor.hpp, and the topology notes. A benchmark
// file says only what its collective moves: buffers, one operation, the expected output.
#include <mpi.h>
#include <nccl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collectives/bus_factor.hpp"
#include "collectives/nccl/nccl_data.hpp"
#include "core/benchmark.hpp"
#include "core/cuda/device_memory.hpp"
#include "core/cuda/stream.hpp"
#include "core/params.hpp"

namespace converge::collectives::nccl {

/// Throws std::runtime_error "<file>:<line>: <expr> failed: <ncclGetErrorString>: <ncclGetLastError>".
[[noreturn]] void throw_nccl_error(ncclResult_t r, const char* expr, const char* file, int line);

#define CONVERGE_NCCL_CHECK(expr)                                                               \
  do {                                                                                          \
    const ncclResult_t converge_nccl_rc_ = (expr);                                              \
    if (converge_nccl_rc_ != ncclSuccess)                                                       \
      ::converge::collectives::nccl::throw_nccl_error(converge_nccl_rc_, #expr, __FILE__, __LINE__); \
  } while (0)

ncclDataType_t nccl_type(Dtype t);
/// "2.28.9" (ncclGetVersion: the library loaded at run time, not the header built against).
std::string nccl_version();

/// size, dtype, in_place, iterations, check_every, device: every NCCL benchmark's parameters.
std::vector<core::ParamSpec> nccl_params(const std::string& size_doc);
/// Operations per timed repetition for "auto": OSU's 1000 up to 8 KiB, 100 above (as the MPI
/// benchmarks), from the size parameter after rounding.
std::int64_t auto_iterations(std::uint64_t size_bytes);
/// latency (s per operation), algbw and busbw (B/s), as collectives.mpi.*.
std::vector<core::MetricSpec> nccl_metrics();
/// "2(n-1)/n", "(n-1)/n" or "1": the bus factor's formula, for notes.
std::string bus_factor_formula(Collective c);

/// Test-only fault switch CONVERGE_TEST_CORRUPT_RANK=R (as the MPI benchmarks): rank R corrupts
/// one received element before it is checked. -1 when unset.
int corrupt_rank_for_test();

/// Base of the NCCL benchmarks. setup(): open(), then the subclass allocates send_/recv_ and
/// fills in_host_ (the image of send_ before each operation). The work model is the one of
/// `model` in collectives/bus_factor.hpp with count_ elements per rank.
class NcclBenchmark : public core::Benchmark {
 public:
  ~NcclBenchmark() override;
  void run() override;
  void after_repetition(int rep) override;
  core::Verification verify() override;
  void teardown() override;
  core::WorkModel work() const override;
  std::map<std::string, std::string> notes() const override;
  std::unique_ptr<core::Timer> make_timer() const override;

 protected:
  /// `name`: the operation in messages ("allreduce", "sendrecv"); `model`: its work model.
  NcclBenchmark(std::string name, Collective model, bool has_in_place)
      : name_(std::move(name)), model_(model), has_in_place_(has_in_place) {}

  /// Reads the parameters; chooses and opens this rank's GPU; agrees with every rank on going
  /// on (skips without a device, with two ranks on one GPU, or when a reduction's sums are not
  /// exact in dtype); creates the communicator. Sets count_ (elements per rank, bus_factor.hpp's
  /// meaning of size) and resolves size, iterations and device.
  core::SetupStatus open(core::ParamValues& params, const core::Context& ctx);
  /// True when open() created the communicator (false: another rank's status ends the instance).
  bool opened() const { return comm_ != nullptr; }

  /// One operation on stream(), with the current buffers.
  virtual void enqueue() = 0;
  /// The rank's output to check: `count` elements of `buffer` from element `first` (count 0:
  /// this rank receives nothing, e.g. a reduce's non-root rank).
  struct Output {
    const core::cuda::DeviceBuffer<unsigned char>* buffer = nullptr;
    std::uint64_t first = 0, count = 0;
  };
  virtual Output output() const = 0;
  /// Expected value of output element i.
  virtual double expected(std::uint64_t i) const = 0;
  /// Where output element i is, for a failure ("element 5", "element 5 (rank 2's block)").
  virtual std::string where(std::uint64_t i) const;
  /// The check in words, for the verification method.
  virtual std::string check_method() const = 0;
  /// Notes of the subclass ("operation"); the base adds the rest.
  virtual std::map<std::string, std::string> extra_notes() const { return {}; }

  /// Copies in_host_ to send_ and fills recv_ with the sentinel (bytes 0xFF); waits for both.
  /// The end of a subclass's setup, and before every checked operation.
  void upload();
  /// `elements` of dtype in device memory.
  core::cuda::DeviceBuffer<unsigned char> device_elements(std::uint64_t elements) const;
  /// Element `i` of a device buffer of dtype.
  void* at(const core::cuda::DeviceBuffer<unsigned char>& b, std::uint64_t i) const;
  cudaStream_t stream() const { return stream_->get(); }
  ncclComm_t comm() const { return comm_; }
  ncclDataType_t type() const { return nccl_type(t_); }

  std::string name_;
  Collective model_;
  bool has_in_place_;
  Dtype t_ = Dtype::f32;
  bool in_place_ = false;
  int rank_ = 0, size_ = 1;
  std::uint64_t count_ = 0;  ///< elements per rank (elements_per_rank(model_, size, ...))
  std::int64_t iterations_ = 0;
  core::cuda::DeviceBuffer<unsigned char> send_, recv_;  ///< recv_ stays empty in place
  HostData in_host_;  ///< send_'s contents before every operation (in place: with sentinels)

 private:
  void check();
  core::SetupStatus agree_and_init(const std::string& device_spec, core::SetupStatus mine, int device);

  MPI_Comm mpi_comm_ = MPI_COMM_NULL;
  ncclComm_t comm_ = nullptr;
  std::unique_ptr<core::cuda::Stream> stream_;
  int check_every_ = 0;
  int corrupt_rank_ = -1;
  int checks_ = 0;
  bool clean_ = false;  ///< verify() finished: every rank is idle at teardown
  std::string failure_;
  HostData out_host_;
  std::map<std::string, std::string> topology_;
};

}  // namespace converge::collectives::nccl
