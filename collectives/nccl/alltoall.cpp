// collectives.nccl.alltoall: all-to-all of `size` bytes per rank (nccl-tests' size: each rank's
// whole send buffer, size/n to each peer), built from ncclSend/ncclRecv to every peer inside one
// ncclGroupStart/End as nccl-tests' alltoall.cu does; `iterations` operations per timed
// repetition, algbw and busbw ((n-1)/n). Input: element j of rank r = pattern(r, j), block p going
// to rank p; rank r's block p must equal rank p's block r, exactly. No in-place form.
#include <fmt/format.h>

#include "collectives/nccl/nccl_common.hpp"

namespace converge::collectives::nccl {
namespace {

constexpr Collective kC = Collective::alltoall;

class Alltoall final : public NcclBenchmark {
 public:
  Alltoall() : NcclBenchmark("alltoall", kC, false) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx); st.kind != core::SetupStatus::Kind::ok || !opened()) return st;
    send_ = device_elements(total());
    recv_ = device_elements(total());
    in_host_ = HostData(t_, total());
    fill_pattern(in_host_, rank_);
    upload();
    return core::SetupStatus::ok();
  }

 protected:
  void enqueue() override {
    CONVERGE_NCCL_CHECK(ncclGroupStart());
    for (int p = 0; p < size_; ++p) {
      CONVERGE_NCCL_CHECK(ncclSend(at(send_, std::uint64_t(p) * count_), count_, type(), p, comm(), stream()));
      CONVERGE_NCCL_CHECK(ncclRecv(at(recv_, std::uint64_t(p) * count_), count_, type(), p, comm(), stream()));
    }
    CONVERGE_NCCL_CHECK(ncclGroupEnd());
  }
  Output output() const override { return {&recv_, 0, total()}; }
  double expected(std::uint64_t i) const override { return expect::alltoall(rank_, count_, i); }
  std::string where(std::uint64_t i) const override {
    return fmt::format("element {} (from rank {}, element {})", i, i / count_, i % count_);
  }
  std::string check_method() const override {
    return "block p of rank r's result == block r of rank p's input, pattern(p, r * count + k), exactly";
  }
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("ncclGroupStart; ncclSend + ncclRecv of {} x {} with each of the {} ranks; "
                                      "ncclGroupEnd", count_, dtype_name(t_), size_)}};
  }

 private:
  std::uint64_t total() const { return count_ * std::uint64_t(size_); }
};

core::BenchmarkSpec spec() {
  return {"collectives.nccl.alltoall", "collectives", "nccl",
          "all-to-all from ncclSend/ncclRecv in one group, one GPU per rank: latency per operation, algbw and busbw "
          "(nccl-tests factor (n-1)/n)",
          nccl_params("bytes each rank sends in total (nccl-tests' size; size/n to each rank)"), nccl_metrics(),
          [] { return std::make_unique<Alltoall>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(nccl_alltoall, spec());

}  // namespace converge::collectives::nccl
