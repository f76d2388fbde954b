// collectives.mpi.barrier: MPI_Barrier, `iterations` back-to-back per timed repetition (OSU's
// osu_barrier count); latency per barrier. No data moves, so the check, outside the timed
// region, tests the barrier's one guarantee: no rank leaves it before every rank has entered.
// Ranks that enter late poll for tokens that the others send only once they have left the
// barrier; a token seen before the late rank entered proves that some rank left too early.
#include <fmt/format.h>

#include <vector>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

// Point-to-point tags on the benchmark's communicator; the harness uses only collectives
// there, and every token sent is received within the same check.
constexpr int kTagFromRoot = 0x4231, kTagToRoot = 0x4232;
// How long a late rank polls before it enters: ample for a token from a rank that left early
// to arrive over any interconnect; too short a window can only miss a fault, never invent one.
constexpr double kWindowS = 0.002;

class Barrier final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    iterations_ = params.is_auto("iterations") ? auto_iterations(0) : params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k) CONVERGE_MPI_CHECK(MPI_Barrier(comm_));
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked(fmt::format(
        "ordering, two barriers: (1) ranks 1..n-1 poll MPI_Iprobe for {0:g} ms before entering, rank 0 enters at once "
        "and sends each a token after leaving; (2) rank 0 polls for {0:g} ms before entering, the others send it a "
        "token after leaving. No token may arrive before its receiver entered (a barrier that lets a rank out before "
        "all entered is caught when its token lands within the window)",
        kWindowS * 1e3));
  }

  core::WorkModel work() const override { return {0, 0, double(iterations_), 0}; }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", "MPI_Barrier"}, {"bus_factor", "0 (no data moves)"}};
  }

 private:
  // One barrier with an ordering probe. A late rank polls for `tag` for kWindowS, enters, then
  // receives one token from each of `peers`; an early rank enters at once, then sends a token
  // to each of `peers`. Returns whether a token arrived before this (late) rank entered. Tokens
  // are sent only after the barrier and received after it, so no rank waits on another except
  // inside MPI_Barrier itself.
  bool probed_barrier(bool late, const std::vector<int>& peers, int tag) {
    bool early = false;
    if (late) {
      const double until = MPI_Wtime() + kWindowS;
      do {
        int flag = 0;
        CONVERGE_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, tag, comm_, &flag, MPI_STATUS_IGNORE));
        early = flag != 0;
      } while (!early && MPI_Wtime() < until);
    }
    CONVERGE_MPI_CHECK(MPI_Barrier(comm_));
    char token = 1;
    std::vector<char> got(peers.size());
    std::vector<MPI_Request> requests(peers.size());
    for (std::size_t k = 0; k < peers.size(); ++k) {
      if (late)
        CONVERGE_MPI_CHECK(MPI_Irecv(&got[k], 1, MPI_CHAR, peers[k], tag, comm_, &requests[k]));
      else
        CONVERGE_MPI_CHECK(MPI_Isend(&token, 1, MPI_CHAR, peers[k], tag, comm_, &requests[k]));
    }
    CONVERGE_MPI_CHECK(MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE));
    return early;
  }

  void check() {
    std::vector<int> others;
    for (int r = 1; r < size_; ++r) others.push_back(r);
    const bool root = rank_ == 0;
    // (1) rank 0 early, the others late; (2) rank 0 late, the others early.
    bool early1 = probed_barrier(!root, root ? others : std::vector<int>{0}, kTagFromRoot);
    bool early2 = probed_barrier(root, root ? others : std::vector<int>{0}, kTagToRoot);
    if (rank_ == corrupt_rank_) (root ? early2 : early1) = true;  // the test-only fault: a token seen early
    ++checks_;
    if (early1)
      record_failure(fmt::format("rank 0's token, sent after it left the barrier, arrived before this rank entered "
                                 "it (check {})", checks_));
    else if (early2)
      record_failure(fmt::format("a token sent by a rank after it left the barrier arrived before rank 0 entered it "
                                 "(check {})", checks_));
  }

  std::int64_t iterations_ = 0;
  int check_every_ = 0;
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.barrier", "collectives", "mpi", "MPI_Barrier: latency per barrier",
          {iterations_param(), check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better}},
          [] { return std::make_unique<Barrier>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_barrier, spec());

}  // namespace converge::collectives::mpi
