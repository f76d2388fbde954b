#pragma once
// The ranks of a multi-rank benchmark as the harness sees them (DESIGN.md, Processes): a
// barrier before each timed repetition, agreement on when to stop and on errors, and the
// repetition's time reduced over ranks. core/mpi implements it over an MPI communicator; the
// harness itself links no MPI.
#include <string>
#include <vector>

namespace converge::core {

class Group {
 public:
  virtual ~Group() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void barrier() = 0;
  /// Element-wise maximum over ranks, in place, on every rank.
  virtual void max(std::vector<double>& values) = 0;
  /// Element-wise sum over ranks, in place, on every rank.
  virtual void sum(std::vector<double>& values) = 0;
  /// Rank 0's `value`, on every rank.
  virtual int broadcast(int value) = 0;
  /// The message of the lowest rank whose `message` is not empty ("" when none), on every rank,
  /// prefixed with "rank R: " when the group has more than one rank.
  virtual std::string first_message(const std::string& message) = 0;
  /// Ends every rank of the group now (MPI_Abort): one rank failed where the others may be
  /// waiting for it. Does not return.
  [[noreturn]] virtual void abort(int code) = 0;
};

}  // namespace converge::core
