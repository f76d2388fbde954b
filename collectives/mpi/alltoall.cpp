// collectives.mpi.alltoall: MPI_Alltoall of `size` bytes per rank's send buffer, size/n to
// each peer, `iterations` back-to-back operations per timed repetition (OSU's osu_alltoall
// count), nccl-tests' algbw and busbw ((n-1)/n). Input: element j of rank r's send buffer =
// pattern(r, j), so the block rank r sends to rank q is pattern(r, q * count + i); on rank q,
// block r of the result must hold exactly that.
#include <fmt/format.h>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::alltoall;

struct Where {
  int rank;
  std::uint64_t count;
};

// Element j = r * count + i on rank q: element i of the block rank r sent to q.
double expected_exchanged(std::uint64_t j, const void* arg) {
  const auto& w = *static_cast<const Where*>(arg);
  return pattern(int(j / w.count), std::uint64_t(w.rank) * w.count + j % w.count);
}

class Alltoall final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    t_ = dtype_from(params.text("dtype"));
    in_place_ = params.boolean("in_place");
    count_ = elements_per_rank(kC, params.size("size"), dtype_bytes(t_), size_);
    params.resolve("size", fmt::format("{:.0f}", algbw_bytes(kC, count_, dtype_bytes(t_), size_)));
    // OSU's message size is what each rank sends to each peer.
    iterations_ = params.is_auto("iterations") ? auto_iterations(count_ * dtype_bytes(t_)) : params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    const std::uint64_t total = count_ * std::uint64_t(size_);
    if (!in_place_) send_ = Buffer(t_, total);
    recv_ = Buffer(t_, total);
    fill_inputs();
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k) alltoall();
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked(fmt::format("one {}alltoall of pattern(rank, j) = rank % 13 + 1 + j % 7 after fresh inputs{}: on "
                               "rank q every element i of block r == pattern(r, q * count + i), exactly",
                               in_place_ ? "in-place " : "", in_place_ ? "" : ", the receive buffer reset to -1"));
  }

  core::WorkModel work() const override {
    const double bytes = algbw_bytes(kC, count_, dtype_bytes(t_), size_) * double(iterations_);
    return {0, bytes, double(iterations_), bytes * bus_factor(kC, size_)};
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("MPI_Alltoall({} x {} to each rank{})", count_, dtype_name(t_),
                                      in_place_ ? ", MPI_IN_PLACE" : "")},
            {"bus_factor", fmt::format("(n-1)/n = {:.4f}", bus_factor(kC, size_))}};
  }

 private:
  // In place (MPI-2.2), the input is taken from the receive buffer and replaced by the result.
  void alltoall() {
    const int c = int(count_);
    if (in_place_)
      CONVERGE_MPI_CHECK(MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv_.data(), c, mpi_type(t_), comm_));
    else
      CONVERGE_MPI_CHECK(MPI_Alltoall(send_.data(), c, mpi_type(t_), recv_.data(), c, mpi_type(t_), comm_));
  }

  // The input holds this rank's pattern; an out-of-place result buffer is reset to -1 (a
  // sentinel no expected value equals).
  void fill_inputs() {
    if (in_place_) {
      fill_pattern(recv_, t_, rank_);
    } else {
      fill_pattern(send_, t_, rank_);
      fill_value(recv_, t_, -1);
    }
  }

  // Fresh inputs, one operation, compare (outside any timed region).
  void check() {
    fill_inputs();
    alltoall();
    const std::uint64_t total = count_ * std::uint64_t(size_);
    if (rank_ == corrupt_rank_) corrupt_one(recv_, t_, total);
    ++checks_;
    double got = 0;
    const Where here{rank_, count_};
    if (const auto bad = first_mismatch(recv_, t_, total, expected_exchanged, &here, &got))
      record_failure(fmt::format("element {} (block from rank {}, element {}): {} != {} (check {})", *bad,
                                 *bad / count_, *bad % count_, got, expected_exchanged(*bad, &here), checks_));
    fill_inputs();  // the timed operations go on with the documented input
  }

  Dtype t_ = Dtype::f32;
  bool in_place_ = false;
  std::uint64_t count_ = 0;
  std::int64_t iterations_ = 0;
  int check_every_ = 0;
  Buffer send_, recv_;
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.alltoall", "collectives", "mpi",
          "MPI_Alltoall: latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
          {size_param("8", "bytes each rank sends in all, size/n to each rank (nccl-tests' size; OSU's message size "
                           "is size/n)"),
           dtype_param(), in_place_param(), iterations_param(), check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<Alltoall>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_alltoall, spec());

}  // namespace converge::collectives::mpi
