// collectives.mpi.gather: MPI_Gather to root 0 of `size` bytes in total, size/n from each
// rank, `iterations` back-to-back operations per timed repetition (OSU's osu_gather count),
// nccl-tests' algbw and busbw ((n-1)/n). Input: element i of rank r = pattern(r, i); at the
// root, block r of the result must hold rank r's pattern, exactly; the other ranks, which
// receive nothing, check that their send buffer came back unchanged (MPI may not write it).
#include <cstring>

#include <fmt/format.h>

#include "collectives/mpi/mpi_common.hpp"

namespace converge::collectives::mpi {
namespace {

constexpr Collective kC = Collective::gather;
constexpr int kRoot = 0;

// Element j of the gathered buffer: element j % count of rank j / count.
double expected_gathered(std::uint64_t j, const void* arg) {
  const std::uint64_t count = *static_cast<const std::uint64_t*>(arg);
  return pattern(int(j / count), j % count);
}

double expected_own(std::uint64_t i, const void* arg) { return pattern(*static_cast<const int*>(arg), i); }

class Gather final : public MpiBenchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
    t_ = dtype_from(params.text("dtype"));
    in_place_ = params.boolean("in_place");
    count_ = elements_per_rank(kC, params.size("size"), dtype_bytes(t_), size_);
    params.resolve("size", fmt::format("{:.0f}", algbw_bytes(kC, count_, dtype_bytes(t_), size_)));
    // OSU's message size is what each rank sends.
    iterations_ = params.integer("iterations");
    params.resolve("iterations", std::to_string(iterations_));
    check_every_ = int(params.integer("check_every"));
    send_ = Buffer(t_, count_);
    if (rank_ == kRoot) recv_ = Buffer(t_, count_ * std::uint64_t(size_));  // significant at the root only
    fill_inputs();
    return core::SetupStatus::ok();
  }

  void run() override {
    for (std::int64_t k = 0; k < iterations_; ++k) gather();
  }

  void after_repetition(int rep) override {
    if (check_every_ > 0 && rep % check_every_ == 0) check();
  }

  core::Verification verify() override {
    check();
    return checked(fmt::format("one {}gather to rank 0 of pattern(rank, i) = rank % 13 + 1 + i % 7 after fresh "
                               "inputs, the root's receive buffer reset to -1{}: at the root every element of block r "
                               "== rank r's pattern, exactly; at the other ranks every element of the send buffer "
                               "unchanged",
                               in_place_ ? "in-place " : "", in_place_ ? " except its own block" : ""));
  }

  core::WorkModel work() const override {
    const double bytes = algbw_bytes(kC, count_, dtype_bytes(t_), size_) * double(iterations_);
    return {0, bytes, double(iterations_), bytes * bus_factor(kC, size_)};
  }

 protected:
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("MPI_Gather(root {}, {} x {} from each rank{})", kRoot, count_, dtype_name(t_),
                                      in_place_ ? ", MPI_IN_PLACE at the root" : "")},
            {"bus_factor", fmt::format("(n-1)/n = {:.4f}", bus_factor(kC, size_))}};
  }

 private:
  // In place (at the root only), the root's block is already at its place in the receive buffer.
  void gather() {
    const int c = int(count_);
    const bool root = rank_ == kRoot;
    if (root && in_place_)
      CONVERGE_MPI_CHECK(MPI_Gather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv_.data(), c, mpi_type(t_), kRoot, comm_));
    else
      CONVERGE_MPI_CHECK(MPI_Gather(send_.data(), c, mpi_type(t_), root ? recv_.data() : nullptr, c, mpi_type(t_),
                                    kRoot, comm_));
  }

  // send_ = this rank's pattern; at the root recv_ = -1 (a sentinel no expected value equals),
  // with the root's block copied in when in place.
  void fill_inputs() {
    fill_pattern(send_, t_, rank_);
    if (rank_ != kRoot) return;
    fill_value(recv_, t_, -1);
    const std::uint64_t block = count_ * dtype_bytes(t_);
    if (in_place_) std::memcpy(static_cast<char*>(recv_.data()) + std::uint64_t(kRoot) * block, send_.data(), block);
  }

  // Fresh inputs, one operation, compare (outside any timed region).
  void check() {
    const bool root = rank_ == kRoot;
    fill_inputs();
    gather();
    Buffer& out = root ? recv_ : send_;
    const std::uint64_t n = root ? count_ * std::uint64_t(size_) : count_;
    if (rank_ == corrupt_rank_) corrupt_one(out, t_, n);
    ++checks_;
    double got = 0;
    const auto expected = root ? expected_gathered : expected_own;
    const void* arg = root ? static_cast<const void*>(&count_) : &rank_;
    const auto bad = first_mismatch(out, t_, n, expected, arg, &got);
    if (bad && root)
      record_failure(fmt::format("element {} (rank {}'s block, element {}): {} != {} (check {})", *bad, *bad / count_,
                                 *bad % count_, got, expected(*bad, arg), checks_));
    else if (bad)
      record_failure(
          fmt::format("send buffer element {}: {} != {} (check {})", *bad, got, expected(*bad, arg), checks_));
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
  return {"collectives.mpi.gather", "collectives", "mpi",
          "MPI_Gather (root 0): latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
          {size_param("8", "bytes gathered at the root, size/n from each rank (nccl-tests' size; OSU's message size "
                           "is size/n)"),
           dtype_param(), in_place_param(), rooted_iterations_param(), check_every_param()},
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          [] { return std::make_unique<Gather>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(mpi_gather, spec());

}  // namespace converge::collectives::mpi
