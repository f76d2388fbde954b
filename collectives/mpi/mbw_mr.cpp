// collectives.mpi.mbw_mr: osu_mbw_mr. n/2 pairs, rank i (sender) with rank i + n/2 (receiver),
// every pair running osu_bw's protocol at once: `window` MPI_Isend/MPI_Irecv of `size` bytes,
// MPI_Waitall, a 4-byte ack; `iterations` windows per timed repetition. Aggregate bandwidth =
// pairs x size x window x iterations / time (the slowest rank's), message rate = pairs x window
// x iterations / time. Needs an even rank count. Check: one fresh window per pair; receivers
// check every message from their sender, senders their ack.
#include <fmt/format.h>

#include "collectives/mpi/pt2pt_common.hpp"

namespace converge::collectives::mpi::pt2pt {
namespace {

class MbwMr final : public Pt2ptBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open_pt2pt(params, ctx, true); st.kind != core::SetupStatus::Kind::ok) return st;
    if (size_ % 2 != 0)
      return core::SetupStatus::skip(fmt::format("needs an even number of ranks (n/2 sender-receiver pairs); launched "
                                                 "with {}", size_));
    pairs_ = size_ / 2;
    sender_ = rank_ < pairs_;
    peer_ = sender_ ? rank_ + pairs_ : rank_ - pairs_;
    active_ = true;
    allocate(window_);
    ready_ = true;
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k) sender_ ? send_window(peer_) : recv_window(peer_);
  }

  core::WorkModel work() const override {
    const double messages = double(pairs_) * double(window_) * double(iterations_);
    return {0, messages * double(bytes_), messages, 0};
  }

 protected:
  std::map<std::string, std::string> operation_notes() const override {
    return {{"operation", fmt::format("{} pairs (rank i -> rank i + {}) at once, each: {} x MPI_Isend of {} x MPI_CHAR "
                                      "(receiver: MPI_Irecv), MPI_Waitall, 4-byte ack; {} windows per repetition",
                                      pairs_, pairs_, window_, bytes_, iterations_)},
            {"pairs", std::to_string(pairs_)}};
  }

  void check() override {
    if (sender_) {
      ack_.fill_sentinel();
      send_window(peer_);
      expect_ack(peer_);
    } else {
      for (auto& r : recv_) r.fill_sentinel();
      recv_window(peer_);
      expect_window(peer_);
    }
  }

  std::string method() const override {
    return fmt::format("one window per pair after resetting receive buffers to {:#x}: each receiver checks the "
                       "length of every message and every byte (byte i of slot s from rank r == (31 r + 7 s + i) mod "
                       "251, s = 0 with buffers=single), each sender its 4-byte ack",
                       int(kSentinel));
  }

 private:
  int pairs_ = 0;
  bool sender_ = false;
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.mbw_mr", "collectives", "mpi",
          "osu_mbw_mr: n/2 sender-receiver pairs running osu_bw at once; aggregate bandwidth and message rate",
          {size_param("1MiB", 1.0),
           iterations_param("windows per timed repetition (auto: osu_mbw_mr's 100 up to 8 KiB, 20 above)"),
           window_param(), buffers_param(), check_every_param()},
          {{"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"message_rate", "1/s", core::MetricKind::rate, core::Quantity::items, core::Direction::higher_is_better}},
          [] { return std::make_unique<MbwMr>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_mbw_mr, spec());

}  // namespace converge::collectives::mpi::pt2pt
