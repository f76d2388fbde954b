// collectives.mpi.bibw: osu_bibw. Ranks 0 and 1 each post `window` MPI_Irecv and `window`
// MPI_Isend of `size` bytes to the other, then MPI_Waitall on all of them: both directions at
// once, no ack. `iterations` windows per timed repetition; bandwidth = 2 x size x window x
// iterations / time, message rate = 2 x window x iterations / time. Ranks beyond the first two
// idle in run(). Check: one fresh window; each of ranks 0 and 1 checks every message it received.
#include <fmt/format.h>

#include "collectives/mpi/pt2pt_common.hpp"

namespace converge::collectives::mpi::pt2pt {
namespace {

class Bibw final : public Pt2ptBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open_pt2pt(params, ctx, true); st.kind != core::SetupStatus::Kind::ok) return st;
    active_ = rank_ < 2;
    peer_ = 1 - rank_;
    if (active_) allocate(2 * window_);  // receives first, so statuses_[0..window) are theirs
    ready_ = true;
    return core::SetupStatus::ok();
  }

  void run() override {
    if (!active_) return;
    for (std::int64_t k = 0; k < iterations_; ++k) exchange();
  }

  core::WorkModel work() const override {
    const double messages = 2.0 * double(window_) * double(iterations_);  // both directions
    return {0, messages * double(bytes_), messages, 0};
  }

 protected:
  std::map<std::string, std::string> operation_notes() const override {
    std::map<std::string, std::string> n = {
        {"operation", fmt::format("ranks 0 <-> 1 at once: each posts {} x MPI_Irecv and {} x MPI_Isend of {} x "
                                  "MPI_CHAR, then MPI_Waitall; {} windows per repetition",
                                  window_, window_, bytes_, iterations_)}};
    add_idle_ranks(n);
    return n;
  }

  void check() override {
    for (auto& r : recv_) r.fill_sentinel();
    exchange();
    expect_window(peer_);
  }

  std::string method() const override {
    return fmt::format("one window after resetting receive buffers to {:#x}: ranks 0 and 1 each check the length of "
                       "every message received and every byte (byte i of slot s from rank r == (31 r + 7 s + i) mod "
                       "251, s = 0 with buffers=single)",
                       int(kSentinel));
  }

 private:
  void exchange() {
    const auto w = std::size_t(window_);
    for (int j = 0; j < window_; ++j)
      CONVERGE_MPI_CHECK(MPI_Irecv(rbuf(j).data(), int(bytes_), MPI_CHAR, peer_, kTag, comm_, &reqs_[std::size_t(j)]));
    for (int j = 0; j < window_; ++j)
      CONVERGE_MPI_CHECK(MPI_Isend(sbuf(j), int(bytes_), MPI_CHAR, peer_, kTag, comm_, &reqs_[w + std::size_t(j)]));
    CONVERGE_MPI_CHECK(MPI_Waitall(2 * window_, reqs_.data(), statuses_.data()));
  }
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.bibw", "collectives", "mpi",
          "osu_bibw: windows of MPI_Isend both ways between ranks 0 and 1 at once; bidirectional bandwidth",
          {size_param("1MiB", 1.0),
           iterations_param("windows per timed repetition (auto: osu_bibw's 100 up to 8 KiB, 20 above)"),
           window_param(), buffers_param(), check_every_param()},
          {{"bandwidth", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"message_rate", "1/s", core::MetricKind::rate, core::Quantity::items, core::Direction::higher_is_better}},
          [] { return std::make_unique<Bibw>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_bibw, spec());

}  // namespace converge::collectives::mpi::pt2pt
