#pragma once
// MPI for the harness and the MPI benchmarks: an error check that throws with the call site,
// and core::Group over MPI_COMM_WORLD (which also initialises and finalises MPI).
#include <mpi.h>

#include <memory>
#include <string>

#include "core/group.hpp"

namespace converge::core::mpi {

/// Throws std::runtime_error "<file>:<line>: <expr> failed: <MPI_Error_string>".
[[noreturn]] void throw_mpi_error(int code, const char* expr, const char* file, int line);

#define CONVERGE_MPI_CHECK(expr)                                                             \
  do {                                                                                       \
    const int converge_mpi_rc_ = (expr);                                                     \
    if (converge_mpi_rc_ != MPI_SUCCESS)                                                     \
      ::converge::core::mpi::throw_mpi_error(converge_mpi_rc_, #expr, __FILE__, __LINE__);   \
  } while (0)

/// MPI_COMM_WORLD as a Group. The first one constructed initialises MPI (MPI_Init: only the
/// main thread calls MPI; errors returned rather than fatal) and the last one destroyed
/// finalises it.
class WorldGroup final : public Group {
 public:
  WorldGroup();
  ~WorldGroup() override;
  WorldGroup(const WorldGroup&) = delete;
  WorldGroup& operator=(const WorldGroup&) = delete;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void barrier() override;
  void max(std::vector<double>& values) override;
  void sum(std::vector<double>& values) override;
  int broadcast(int value) override;
  std::string first_message(const std::string& message) override;
  [[noreturn]] void abort(int code) override;
  MPI_Comm comm() const { return MPI_COMM_WORLD; }

 private:
  int rank_ = 0, size_ = 1;
};

/// "Open MPI v4.1.4, ..." (MPI_Get_library_version, first line).
std::string library_version();

}  // namespace converge::core::mpi
