// collectives.mpi.latency: osu_latency. Ranks 0 and 1 ping-pong `size`-byte messages with
// blocking MPI_Send/MPI_Recv, `iterations` round trips per timed repetition; latency = half a
// round trip (time / 2 iterations), bandwidth = bytes one way per half round trip (b_eff's
// ping-pong bandwidth). Ranks beyond the first two idle in run(). Each rank's send buffer
// holds byte_pattern(rank, 0, i); each check is one fresh round trip, both directions checked.
#include <fmt/format.h>

#include "collectives/mpi/pt2pt_common.hpp"

namespace converge::collectives::mpi::pt2pt {
namespace {

constexpr int kPingTag = 1;

class Latency final : public Pt2ptBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open_pt2pt(params, ctx, false); st.kind != core::SetupStatus::Kind::ok) return st;
    active_ = rank_ < 2;
    peer_ = 1 - rank_;
    if (active_) allocate(1);
    ready_ = true;
    return core::SetupStatus::ok();
  }

  void run() override {
    if (rank_ == 0) {
      for (std::int64_t k = 0; k < iterations_; ++k) ping(), pong();
    } else if (rank_ == 1) {
      for (std::int64_t k = 0; k < iterations_; ++k) pong(), ping();
    }
  }

  core::WorkModel work() const override {
    const double messages = 2.0 * double(iterations_);  // one-way messages, both directions
    return {0, messages * double(bytes_), messages, 0};
  }

 protected:
  std::map<std::string, std::string> operation_notes() const override {
    std::map<std::string, std::string> n = {
        {"operation", fmt::format("ping-pong between ranks 0 and 1: MPI_Send then MPI_Recv (rank 1: MPI_Recv then "
                                  "MPI_Send) of {} x MPI_CHAR, {} round trips per repetition",
                                  bytes_, iterations_)},
        {"latency", "half a round trip: repetition time / (2 x iterations)"}};
    add_idle_ranks(n);
    return n;
  }

  // Rank 0 sends first; each side checks what the other sent it (fresh sentinel buffers).
  void check() override {
    rbuf(0).fill_sentinel();
    if (rank_ == 0) ping(), pong();
    else pong(), ping();
    expect(&rbuf(0), statuses_[0], peer_, 0, fmt::format("message from rank {}", peer_));
  }

  std::string method() const override {
    return fmt::format("one round trip after resetting receive buffers to {:#x}: byte i from rank r == (31 r + i) "
                       "mod 251 exactly, and the length, in both directions (ranks 0 and 1)",
                       int(kSentinel));
  }

 private:
  void ping() { CONVERGE_MPI_CHECK(MPI_Send(sbuf(0), int(bytes_), MPI_CHAR, peer_, kPingTag, comm_)); }
  void pong() {
    CONVERGE_MPI_CHECK(MPI_Recv(rbuf(0).data(), int(bytes_), MPI_CHAR, peer_, kPingTag, comm_, &statuses_[0]));
  }
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.latency", "collectives", "mpi",
          "osu_latency: MPI_Send/MPI_Recv ping-pong between ranks 0 and 1, half round-trip latency",
          {size_param("8", 0.0),
           iterations_param("round trips per timed repetition (auto: osu_latency's 10000 up to 8 KiB, 1000 above)"),
           check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<Latency>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_latency, spec());

}  // namespace converge::collectives::mpi::pt2pt
