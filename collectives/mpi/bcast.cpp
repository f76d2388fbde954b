// collectives.mpi.bcast: MPI_Bcast (root 0) of `size` bytes, `iterations` back-to-back
// operations per timed repetition (OSU's osu_bcast count), nccl-tests' algbw and busbw (factor
// 1). Input: element i of the root = pattern(0, i); every other rank must receive exactly that,
// and the root's buffer must come back unchanged. No in_place parameter: a broadcast has one
// buffer per rank.
#include <fmt/format.h>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::bcast;
constexpr int kRoot = 0;

double expected_root(std::uint64_t i, const void*) { return pattern(kRoot, i); }

class Bcast final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    t_ = dtype_from(params.text("dtype"));
    count_ = elements_per_rank(kC, params.size("size"), dtype_bytes(t_), size_);
    params.resolve("size", std::to_string(count_ * dtype_bytes(t_)));
    iterations_ = params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    buf_ = Buffer(t_, count_);
    fill_input();
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k)
      CONVERGE_MPI_CHECK(MPI_Bcast(buf_.data(), int(count_), mpi_type(t_), kRoot, comm_));
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked("one broadcast from rank 0 of pattern(0, i) = 1 + i % 7 into buffers reset to -1: every element "
                   "on every rank == the root's, exactly (the root's buffer unchanged)");
  }

  core::WorkModel work() const override {
    const double bytes = algbw_bytes(kC, count_, dtype_bytes(t_), size_) * double(iterations_);
    return {0, bytes, double(iterations_), bytes * bus_factor(kC, size_)};
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("MPI_Bcast(root {}, {} x {})", kRoot, count_, dtype_name(t_))},
            {"bus_factor", fmt::format("1 = {:.4f}", bus_factor(kC, size_))}};
  }

 private:
  // The root holds its pattern; the others a sentinel that no expected value equals.
  void fill_input() {
    if (rank_ == kRoot)
      fill_pattern(buf_, t_, kRoot);
    else
      fill_value(buf_, t_, -1);
  }

  // Fresh inputs, one operation, compare (outside any timed region).
  void check() {
    fill_input();
    CONVERGE_MPI_CHECK(MPI_Bcast(buf_.data(), int(count_), mpi_type(t_), kRoot, comm_));
    if (rank_ == corrupt_rank_) corrupt_one(buf_, t_, count_);
    ++checks_;
    double got = 0;
    if (const auto bad = first_mismatch(buf_, t_, count_, expected_root, nullptr, &got))
      record_failure(fmt::format("element {}: {} != {} (check {})", *bad, got, expected_root(*bad, nullptr), checks_));
  }

  Dtype t_ = Dtype::f32;
  std::uint64_t count_ = 0;
  std::int64_t iterations_ = 0;
  int check_every_ = 0;
  Buffer buf_;
};

core::BenchmarkSpec spec() {
  return {"collectives.mpi.bcast", "collectives", "mpi",
          "MPI_Bcast (root 0): latency per operation, algbw and busbw (nccl-tests factor 1)",
          {size_param("8", "bytes broadcast (nccl-tests' size; OSU's message size)"), dtype_param(), rooted_iterations_param(),
           check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<Bcast>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_bcast, spec());

}  // namespace converge::collectives::mpi
