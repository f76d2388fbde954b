// collectives.mpi.reduce_scatter: MPI_Reduce_scatter_block (sum) of `size` bytes per rank,
// each rank ending with its size/n block of the sum, `iterations` back-to-back operations per
// timed repetition (OSU's osu_reduce_scatter count), nccl-tests' algbw and busbw ((n-1)/n).
// Input: element j of rank r = pattern(r, j); rank q's result element i must equal the sum over
// ranks r of pattern(r, q * count + i), exactly.
#include <fmt/format.h>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::reduce_scatter;

struct Where {
  int rank, ranks;
  std::uint64_t count;
};

// Element i of rank q's block: the sum over ranks of element q * count + i.
double expected_block_sum(std::uint64_t i, const void* arg) {
  const auto& w = *static_cast<const Where*>(arg);
  double s = 0;
  for (int r = 0; r < w.ranks; ++r) s += pattern(r, std::uint64_t(w.rank) * w.count + i);
  return s;
}

class ReduceScatter final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    t_ = dtype_from(params.text("dtype"));
    in_place_ = params.boolean("in_place");
    count_ = elements_per_rank(kC, params.size("size"), dtype_bytes(t_), size_);
    const std::uint64_t total_bytes = count_ * std::uint64_t(size_) * dtype_bytes(t_);
    params.resolve("size", std::to_string(total_bytes));
    // OSU's message size is the whole send buffer (osu_reduce_scatter).
    iterations_ = params.is_auto("iterations") ? auto_iterations(total_bytes) : params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    send_ = Buffer(t_, count_ * std::uint64_t(size_));
    if (!in_place_) recv_ = Buffer(t_, count_);
    fill_pattern(send_, t_, rank_);
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k) reduce_scatter();
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked(fmt::format("one {}reduce-scatter of pattern(rank, j) = rank % 13 + 1 + j % 7 after fresh inputs: "
                               "on rank q every element i of the result == the sum over ranks of pattern(r, q * count "
                               "+ i), exactly",
                               in_place_ ? "in-place " : ""));
  }

  core::WorkModel work() const override {
    const double bytes = algbw_bytes(kC, count_, dtype_bytes(t_), size_) * double(iterations_);
    return {0, bytes, double(iterations_), bytes * bus_factor(kC, size_)};
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("MPI_Reduce_scatter_block(MPI_SUM, {} x {} to each rank{})", count_,
                                      dtype_name(t_), in_place_ ? ", MPI_IN_PLACE" : "")},
            {"bus_factor", fmt::format("(n-1)/n = {:.4f}", bus_factor(kC, size_))}};
  }

 private:
  // In place, the input is the whole send_ and the rank's result replaces its first count elements.
  void reduce_scatter() {
    CONVERGE_MPI_CHECK(MPI_Reduce_scatter_block(in_place_ ? MPI_IN_PLACE : send_.data(),
                                                in_place_ ? send_.data() : recv_.data(), int(count_), mpi_type(t_),
                                                MPI_SUM, comm_));
  }

  // Fresh inputs, one operation, compare (outside any timed region).
  void check() {
    Buffer& out = in_place_ ? send_ : recv_;
    fill_pattern(send_, t_, rank_);
    if (!in_place_) fill_value(recv_, t_, -1);
    reduce_scatter();
    if (rank_ == corrupt_rank_) corrupt_one(out, t_, count_);
    ++checks_;
    double got = 0;
    const Where here{rank_, size_, count_};
    if (const auto bad = first_mismatch(out, t_, count_, expected_block_sum, &here, &got))
      record_failure(
          fmt::format("element {}: {} != {} (check {})", *bad, got, expected_block_sum(*bad, &here), checks_));
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
  return {"collectives.mpi.reduce_scatter", "collectives", "mpi",
          "MPI_Reduce_scatter_block (sum): latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
          {size_param("8", "bytes reduced per rank, each rank ending with size/n (nccl-tests' size; OSU's message "
                           "size)"),
           dtype_param(), in_place_param(), iterations_param(), check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<ReduceScatter>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_reduce_scatter, spec());

}  // namespace converge::collectives::mpi
