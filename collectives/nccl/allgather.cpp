// collectives.nccl.allgather: ncclAllGather of `size` bytes in total (nccl-tests' size: each of
// the n ranks sends size/n), `iterations` operations per timed repetition (nccl-tests'
// all_gather.cu), algbw and busbw ((n-1)/n). Input: element i of rank r's block = pattern(r, i);
// every rank's result must hold every rank's block in rank order, exactly. In place, a rank's
// block already sits at its offset of the result buffer (the rest holds the sentinel).
#include <fmt/format.h>

#include "collectives/nccl/nccl_common.hpp"

namespace converge::collectives::nccl {
namespace {

constexpr Collective kC = Collective::allgather;

class Allgather final : public NcclBenchmark {
 public:
  Allgather() : NcclBenchmark("allgather", kC, true) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx); st.kind != core::SetupStatus::Kind::ok || !opened()) return st;
    const std::uint64_t total = count_ * std::uint64_t(size_);
    if (in_place_) {
      send_ = device_elements(total);
      in_host_ = HostData(t_, total);
      fill_sentinel(in_host_);
      fill_pattern(in_host_, rank_, 0, own(), own() + count_);
    } else {
      send_ = device_elements(count_);
      recv_ = device_elements(total);
      in_host_ = HostData(t_, count_);
      fill_pattern(in_host_, rank_);
    }
    upload();
    return core::SetupStatus::ok();
  }

 protected:
  void enqueue() override {
    CONVERGE_NCCL_CHECK(ncclAllGather(in_place_ ? at(send_, own()) : send_.data(),
                                      in_place_ ? send_.data() : recv_.data(), count_, type(), comm(), stream()));
  }
  Output output() const override { return {in_place_ ? &send_ : &recv_, 0, count_ * std::uint64_t(size_)}; }
  double expected(std::uint64_t i) const override { return expect::allgather(count_, i); }
  std::string where(std::uint64_t i) const override {
    return fmt::format("element {} (rank {}'s block, element {})", i, i / count_, i % count_);
  }
  std::string check_method() const override {
    return "element i of the result == pattern(i / count, i % count) (rank r's block from rank r), exactly";
  }
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("ncclAllGather({} x {} per rank{})", count_, dtype_name(t_),
                                      in_place_ ? ", in place" : "")}};
  }

 private:
  std::uint64_t own() const { return std::uint64_t(rank_) * count_; }  // this rank's block in the result
};

core::BenchmarkSpec spec() {
  return {"collectives.nccl.allgather", "collectives", "nccl",
          "ncclAllGather, one GPU per rank: latency per operation, algbw and busbw (nccl-tests factor (n-1)/n)",
          nccl_params("bytes gathered in total (nccl-tests' size; each rank sends size/n)"), nccl_metrics(),
          [] { return std::make_unique<Allgather>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(nccl_allgather, spec());

}  // namespace converge::collectives::nccl
