#include "core/mpi/mpi_group.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace converge::core::mpi {

void throw_mpi_error(int code, const char* expr, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw std::runtime_error(fmt::format("{}:{}: {} failed: {}", file, line, expr, std::string(text, std::size_t(len))));
}

namespace {
int g_instances = 0;
}

WorldGroup::WorldGroup() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    // Plain MPI_Init (MPI_THREAD_SINGLE), as osu_latency and hpcc call it: above SINGLE, Open
    // MPI turns on internal locking, which added 20% to the 8-byte ping-pong latency here.
    // Only the main thread calls MPI (the energy sampler thread never does).
    CONVERGE_MPI_CHECK(MPI_Init(nullptr, nullptr));
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  ++g_instances;
  CONVERGE_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  CONVERGE_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
}

WorldGroup::~WorldGroup() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (--g_instances == 0 && !finalised) MPI_Finalize();
}

void WorldGroup::barrier() { CONVERGE_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

void WorldGroup::max(std::vector<double>& v) {
  CONVERGE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v.data(), int(v.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
}

void WorldGroup::sum(std::vector<double>& v) {
  CONVERGE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v.data(), int(v.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
}

int WorldGroup::broadcast(int value) {
  CONVERGE_MPI_CHECK(MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD));
  return value;
}

std::string WorldGroup::first_message(const std::string& message) {
  int first = message.empty() ? size_ : rank_;
  CONVERGE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (first == size_) return "";
  int length = rank_ == first ? int(message.size()) : 0;
  CONVERGE_MPI_CHECK(MPI_Bcast(&length, 1, MPI_INT, first, MPI_COMM_WORLD));
  std::string text = rank_ == first ? message : std::string(std::size_t(length), '\0');
  CONVERGE_MPI_CHECK(MPI_Bcast(text.data(), length, MPI_CHAR, first, MPI_COMM_WORLD));
  return size_ > 1 ? fmt::format("rank {}: {}", first, text) : text;
}

void WorldGroup::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest if it did
}

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, std::size_t(len));
  const auto nl = s.find_first_of("\n,");
  return nl == std::string::npos ? s : s.substr(0, nl);
}

}  // namespace converge::core::mpi
