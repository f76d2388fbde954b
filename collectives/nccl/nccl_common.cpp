#include "collectives/nccl/nccl_common.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "core/cuda/cuda_runtime.hpp"
#include "core/cuda/device.hpp"
#include "core/inventory.hpp"
#include "core/mpi/mpi_group.hpp"
#include "core/placement.hpp"

extern char** environ;

namespace converge::collectives::nccl {

namespace ccuda = core::cuda;

// The NCCL worker lists the node's GPUs in its inventory, as the CUDA worker does, so that its
// runs record the devices their figures came from.
[[maybe_unused]] const bool gpu_probe_registered = core::register_inventory_probe(&ccuda::fill_gpu_inventory);

namespace {
// "unhandled system error: <NCCL's last message>", the message left out when NCCL has none.
std::string nccl_error(ncclResult_t r) {
  const char* last = ncclGetLastError(nullptr);
  return fmt::format("{}{}{}", ncclGetErrorString(r), last && *last ? ": " : "", last ? last : "");
}
}  // namespace

void throw_nccl_error(ncclResult_t r, const char* expr, const char* file, int line) {
  throw std::runtime_error(fmt::format("{}:{}: {} failed: {}", file, line, expr, nccl_error(r)));
}

ncclDataType_t nccl_type(Dtype t) {
  switch (t) {
    case Dtype::f32: return ncclFloat32;
    case Dtype::f64: return ncclFloat64;
    case Dtype::i32: return ncclInt32;
    case Dtype::f16: return ncclFloat16;
    case Dtype::bf16: return ncclBfloat16;
  }
  return ncclFloat32;
}

std::string nccl_version() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown (ncclGetVersion failed)";
  // NCCL_VERSION(X,Y,Z): X*1000+Y*100+Z up to 2.8, X*10000+Y*100+Z after.
  return v < 10000 ? fmt::format("{}.{}.{}", v / 1000, v / 100 % 10, v % 100)
                   : fmt::format("{}.{}.{}", v / 10000, v / 100 % 100, v % 100);
}

std::vector<core::ParamSpec> nccl_params(const std::string& size_doc) {
  using core::ParamType;
  return {
      {"size", ParamType::size, "8", size_doc, {}, 0.0, std::nullopt},
      {"dtype", ParamType::choice, "float", "element type", {"float", "double", "int", "half", "bfloat16"},
       std::nullopt, std::nullopt},
      {"in_place", ParamType::boolean, "false", "the result overwrites the input (nccl-tests' in-place column)", {},
       std::nullopt, std::nullopt},
      {"iterations", ParamType::integer, "auto",
       "operations per timed repetition (auto: OSU's 1000 up to 8 KiB, 100 above)", {}, 1.0, std::nullopt},
      {"check_every", ParamType::integer, "0",
       "also check the output after every N-th timed repetition, outside the timed region (0: after the last only)",
       {}, 0.0, std::nullopt},
      {"device", ParamType::string, "auto",
       "CUDA device: index, UUID or UUID prefix (auto = local rank modulo the visible devices: one rank per GPU)", {},
       std::nullopt, std::nullopt},
  };
}

std::int64_t auto_iterations(std::uint64_t size_bytes) { return size_bytes <= 8192 ? 1000 : 100; }

std::vector<core::MetricSpec> nccl_metrics() {
  using core::Direction, core::MetricKind, core::Quantity;
  return {{"latency", "s", MetricKind::time_per_item, Quantity::items, Direction::lower_is_better},
          {"algbw", "B/s", MetricKind::rate, Quantity::bytes, Direction::higher_is_better},
          {"busbw", "B/s", MetricKind::rate, Quantity::bus_bytes, Direction::higher_is_better}};
}

std::string bus_factor_formula(Collective c) {
  switch (c) {
    case Collective::allreduce: return "2(n-1)/n";
    case Collective::bcast:
    case Collective::reduce: return "1";
    case Collective::barrier: return "0";
    default: return "(n-1)/n";
  }
}

int corrupt_rank_for_test() {
  const char* v = std::getenv("CONVERGE_TEST_CORRUPT_RANK");
  return v != nullptr && *v != '\0' ? std::atoi(v) : -1;
}

namespace {

bool reduces(Collective c) {
  return c == Collective::allreduce || c == Collective::reduce || c == Collective::reduce_scatter;
}

// NCCL_* variables as the library reads them (the user's settings are recorded, never changed).
std::string nccl_environment() {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv = *e;
    if (kv.rfind("NCCL_", 0) == 0) vars[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  std::string s;
  for (const auto& [k, v] : vars) s += fmt::format("{}{}={}", s.empty() ? "" : " ", k, v);
  return s.empty() ? "none set (library defaults)" : s;
}

// One rank's status and device, gathered by every rank before NCCL starts (fixed size: one
// MPI_Allgather of bytes).
struct Record {
  int kind = 0;  // core::SetupStatus::Kind
  int visible = 0, device = -1;
  char host[64] = {}, uuid[64] = {}, pci[32] = {}, name[96] = {}, reason[768] = {};
};

template <std::size_t N>
void copy_text(char (&dst)[N], const std::string& src) {
  std::snprintf(dst, N, "%s", src.c_str());
}

}  // namespace

NcclBenchmark::~NcclBenchmark() {
  if (comm_ != nullptr) (void)ncclCommAbort(comm_);  // a destructor must not wait for other ranks
}

core::SetupStatus NcclBenchmark::open(core::ParamValues& params, const core::Context& ctx) {
  t_ = dtype_from(params.text("dtype"));
  in_place_ = params.boolean("in_place");
  check_every_ = int(params.integer("check_every"));
  corrupt_rank_ = corrupt_rank_for_test();
  topology_["nccl_version"] = nccl_version();
  topology_["nccl_environment"] = nccl_environment();
  const ccuda::DeviceAvailability avail = ccuda::device_availability();
  auto* world = dynamic_cast<core::mpi::WorldGroup*>(ctx.group);
  if (world == nullptr)
    return core::SetupStatus::skip(avail.count == 0 ? avail.reason
                                                    : "needs the MPI worker's ranks (run it through mpirun or srun)");
  mpi_comm_ = world->comm();
  rank_ = world->rank();
  size_ = world->size();
  count_ = elements_per_rank(model_, params.size("size"), dtype_bytes(t_), size_);
  const auto size_bytes = std::uint64_t(algbw_bytes(model_, count_, dtype_bytes(t_), size_));
  params.resolve("size", std::to_string(size_bytes));
  iterations_ = params.is_auto("iterations") ? auto_iterations(size_bytes) : params.integer("iterations");
  params.resolve("iterations", std::to_string(iterations_));
  topology_["ranks"] = std::to_string(size_);
  topology_["bus_factor"] = fmt::format("{} = {:.4f}", bus_factor_formula(model_), bus_factor(model_, size_));

  // This rank's view first; the ranks then agree before any of them enters NCCL, whose
  // communicator creation waits for every rank.
  Record me;
  core::SetupStatus mine;
  copy_text(me.host, core::detect_placement().node);
  me.visible = avail.count;
  const std::string exactness = reduces(model_) ? reduction_exactness_problem(t_, size_) : "";
  if (avail.count == 0) {
    mine = core::SetupStatus::skip(avail.reason);
  } else if (in_place_ && !has_in_place_) {
    mine = core::SetupStatus::skip(fmt::format("{} has no in-place form: its send and receive buffers must not "
                                               "overlap (run it with in_place=false)", name_));
  } else if (!exactness.empty()) {
    mine = core::SetupStatus::skip(exactness);
  } else {
    try {
      const auto index = ccuda::resolve_device(params.text("device"), core::detect_placement().local_rank);
      if (!index) throw std::runtime_error(index.error());
      CONVERGE_CUDA_CHECK(cudaSetDevice(*index));
      const core::GpuInventory gpu = ccuda::gpu_inventory(*index);
      params.resolve("device", std::to_string(*index));
      me.device = *index;
      copy_text(me.uuid, gpu.uuid);
      copy_text(me.pci, gpu.pci_bus_id);
      copy_text(me.name, gpu.name);
    } catch (const std::exception& e) {
      mine = core::SetupStatus::fail(e.what());
    }
  }
  me.kind = int(mine.kind);
  copy_text(me.reason, mine.reason);
  std::vector<Record> all(static_cast<std::size_t>(size_));
  CONVERGE_MPI_CHECK(MPI_Allgather(&me, int(sizeof me), MPI_BYTE, all.data(), int(sizeof me), MPI_BYTE, mpi_comm_));

  std::string placement;
  std::vector<RankDevice> devices;
  for (int r = 0; r < size_; ++r) {
    const Record& x = all[std::size_t(r)];
    placement += fmt::format("{}{}: {} ", r ? "; " : "", r, x.host);
    placement += x.device >= 0 ? fmt::format("GPU {} {} ({}, PCI {})", x.device, x.name, x.uuid, x.pci)
                               : fmt::format("no GPU ({})", x.reason);
    devices.push_back({r, x.host, x.uuid, x.visible});
  }
  topology_["rank_placement"] = placement;
  topology_["bootstrap"] = "ncclCommInitRank; the ncclUniqueId made by rank 0 sent with MPI_Bcast over MPI_COMM_WORLD";
  topology_["transport"] = "not exposed by the NCCL API: see NCCL_DEBUG=INFO output (with NCCL_DEBUG_FILE, so that "
                           "the worker's stdout stays JSON Lines)";
  if (corrupt_rank_ >= 0)
    topology_["fault_injection"] = fmt::format("CONVERGE_TEST_CORRUPT_RANK={}: rank {} corrupts what it received "
                                               "(test-only)", corrupt_rank_, corrupt_rank_);
  if (mine.kind != core::SetupStatus::Kind::ok) return mine;
  // Another rank cannot go on: this one stops here too, and the harness reports the lowest
  // such rank's status for all of them (its first_message agreement).
  for (const Record& x : all)
    if (x.kind != int(core::SetupStatus::Kind::ok)) return core::SetupStatus::ok();
  if (const std::string shared = shared_gpu_problem(devices); !shared.empty()) return core::SetupStatus::skip(shared);

  stream_ = std::make_unique<ccuda::Stream>();
  struct {
    ncclUniqueId id;
    int rc;
  } boot{};
  if (rank_ == 0) boot.rc = int(ncclGetUniqueId(&boot.id));
  CONVERGE_MPI_CHECK(MPI_Bcast(&boot, int(sizeof boot), MPI_BYTE, 0, mpi_comm_));
  if (boot.rc != ncclSuccess)
    return rank_ == 0 ? core::SetupStatus::fail("ncclGetUniqueId: " + nccl_error(ncclResult_t(boot.rc)))
                      : core::SetupStatus::ok();
  // Blocking, as nccl-tests: a rank whose ncclCommInitRank fails while the others wait in it
  // leaves them to the driver's timeout (NCCL's errors here are normally seen by every rank).
  ncclComm_t c = nullptr;
  const ncclResult_t rc = ncclCommInitRank(&c, size_, boot.id, rank_);
  if (rc != ncclSuccess)
    return core::SetupStatus::fail("ncclCommInitRank: " + nccl_error(rc));
  comm_ = c;
  return core::SetupStatus::ok();
}

core::cuda::DeviceBuffer<unsigned char> NcclBenchmark::device_elements(std::uint64_t elements) const {
  return core::cuda::DeviceBuffer<unsigned char>(std::size_t(elements * dtype_bytes(t_)));
}

void* NcclBenchmark::at(const core::cuda::DeviceBuffer<unsigned char>& b, std::uint64_t i) const {
  return b.data() + i * dtype_bytes(t_);
}

void NcclBenchmark::upload() {
  CONVERGE_CUDA_CHECK(cudaMemcpyAsync(send_.data(), in_host_.data(), in_host_.bytes(), cudaMemcpyHostToDevice, stream()));
  if (recv_.bytes() > 0) CONVERGE_CUDA_CHECK(cudaMemsetAsync(recv_.data(), 0xFF, recv_.bytes(), stream()));
  stream_->synchronize();
}

void NcclBenchmark::run() {
  for (std::int64_t k = 0; k < iterations_; ++k) enqueue();
}

void NcclBenchmark::after_repetition(int rep) {
  if (check_every_ > 0 && rep % check_every_ == 0) check();
}

std::string NcclBenchmark::where(std::uint64_t i) const { return fmt::format("element {}", i); }

// Fresh inputs, one operation, compare every element (outside any timed region; in-place runs
// overwrite their input, out-of-place ones get the same treatment for uniformity).
void NcclBenchmark::check() {
  upload();
  enqueue();
  const Output out = output();
  if (out_host_.count() != out.count) out_host_ = HostData(t_, out.count);
  if (out.count > 0)
    CONVERGE_CUDA_CHECK(cudaMemcpyAsync(out_host_.data(), at(*out.buffer, out.first), out_host_.bytes(),
                                        cudaMemcpyDeviceToHost, stream()));
  stream_->synchronize();
  if (rank_ == corrupt_rank_) corrupt_one(out_host_, out.count);
  ++checks_;
  double got = 0;
  if (const auto bad = first_mismatch(out_host_, 0, out.count, [this](std::uint64_t i) { return expected(i); }, &got))
    if (failure_.empty())
      failure_ = fmt::format("{}: {} != {} (check {})", where(*bad), got, expected(*bad), checks_);
  upload();  // the timed operations go on with the documented input
}

core::Verification NcclBenchmark::verify() {
  check();
  clean_ = true;
  const std::string how = fmt::format("one {}{} after fresh inputs (pattern(rank, i) = rank % 13 + 1 + i % 7): {}; "
                                      "checked {} time{} on every rank",
                                      in_place_ ? "in-place " : "", name_, check_method(), checks_,
                                      checks_ == 1 ? "" : "s");
  if (!failure_.empty()) return core::Verification::failed(how, failure_);
  return core::Verification::passed(how);
}

void NcclBenchmark::teardown() {
  if (comm_ != nullptr) {
    // After a clean verification every rank is here, idle: destroy as nccl-tests does. On an
    // error path peers may be gone or work still queued: abort, which waits for nobody.
    clean_ ? (void)ncclCommDestroy(comm_) : (void)ncclCommAbort(comm_);
    comm_ = nullptr;
  }
  send_ = {};
  recv_ = {};
}

core::WorkModel NcclBenchmark::work() const {
  const double bytes = algbw_bytes(model_, count_, dtype_bytes(t_), size_) * double(iterations_);
  return {0, bytes, double(iterations_), bytes * bus_factor(model_, size_)};
}

std::map<std::string, std::string> NcclBenchmark::notes() const {
  auto n = extra_notes();
  for (const auto& [k, v] : topology_) n[k] = v;
  return n;
}

std::unique_ptr<core::Timer> NcclBenchmark::make_timer() const {
  return std::make_unique<ccuda::EventTimer>(stream_->get());
}

}  // namespace converge::collectives::nccl
