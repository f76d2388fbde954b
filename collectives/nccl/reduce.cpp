// collectives.nccl.reduce: ncclReduce (sum) of `size` bytes per rank to root 0 (nccl-tests'
// default root), `iterations` operations per timed repetition (nccl-tests' reduce.cu), algbw and
// busbw (factor 1). Input: element i of rank r = pattern(r, i); the root's result must equal the
// sum over ranks, exactly. Only the root receives, so only the root has output to check.
#include <fmt/format.h>

#include "collectives/nccl/nccl_common.hpp"

namespace converge::collectives::nccl {
namespace {

constexpr Collective kC = Collective::reduce;
constexpr int kRoot = 0;

class Reduce final : public NcclBenchmark {
 public:
  Reduce() : NcclBenchmark("reduce", kC, true) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx); st.kind != core::SetupStatus::Kind::ok || !opened()) return st;
    send_ = device_elements(count_);
    if (!in_place_) recv_ = device_elements(count_);  // every rank passes one, as nccl-tests does
    in_host_ = HostData(t_, count_);
    fill_pattern(in_host_, rank_);
    upload();
    return core::SetupStatus::ok();
  }

 protected:
  void enqueue() override {
    CONVERGE_NCCL_CHECK(ncclReduce(send_.data(), in_place_ ? send_.data() : recv_.data(), count_, type(), ncclSum,
                                   kRoot, comm(), stream()));
  }
  Output output() const override {
    if (rank_ != kRoot) return {};
    return {in_place_ ? &send_ : &recv_, 0, count_};
  }
  double expected(std::uint64_t i) const override { return expect::sum(size_, i); }
  std::string where(std::uint64_t i) const override { return fmt::format("element {} of root {}'s result", i, kRoot); }
  std::string check_method() const override {
    return "every element of the root's result == the sum over ranks, exactly (other ranks receive nothing)";
  }
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("ncclReduce(ncclSum, root {}, {} x {}{})", kRoot, count_, dtype_name(t_),
                                      in_place_ ? ", in place" : "")}};
  }
};

core::BenchmarkSpec spec() {
  return {"collectives.nccl.reduce", "collectives", "nccl",
          "ncclReduce (sum) to rank 0, one GPU per rank: latency per operation, algbw and busbw (nccl-tests factor 1)",
          nccl_params("bytes per rank (nccl-tests' size)"), nccl_metrics(),
          [] { return std::make_unique<Reduce>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(nccl_reduce, spec());

}  // namespace converge::collectives::nccl
