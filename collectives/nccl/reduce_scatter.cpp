// collectives.nccl.reduce_scatter: ncclReduceScatter (sum) of `size` bytes per rank (nccl-tests'
// size: the whole input; each rank ends with size/n), `iterations` operations per timed
// repetition (nccl-tests' reduce_scatter.cu), algbw and busbw ((n-1)/n). Input: element j of rank
// r = pattern(r, j); rank r's result element i must equal the sum over ranks of element
// r * count + i, exactly. In place, rank r's result is block r of its input buffer.
#include <fmt/format.h>

#include "collectives/nccl/nccl_common.hpp"

namespace converge::collectives::nccl {
namespace {

constexpr Collective kC = Collective::reduce_scatter;

class ReduceScatter final : public NcclBenchmark {
 public:
  ReduceScatter() : NcclBenchmark("reduce_scatter", kC, true) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx); st.kind != core::SetupStatus::Kind::ok || !opened()) return st;
    const std::uint64_t total = count_ * std::uint64_t(size_);
    send_ = device_elements(total);
    if (!in_place_) recv_ = device_elements(count_);
    in_host_ = HostData(t_, total);
    fill_pattern(in_host_, rank_);
    upload();
    return core::SetupStatus::ok();
  }

 protected:
  void enqueue() override {
    CONVERGE_NCCL_CHECK(ncclReduceScatter(send_.data(), in_place_ ? at(send_, own()) : recv_.data(), count_, type(),
                                          ncclSum, comm(), stream()));
  }
  Output output() const override { return in_place_ ? Output{&send_, own(), count_} : Output{&recv_, 0, count_}; }
  double expected(std::uint64_t i) const override { return expect::reduce_scatter(size_, rank_, count_, i); }
  std::string where(std::uint64_t i) const override {
    return fmt::format("element {} (element {} of the reduced input)", i, own() + i);
  }
  std::string check_method() const override {
    return "rank r's element i == the sum over ranks of pattern(rank, r * count + i), exactly";
  }
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("ncclReduceScatter(ncclSum, {} x {} per rank out of {}{})", count_,
                                      dtype_name(t_), count_ * std::uint64_t(size_), in_place_ ? ", in place" : "")}};
  }

 private:
  std::uint64_t own() const { return std::uint64_t(rank_) * count_; }  // this rank's block of the input
};

core::BenchmarkSpec spec() {
  return {"collectives.nccl.reduce_scatter", "collectives", "nccl",
          "ncclReduceScatter (sum), one GPU per rank: latency per operation, algbw and busbw (nccl-tests factor "
          "(n-1)/n)",
          nccl_params("bytes each rank contributes (nccl-tests' size; each rank ends with size/n)"), nccl_metrics(),
          [] { return std::make_unique<ReduceScatter>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(nccl_reduce_scatter, spec());

}  // namespace converge::collectives::nccl
