// collectives.mpi.bw: osu_bw. Rank 0 posts `window` MPI_Isend of `size` bytes to rank 1, which
// posts the matching MPI_Irecv; both MPI_Waitall, then rank 1 returns a 4-byte ack. `iterations`
// windows per timed repetition; bandwidth = size x window x iterations / time, message rate =
// window x iterations / time. Ranks beyond the first two idle in run(). Check: one fresh
// window; rank 1 checks every message (length, and every byte of sender 0's pattern), rank 0
// the ack.
#include <fmt/format.h>

#include "collectives/mpi/pt2pt_common.hpp"

namespace converge::collectives::mpi::pt2pt {
namespace {

class Bw final : public Pt2ptBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open_pt2pt(params, ctx, true); st.kind != core::SetupStatus::Kind::ok) return st;
    active_ = rank_ < 2;
    peer_ = 1 - rank_;
    if (active_) allocate(window_);
    ready_ = true;
    return core::SetupStatus::ok();
  }

  void run() override {
    if (rank_ == 0) {
      for (std::int64_t k = 0; k < iterations_; ++k) send_window(1);
    } else if (rank_ == 1) {
      for (std::int64_t k = 0; k < iterations_; ++k) recv_window(0);
    }
  }

  core::WorkModel work() const override {
    const double messages = double(window_) * double(iterations_);
    return {0, messages * double(bytes_), messages, 0};
  }

 protected:
  std::map<std::string, std::string> operation_notes() const override {
    std::map<std::string, std::string> n = {
        {"operation", fmt::format("rank 0 -> rank 1: {} x MPI_Isend of {} x MPI_CHAR (rank 1: MPI_Irecv), MPI_Waitall, "
                                  "4-byte ack (MPI_Recv/MPI_Send); {} windows per repetition",
                                  window_, bytes_, iterations_)}};
    add_idle_ranks(n);
    return n;
  }

  void check() override {
    if (rank_ == 0) {
      ack_.fill_sentinel();
      send_window(1);
      expect_ack(1);
    } else {
      for (auto& r : recv_) r.fill_sentinel();
      recv_window(0);
      expect_window(0);
    }
  }

  std::string method() const override {
    return fmt::format("one window after resetting receive buffers to {:#x}: rank 1 checks the length of every "
                       "message and every byte (byte i of slot s from rank r == (31 r + 7 s + i) mod 251, s = 0 with "
                       "buffers=single), rank 0 the 4-byte ack",
                       int(kSentinel));
  }
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.bw", "collectives", "mpi",
          "osu_bw: windows of MPI_Isend from rank 0 to rank 1, each acknowledged; bandwidth and message rate",
          {size_param("1MiB", 1.0),
           iterations_param("windows per timed repetition (auto: osu_bw's 100 up to 8 KiB, 20 above)"), window_param(),
           buffers_param(), check_every_param()},
          {{"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"message_rate", "1/s", core::MetricKind::rate, core::Quantity::items, core::Direction::higher_is_better}},
          [] { return std::make_unique<Bw>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_bw, spec());

}  // namespace converge::collectives::mpi::pt2pt
