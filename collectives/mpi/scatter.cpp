// collectives.mpi.scatter: MPI_Scatter from root 0 of `size` bytes in total, size/n to each
// rank, `iterations` back-to-back operations per timed repetition (OSU's osu_scatter count),
// nccl-tests' algbw and busbw ((n-1)/n). Input: element j of the root's send buffer =
// pattern(0, j); rank q must receive block q, element i = pattern(0, q * count + i), exactly.
#include <fmt/format.h>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::scatter;
// In place the root's block stays in its send buffer at offset kRoot * count = 0, where the
// check reads it.
constexpr int kRoot = 0;

struct Where {
  int rank;
  std::uint64_t count;
};

// Element i of the block rank q receives: element q * count + i of the root's pattern.
double expected_block(std::uint64_t i, const void* arg) {
  const auto& w = *static_cast<const Where*>(arg);
  return pattern(kRoot, std::uint64_t(w.rank) * w.count + i);
}

class Scatter final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    t_ = dtype_from(params.text("dtype"));
    in_place_ = params.boolean("in_place");
    count_ = elements_per_rank(kC, params.size("size"), dtype_bytes(t_), size_);
    params.resolve("size", fmt::format("{:.0f}", algbw_bytes(kC, count_, dtype_bytes(t_), size_)));
    // OSU's message size is what each rank receives.
    iterations_ = params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    if (rank_ == kRoot) send_ = Buffer(t_, count_ * std::uint64_t(size_));  // significant at the root only
    if (rank_ != kRoot || !in_place_) recv_ = Buffer(t_, count_);
    fill_inputs();
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k) scatter();
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked(fmt::format("one {}scatter from rank 0 of pattern(0, j) = 1 + j % 7 into receive buffers reset to "
                               "-1: on rank q every element i == pattern(0, q * count + i), exactly{}",
                               in_place_ ? "in-place " : "", in_place_ ? " (the root's block read in place)" : ""));
  }

  core::WorkModel work() const override {
    const double bytes = algbw_bytes(kC, count_, dtype_bytes(t_), size_) * double(iterations_);
    return {0, bytes, double(iterations_), bytes * bus_factor(kC, size_)};
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("MPI_Scatter(root {}, {} x {} to each rank{})", kRoot, count_, dtype_name(t_),
                                      in_place_ ? ", MPI_IN_PLACE at the root" : "")},
            {"bus_factor", fmt::format("(n-1)/n = {:.4f}", bus_factor(kC, size_))}};
  }

 private:
  // In place (at the root only), the root's block stays where it is in the send buffer.
  void scatter() {
    const int c = int(count_);
    const bool root = rank_ == kRoot;
    void* out = root && in_place_ ? MPI_IN_PLACE : recv_.data();
    CONVERGE_MPI_CHECK(MPI_Scatter(root ? send_.data() : nullptr, c, mpi_type(t_), out, c, mpi_type(t_), kRoot, comm_));
  }

  // The root's send buffer holds its pattern; receive buffers -1 (a sentinel no expected value equals).
  void fill_inputs() {
    if (rank_ == kRoot) fill_pattern(send_, t_, kRoot);
    if (rank_ != kRoot || !in_place_) fill_value(recv_, t_, -1);
  }

  // Fresh inputs, one operation, compare (outside any timed region).
  void check() {
    fill_inputs();
    scatter();
    Buffer& out = rank_ == kRoot && in_place_ ? send_ : recv_;
    if (rank_ == corrupt_rank_) corrupt_one(out, t_, count_);
    ++checks_;
    double got = 0;
    const Where here{rank_, count_};
    if (const auto bad = first_mismatch(out, t_, count_, expected_block, &here, &got))
      record_failure(fmt::format("element {} (of the root's block {}): {} != {} (check {})", *bad, rank_, got,
                                 expected_block(*bad, &here), checks_));
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
  return {"collectives.mpi.scatter", "collectives", "mpi",
          "MPI_Scatter (root 0): latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
          {size_param("8", "bytes the root scatters, size/n to each rank (nccl-tests' size; OSU's message size is "
                           "size/n)"),
           dtype_param(), in_place_param(), rooted_iterations_param(), check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<Scatter>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_scatter, spec());

}  // namespace converge::collectives::mpi
