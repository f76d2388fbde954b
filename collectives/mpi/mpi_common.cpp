#include "collectives/mpi/mpi_common.hpp"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "core/placement.hpp"

namespace converge::collectives::mpi {

Dtype dtype_from(const std::string& name) {
  if (name == "float") return Dtype::f32;
  if (name == "double") return Dtype::f64;
  if (name == "int") return Dtype::i32;
  throw std::invalid_argument("dtype must be float, double or int, not " + name);
}

const char* dtype_name(Dtype t) { return t == Dtype::f32 ? "float" : t == Dtype::f64 ? "double" : "int"; }
MPI_Datatype mpi_type(Dtype t) { return t == Dtype::f32 ? MPI_FLOAT : t == Dtype::f64 ? MPI_DOUBLE : MPI_INT; }
std::uint64_t dtype_bytes(Dtype t) { return t == Dtype::f64 ? 8 : 4; }

namespace {
template <typename F>
auto with_type(Dtype t, F&& f) {
  switch (t) {
    case Dtype::f32: return f(float{});
    case Dtype::f64: return f(double{});
    case Dtype::i32: break;
  }
  return f(int{});
}
}  // namespace

void fill_pattern(Buffer& b, Dtype t, int rank, std::uint64_t first) {
  with_type(t, [&](auto zero) {
    using T = decltype(zero);
    T* p = static_cast<T*>(b.data());
    for (std::uint64_t i = 0; i < b.count(); ++i) p[i] = T(pattern(rank, first + i));
  });
}

void fill_value(Buffer& b, Dtype t, double value) {
  with_type(t, [&](auto zero) {
    using T = decltype(zero);
    T* p = static_cast<T*>(b.data());
    for (std::uint64_t i = 0; i < b.count(); ++i) p[i] = T(value);
  });
}

double element(const Buffer& b, Dtype t, std::uint64_t i) {
  return with_type(t, [&](auto zero) {
    using T = decltype(zero);
    return double(static_cast<const T*>(b.data())[i]);
  });
}

std::optional<std::uint64_t> first_mismatch(const Buffer& b, Dtype t, std::uint64_t count,
                                            double (*expected)(std::uint64_t, const void*), const void* arg,
                                            double* got) {
  for (std::uint64_t i = 0; i < count; ++i) {
    const double v = element(b, t, i);
    if (v != expected(i, arg)) {
      if (got) *got = v;
      return i;
    }
  }
  return std::nullopt;
}

void corrupt_one(Buffer& b, Dtype t, std::uint64_t count) {
  if (count == 0) return;
  with_type(t, [&](auto zero) {
    using T = decltype(zero);
    static_cast<T*>(b.data())[count / 2] += T(1);
  });
}

core::ParamSpec size_param(const std::string& default_value, const std::string& doc) {
  return {"size", core::ParamType::size, default_value, doc, {}, 0.0, std::nullopt};
}
core::ParamSpec dtype_param() {
  return {"dtype", core::ParamType::choice, "float", "element type", {"float", "double", "int"}, std::nullopt,
          std::nullopt};
}
core::ParamSpec in_place_param() {
  return {"in_place", core::ParamType::boolean, "false", "MPI_IN_PLACE: the result overwrites the input", {},
          std::nullopt, std::nullopt};
}
core::ParamSpec iterations_param() {
  return {"iterations", core::ParamType::integer, "auto",
          "operations per timed repetition (auto: OSU's 1000 up to 8 KiB, 100 above)", {}, 1.0, std::nullopt};
}
std::int64_t auto_iterations(std::uint64_t size_bytes) { return size_bytes <= 8192 ? 1000 : 100; }
core::ParamSpec rooted_iterations_param() {
  return {"iterations", core::ParamType::integer, "1",
          "operations per timed repetition (1: one operation after the barrier, as OSU times rooted collectives; more "
          "lets consecutive operations overlap)",
          {}, 1.0, std::nullopt};
}
core::ParamSpec check_every_param() {
  return {"check_every", core::ParamType::integer, "0",
          "also check the output after every N-th timed repetition, outside the timed region (0: after the last only)",
          {}, 0.0, std::nullopt};
}

int corrupt_rank_for_test() {
  const char* v = std::getenv("CONVERGE_TEST_CORRUPT_RANK");
  return v != nullptr && *v != '\0' ? std::atoi(v) : -1;
}

namespace {

std::string cpu_list() {
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return "?";
  std::string s;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &mask)) continue;
    int e = c;
    while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &mask)) ++e;
    if (!s.empty()) s += ',';
    s += e == c ? std::to_string(c) : fmt::format("{}-{}", c, e);
    c = e;
  }
  return s;
}

// Every rank's line gathered at rank 0 ("0: n1 cpus 0"), joined with "; ".
std::string gather_lines(MPI_Comm comm, int rank, int size, const std::string& mine) {
  int len = int(mine.size());
  std::vector<int> lens(static_cast<std::size_t>(size)), offsets(static_cast<std::size_t>(size));
  CONVERGE_MPI_CHECK(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, comm));
  int total = 0;
  for (int r = 0; r < size; ++r) offsets[std::size_t(r)] = total, total += lens[std::size_t(r)];
  std::string all(std::size_t(rank == 0 ? total : 0), '\0');
  CONVERGE_MPI_CHECK(MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, 0, comm));
  std::string out;
  for (int r = 0; rank == 0 && r < size; ++r)
    out += (r ? "; " : "") + all.substr(std::size_t(offsets[std::size_t(r)]), std::size_t(lens[std::size_t(r)]));
  return out;
}

// What the MPI library and its transports were told to use (the environment it reads).
std::string transport_settings() {
  static const char* prefixes[] = {"OMPI_MCA_pml", "OMPI_MCA_btl", "OMPI_MCA_mtl", "UCX_TLS", "UCX_NET_DEVICES",
                                   "FI_PROVIDER", "I_MPI_FABRICS", "MPICH_NETMOD"};
  std::string s;
  for (const char* p : prefixes)
    if (const char* v = std::getenv(p)) s += fmt::format("{}{}={}", s.empty() ? "" : " ", p, v);
  return s.empty() ? "library defaults (no OMPI_MCA_pml/btl/mtl, UCX_TLS, FI_PROVIDER set)" : s;
}

}  // namespace

core::SetupStatus MpiBenchmark::open(core::ParamValues&, const core::Context& ctx, int min_ranks) {
  auto* world = dynamic_cast<core::mpi::WorldGroup*>(ctx.group);
  if (world == nullptr) return core::SetupStatus::skip("needs the MPI worker's ranks (run it through mpirun or srun)");
  comm_ = world->comm();
  rank_ = world->rank();
  size_ = world->size();
  if (size_ < min_ranks)
    return core::SetupStatus::skip(fmt::format("needs at least {} ranks; launched with {}", min_ranks, size_));
  corrupt_rank_ = corrupt_rank_for_test();
  const core::Placement where = core::detect_placement();
  const std::string mine = fmt::format("{}: {} cpus {}", rank_, where.node, cpu_list());
  topology_["ranks"] = std::to_string(size_);
  topology_["rank_placement"] = gather_lines(comm_, rank_, size_, mine);
  topology_["mpi_library"] = core::mpi::library_version();
  topology_["transport"] = transport_settings();
  if (corrupt_rank_ >= 0)
    topology_["fault_injection"] = fmt::format("CONVERGE_TEST_CORRUPT_RANK={}: rank {} corrupts what it received "
                                               "(test-only)", corrupt_rank_, corrupt_rank_);
  return core::SetupStatus::ok();
}

std::map<std::string, std::string> MpiBenchmark::notes() const {
  auto n = extra_notes();
  for (const auto& [k, v] : topology_) n[k] = v;
  return n;
}

core::Verification MpiBenchmark::checked(const std::string& method) const {
  const std::string how = fmt::format("{}; checked {} time{} on every rank", method, checks_, checks_ == 1 ? "" : "s");
  if (!failure_.empty()) return core::Verification::failed(how, failure_);
  if (checks_ == 0) return core::Verification::failed(how, "the output was never checked");
  return core::Verification::passed(how);
}

}  // namespace converge::collectives::mpi
