// collectives.mpi.allreduce: MPI_Allreduce (sum) of `size` bytes per rank, `iterations`
// back-to-back operations per timed repetition (OSU's iteration counts, nccl-tests' batch
// timing), nccl-tests' algbw and busbw (2(n-1)/n). Input: element i of rank r = pattern(r, i); every rank's result
// must equal the sum over ranks, exactly (small integers).
#include <fmt/format.h>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::allreduce;

double expected_sum(std::uint64_t i, const void* arg) {
  const int n = *static_cast<const int*>(arg);
  double s = 0;
  for (int r = 0; r < n; ++r) s += pattern(r, i);
  return s;
}

class Allreduce final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    t_ = dtype_from(params.text("dtype"));
    in_place_ = params.boolean("in_place");
    count_ = elements_per_rank(kC, params.size("size"), dtype_bytes(t_), size_);
    params.resolve("size", std::to_string(count_ * dtype_bytes(t_)));
    iterations_ = params.is_auto("iterations") ? auto_iterations(count_ * dtype_bytes(t_)) : params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    send_ = Buffer(t_, count_), recv_ = Buffer(t_, count_);
    fill_pattern(send_, t_, rank_);
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k)
      CONVERGE_MPI_CHECK(MPI_Allreduce(in_place_ ? MPI_IN_PLACE : send_.data(), in_place_ ? send_.data() : recv_.data(),
                                       int(count_), mpi_type(t_), MPI_SUM, comm_));
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked(fmt::format("one {}allreduce of pattern(rank, i) = rank % 13 + 1 + i % 7 after fresh inputs: every "
                               "element == the sum over ranks, exactly",
                               in_place_ ? "in-place " : ""));
  }

  core::WorkModel work() const override {
    const double bytes = algbw_bytes(kC, count_, dtype_bytes(t_), size_) * double(iterations_);
    return {0, bytes, double(iterations_), bytes * bus_factor(kC, size_)};
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("MPI_Allreduce(MPI_SUM, {} x {}{})", count_, dtype_name(t_),
                                      in_place_ ? ", MPI_IN_PLACE" : "")},
            {"bus_factor", fmt::format("2(n-1)/n = {:.4f}", bus_factor(kC, size_))}};
  }

 private:
  // Fresh inputs, one operation, compare (outside any timed region; in-place runs overwrite
  // their input, and out-of-place ones are checked the same way for uniformity).
  void check() {
    Buffer& out = in_place_ ? send_ : recv_;
    fill_pattern(send_, t_, rank_);
    if (!in_place_) fill_value(recv_, t_, -1);
    CONVERGE_MPI_CHECK(MPI_Allreduce(in_place_ ? MPI_IN_PLACE : send_.data(), out.data(), int(count_), mpi_type(t_),
                                     MPI_SUM, comm_));
    if (rank_ == corrupt_rank_) corrupt_one(out, t_, count_);
    ++checks_;
    double got = 0;
    if (const auto bad = first_mismatch(out, t_, count_, expected_sum, &size_, &got))
      record_failure(fmt::format("element {}: {} != {} (check {})", *bad, got, expected_sum(*bad, &size_), checks_));
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
  return {"collectives.mpi.allreduce", "collectives", "mpi",
          "MPI_Allreduce (sum): latency per operation, algbw and busbw (nccl-tests factor 2(n-1)/n)",
          {size_param("8", "bytes per rank (nccl-tests' size; OSU's message size)"), dtype_param(), in_place_param(),
           iterations_param(), check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<Allreduce>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_allreduce, spec());

}  // namespace converge::collectives::mpi
