// collectives.nccl.allreduce: ncclAllReduce (sum) of `size` bytes per rank, `iterations`
// back-to-back operations per timed repetition on the rank's stream (nccl-tests' all_reduce.cu,
// OSU's iteration counts), nccl-tests' algbw and busbw (2(n-1)/n). Input: element i of rank r =
// pattern(r, i); every rank's result must equal the sum over ranks, exactly.
#include <fmt/format.h>

#include "collectives/nccl/nccl_common.hpp"

namespace converge::collectives::nccl {
namespace {

constexpr Collective kC = Collective::allreduce;

class Allreduce final : public NcclBenchmark {
 public:
  Allreduce() : NcclBenchmark("allreduce", kC, true) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx); st.kind != core::SetupStatus::Kind::ok || !opened()) return st;
    send_ = device_elements(count_);
    if (!in_place_) recv_ = device_elements(count_);
    in_host_ = HostData(t_, count_);
    fill_pattern(in_host_, rank_);
    upload();
    return core::SetupStatus::ok();
  }

 protected:
  void enqueue() override {
    CONVERGE_NCCL_CHECK(ncclAllReduce(send_.data(), in_place_ ? send_.data() : recv_.data(), count_, type(), ncclSum,
                                      comm(), stream()));
  }
  Output output() const override { return {in_place_ ? &send_ : &recv_, 0, count_}; }
  double expected(std::uint64_t i) const override { return expect::sum(size_, i); }
  std::string check_method() const override { return "every element == the sum over ranks, exactly"; }
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("ncclAllReduce(ncclSum, {} x {}{})", count_, dtype_name(t_),
                                      in_place_ ? ", in place" : "")}};
  }
};

core::BenchmarkSpec spec() {
  return {"collectives.nccl.allreduce", "collectives", "nccl",
          "ncclAllReduce (sum), one GPU per rank: latency per operation, algbw and busbw (nccl-tests factor 2(n-1)/n)",
          nccl_params("bytes per rank (nccl-tests' size)"), nccl_metrics(),
          [] { return std::make_unique<Allreduce>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(nccl_allreduce, spec());

}  // namespace converge::collectives::nccl
