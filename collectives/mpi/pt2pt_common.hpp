#pragma once
// What the OSU-style point-to-point benchmarks share (latency, bw, bibw, mbw_mr; formulas in
// collectives/pt2pt.md): OSU 7's iteration counts and window, the byte pattern every sender's
// buffer holds, page-aligned byte buffers, the window protocols and the exact check of what
// arrived. Header-only: each benchmark file states its roles, run() and work model.
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi::pt2pt {

/// OSU's LARGE_MESSAGE_SIZE: messages above 8 KiB use the large-message iteration counts.
constexpr std::uint64_t kLargeMessage = 8192;
/// osu_latency (LAT_LOOP_SMALL/LARGE): 10000 round trips up to 8 KiB, 1000 above.
constexpr std::int64_t latency_iterations(std::uint64_t bytes) { return bytes <= kLargeMessage ? 10000 : 1000; }
/// osu_bw, osu_bibw, osu_mbw_mr (BW_LOOP_SMALL/LARGE): 100 windows up to 8 KiB, 20 above.
constexpr std::int64_t window_iterations(std::uint64_t bytes) { return bytes <= kLargeMessage ? 100 : 20; }
/// osu_bw's acknowledgement after each window: 4 bytes (MPI_CHAR), the first of the receiver's send buffer.
constexpr int kAckBytes = 4;
constexpr int kTag = 100, kAckTag = 101;
/// Byte i sent by rank `sender` from window slot `slot`: (31 sender + 7 slot + i) mod 251, so
/// never kSentinel; neighbouring ranks, slots and offsets differ.
constexpr unsigned char byte_pattern(int sender, int slot, std::uint64_t i) {
  return static_cast<unsigned char>((31 * std::uint64_t(sender) + 7 * std::uint64_t(slot) + i) % 251);
}
/// What a receive buffer holds before a check: no pattern byte equals it.
constexpr unsigned char kSentinel = 0xff;

/// `n` bytes, page-aligned as OSU allocates them, zeroed (so touched before any timing).
class Bytes {
 public:
  explicit Bytes(std::uint64_t n = 0) : n_(n), raw_(std::size_t(n) + kAlign) {}
  unsigned char* data() {
    return raw_.data() + (kAlign - reinterpret_cast<std::uintptr_t>(raw_.data()) % kAlign) % kAlign;
  }
  std::uint64_t size() const { return n_; }
  void fill(int sender, int slot) {
    unsigned char* p = data();
    for (std::uint64_t i = 0; i < n_; ++i) p[i] = byte_pattern(sender, slot, i);
  }
  void fill_sentinel() { std::fill_n(data(), n_, kSentinel); }

 private:
  static constexpr std::size_t kAlign = 4096;
  std::uint64_t n_ = 0;
  std::vector<unsigned char> raw_;
};

inline core::ParamSpec size_param(const std::string& default_value, double min) {
  return {"size", core::ParamType::size, default_value, "message size in bytes (OSU's message size)", {}, min,
          double(INT_MAX)};
}
inline core::ParamSpec iterations_param(const char* doc) {
  return {"iterations", core::ParamType::integer, "auto", doc, {}, 1.0, std::nullopt};
}
inline core::ParamSpec window_param() {
  return {"window", core::ParamType::integer, "64", "messages in flight per window (OSU's -W)", {}, 1.0, std::nullopt};
}
inline core::ParamSpec buffers_param() {
  return {"buffers", core::ParamType::choice, "single",
          "single: every message of a window uses one send and one receive buffer (OSU's default, -b single); "
          "multiple: one buffer per window slot (-b multiple)",
          {"single", "multiple"}, std::nullopt, std::nullopt};
}

/// Base of the point-to-point benchmarks. The subclass picks this rank's role (active_, peer_)
/// and calls allocate(); check() makes one fresh exchange and expect()s what arrived.
class Pt2ptBenchmark : public MpiBenchmark {
 public:
  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check_once();
  }
  core::Verification verify() override {
    check_once();
    if (!active_) return core::Verification::passed(fmt::format("rank {} sends and receives nothing (idle)", rank_));
    return checked(method());
  }

 protected:
  /// Opens the ranks (skips below 2) and resolves size, iterations (`windowed`: osu_bw's
  /// counts, else osu_latency's), check_every, and for windowed ones window and buffers.
  core::SetupStatus open_pt2pt(core::ParamValues& params, const core::Context& ctx, bool windowed) {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    bytes_ = params.size("size");
    params.resolve("size", std::to_string(bytes_));
    iterations_ = params.is_auto("iterations") ? (windowed ? window_iterations(bytes_) : latency_iterations(bytes_))
                                               : params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    windowed_ = windowed;
    if (windowed) window_ = int(params.integer("window")), multiple_ = params.text("buffers") == "multiple";
    return core::SetupStatus::ok();
  }
  /// Send buffers filled with this rank's pattern (at least kAckBytes), receive buffers zeroed;
  /// one of each, or one per window slot with buffers=multiple; requests for `requests`.
  void allocate(int requests) {
    const int n = multiple_ ? window_ : 1;
    for (int j = 0; j < n; ++j) {
      send_.emplace_back(std::max<std::uint64_t>(bytes_, kAckBytes)), recv_.emplace_back(bytes_);
      send_.back().fill(rank_, j);
    }
    reqs_.resize(std::size_t(requests)), statuses_.resize(std::size_t(requests));
  }
  /// Notes of the subclass once setup has succeeded (a skipped instance states no operation).
  std::map<std::string, std::string> extra_notes() const override {
    if (!ready_) return {};
    auto n = operation_notes();
    n["bus_factor"] = "none: point-to-point (bus_bytes = 0)";
    if (windowed_)
      n["buffers"] = multiple_ ? "multiple: one send and one receive buffer per window slot"
                               : "single: every message of a window uses one send and one receive buffer "
                                 "(OSU's default)";
    return n;
  }
  virtual std::map<std::string, std::string> operation_notes() const = 0;
  /// "idle_ranks" for benchmarks where only ranks 0 and 1 exchange messages.
  void add_idle_ranks(std::map<std::string, std::string>& n) const {
    if (size_ > 2)
      n["idle_ranks"] = fmt::format("ranks 2..{} idle in run(): they take part only in the harness's barrier and "
                                    "time reduction", size_ - 1);
  }
  unsigned char* sbuf(int j) { return send_[std::size_t(multiple_ ? j : 0)].data(); }
  Bytes& rbuf(int j) { return recv_[std::size_t(multiple_ ? j : 0)]; }
  int slot(int j) const { return multiple_ ? j : 0; }

  /// osu_bw's sender: `window_` MPI_Isend, MPI_Waitall, then the receiver's 4-byte ack.
  void send_window(int peer) {
    for (int j = 0; j < window_; ++j)
      CONVERGE_MPI_CHECK(MPI_Isend(sbuf(j), int(bytes_), MPI_CHAR, peer, kTag, comm_, &reqs_[std::size_t(j)]));
    CONVERGE_MPI_CHECK(MPI_Waitall(window_, reqs_.data(), MPI_STATUSES_IGNORE));
    CONVERGE_MPI_CHECK(MPI_Recv(ack_.data(), kAckBytes, MPI_CHAR, peer, kAckTag, comm_, &statuses_[0]));
  }
  /// osu_bw's receiver: `window_` MPI_Irecv, MPI_Waitall (statuses_ kept), then the ack.
  void recv_window(int peer) {
    for (int j = 0; j < window_; ++j)
      CONVERGE_MPI_CHECK(MPI_Irecv(rbuf(j).data(), int(bytes_), MPI_CHAR, peer, kTag, comm_, &reqs_[std::size_t(j)]));
    CONVERGE_MPI_CHECK(MPI_Waitall(window_, reqs_.data(), statuses_.data()));
    CONVERGE_MPI_CHECK(MPI_Send(sbuf(0), kAckBytes, MPI_CHAR, peer, kAckTag, comm_));
  }

  /// Checks one received message: its length, then (got != null) every byte against `sender`'s
  /// pattern, after the test-only fault on rank corrupt_rank_; records the first failure.
  void expect(Bytes* got, const MPI_Status& st, int sender, int slot, const std::string& what) {
    const std::uint64_t n = got ? got->size() : bytes_;
    int count = -1;
    CONVERGE_MPI_CHECK(MPI_Get_count(&st, MPI_CHAR, &count));
    if (got && rank_ == corrupt_rank_) n > 0 ? void(++got->data()[n / 2]) : void(++count);
    if (std::uint64_t(count) != n)
      return record_failure(fmt::format("{}: {} bytes arrived, {} expected (check {})", what, count, n, checks_ + 1));
    const unsigned char* p = got ? got->data() : nullptr;
    for (std::uint64_t i = 0; p && i < n; ++i)
      if (p[i] != byte_pattern(sender, slot, i))
        return record_failure(fmt::format("{}: byte {}: {} != {} (check {})", what, i, int(p[i]),
                                          int(byte_pattern(sender, slot, i)), checks_ + 1));
  }
  /// The receiver's check of a whole window (statuses_[0..window_)): every length; the bytes of
  /// each slot's buffer (buffers=single: once, the one buffer every message landed in).
  void expect_window(int sender) {
    for (int j = 0; j < window_; ++j) {
      const bool content = multiple_ || j == window_ - 1;
      expect(content ? &rbuf(j) : nullptr, statuses_[std::size_t(j)], sender, slot(j),
             multiple_ ? fmt::format("message {} of the window from rank {}", j, sender)
                       : fmt::format("message {} of the window from rank {} (buffers=single: all land in one buffer)",
                                     j, sender));
    }
  }
  void expect_ack(int receiver) {
    expect(&ack_, statuses_[0], receiver, 0, fmt::format("4-byte ack from rank {}", receiver));
  }

  /// One fresh exchange with receive buffers reset to kSentinel, then expect() (active ranks).
  virtual void check() = 0;
  virtual std::string method() const = 0;

  std::uint64_t bytes_ = 0;  ///< message size
  std::int64_t iterations_ = 0;
  int window_ = 1, check_every_ = 0, peer_ = -1;
  bool windowed_ = false, multiple_ = false, active_ = false, ready_ = false;  ///< ready_: setup succeeded
  std::vector<Bytes> send_, recv_;
  Bytes ack_{kAckBytes};
  std::vector<MPI_Request> reqs_;
  std::vector<MPI_Status> statuses_;

 private:
  void check_once() {
    if (!active_) return;
    check();
    ++checks_;
  }
};

}  // namespace converge::collectives::mpi::pt2pt
