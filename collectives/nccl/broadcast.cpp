// collectives.nccl.broadcast: ncclBroadcast of `size` bytes from root 0 (nccl-tests' default
// root), `iterations` operations per timed repetition (nccl-tests' broadcast.cu), algbw and busbw
// (factor 1). Input: element i of rank r = pattern(r, i) on every rank; every rank's result must
// equal the root's input, pattern(0, i), exactly (the root's own output included).
#include <fmt/format.h>

#include "collectives/nccl/nccl_common.hpp"

namespace converge::collectives::nccl {
namespace {

constexpr Collective kC = Collective::bcast;
constexpr int kRoot = 0;

class Broadcast final : public NcclBenchmark {
 public:
  Broadcast() : NcclBenchmark("broadcast", kC, true) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx); st.kind != core::SetupStatus::Kind::ok || !opened()) return st;
    send_ = device_elements(count_);
    if (!in_place_) recv_ = device_elements(count_);
    in_host_ = HostData(t_, count_);
    fill_pattern(in_host_, rank_);  // non-root ranks' inputs differ from the root's: a no-op shows
    upload();
    return core::SetupStatus::ok();
  }

 protected:
  void enqueue() override {
    CONVERGE_NCCL_CHECK(ncclBroadcast(send_.data(), in_place_ ? send_.data() : recv_.data(), count_, type(), kRoot,
                                      comm(), stream()));
  }
  Output output() const override { return {in_place_ ? &send_ : &recv_, 0, count_}; }
  double expected(std::uint64_t i) const override { return expect::broadcast(kRoot, i); }
  std::string where(std::uint64_t i) const override { return fmt::format("element {} (from root {})", i, kRoot); }
  std::string check_method() const override { return "every element == the root's input pattern(0, i), exactly"; }
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("ncclBroadcast(root {}, {} x {}{})", kRoot, count_, dtype_name(t_),
                                      in_place_ ? ", in place" : "")}};
  }
};

core::BenchmarkSpec spec() {
  return {"collectives.nccl.broadcast", "collectives", "nccl",
          "ncclBroadcast from rank 0, one GPU per rank: latency per operation, algbw and busbw (nccl-tests factor 1)",
          nccl_params("bytes broadcast (nccl-tests' size)"), nccl_metrics(),
          [] { return std::make_unique<Broadcast>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(nccl_broadcast, spec());

}  // namespace converge::collectives::nccl
