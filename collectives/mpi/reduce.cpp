// collectives.mpi.reduce: MPI_Reduce (sum, root 0) of `size` bytes per rank, `iterations`
// back-to-back operations per timed repetition (OSU's osu_reduce count), nccl-tests' algbw and
// busbw (factor 1). Input: element i of rank r = pattern(r, i); the root's result must equal the
// sum over ranks, exactly; the other ranks, which receive nothing, check that their send buffer
// came back unchanged (MPI may not write it).
#include <fmt/format.h>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::reduce;
constexpr int kRoot = 0;

double expected_sum(std::uint64_t i, const void* arg) {
  const int n = *static_cast<const int*>(arg);
  double s = 0;
  for (int r = 0; r < n; ++r) s += pattern(r, i);
  return s;
}

double expected_own(std::uint64_t i, const void* arg) { return pattern(*static_cast<const int*>(arg), i); }

class Reduce final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    t_ = dtype_from(params.text("dtype"));
    in_place_ = params.boolean("in_place");
    count_ = elements_per_rank(kC, params.size("size"), dtype_bytes(t_), size_);
    params.resolve("size", std::to_string(count_ * dtype_bytes(t_)));
    iterations_ = params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    send_ = Buffer(t_, count_);
    if (rank_ == kRoot && !in_place_) recv_ = Buffer(t_, count_);  // significant at the root only
    fill_pattern(send_, t_, rank_);
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k) reduce();
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked(fmt::format("one {}reduce to rank 0 of pattern(rank, i) = rank % 13 + 1 + i % 7 after fresh "
                               "inputs: at the root every element == the sum over ranks, exactly; at the other ranks "
                               "every element of the send buffer unchanged",
                               in_place_ ? "in-place " : ""));
  }

  core::WorkModel work() const override {
    const double bytes = algbw_bytes(kC, count_, dtype_bytes(t_), size_) * double(iterations_);
    return {0, bytes, double(iterations_), bytes * bus_factor(kC, size_)};
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("MPI_Reduce(MPI_SUM, root {}, {} x {}{})", kRoot, count_, dtype_name(t_),
                                      in_place_ ? ", MPI_IN_PLACE at the root" : "")},
            {"bus_factor", fmt::format("1 = {:.4f}", bus_factor(kC, size_))}};
  }

 private:
  // In place, the root's input and result share send_ (MPI_IN_PLACE is valid at the root only).
  void reduce() {
    const bool root = rank_ == kRoot;
    const void* in = root && in_place_ ? MPI_IN_PLACE : send_.data();
    void* out = !root ? nullptr : in_place_ ? send_.data() : recv_.data();
    CONVERGE_MPI_CHECK(MPI_Reduce(in, out, int(count_), mpi_type(t_), MPI_SUM, kRoot, comm_));
  }

  // Fresh inputs, one operation, compare (outside any timed region).
  void check() {
    const bool root = rank_ == kRoot;
    fill_pattern(send_, t_, rank_);
    if (root && !in_place_) fill_value(recv_, t_, -1);
    reduce();
    Buffer& out = root && !in_place_ ? recv_ : send_;
    if (rank_ == corrupt_rank_) corrupt_one(out, t_, count_);
    ++checks_;
    double got = 0;
    const auto expected = root ? expected_sum : expected_own;
    const void* arg = root ? &size_ : &rank_;
    if (const auto bad = first_mismatch(out, t_, count_, expected, arg, &got))
      record_failure(fmt::format("{} element {}: {} != {} (check {})", root ? "result" : "send buffer", *bad, got,
                                 expected(*bad, arg), checks_));
    fill_pattern(send_, t_, rank_);  // the timed operations go on with the documented input
  }

  Dtype t_ = Dtype::f32;
  bool in_place_ = false;
  std::uint64_t count_ = 0;
  std::int64_t iterations_ = 0;
  int check_every_ = 0;
  Buffer send_, recv_;
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.reduce", "collectives", "mpi",
          "MPI_Reduce (sum, root 0): latency per operation, algbw and busbw (nccl-tests factor 1)",
          {size_param("8", "bytes per rank (nccl-tests' size; OSU's message size)"), dtype_param(), in_place_param(),
           rooted_iterations_param(), check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<Reduce>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_reduce, spec());

}  // namespace converge::collectives::mpi
