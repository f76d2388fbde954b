// collectives.nccl.sendrecv: a ring of point-to-point transfers, each rank sending `size` bytes to
// rank + 1 and receiving as many from rank - 1 (mod n) in one ncclGroupStart/End, as nccl-tests'
// sendrecv.cu; `iterations` operations per timed repetition. Work model: bcast's in
// collectives/bus_factor.hpp (size = each rank's buffer, algbw = size / time, bus factor 1, as
// nccl-tests). Input: element i of rank r = pattern(r, i); rank r's result must equal rank
// r - 1's input, exactly. No in-place form.
#include <fmt/format.h>

#include "collectives/nccl/nccl_common.hpp"

namespace converge::collectives::nccl {
namespace {

constexpr Collective kModel = Collective::bcast;  // sendrecv is not in bus_factor.hpp's list; same formulas

class Sendrecv final : public NcclBenchmark {
 public:
  Sendrecv() : NcclBenchmark("sendrecv", kModel, false) {}

  core::SetupStatus setup(core::ParamValues& params, const core::Context& ctx) override {
    if (auto st = open(params, ctx); st.kind != core::SetupStatus::Kind::ok || !opened()) return st;
    send_ = device_elements(count_);
    recv_ = device_elements(count_);
    in_host_ = HostData(t_, count_);
    fill_pattern(in_host_, rank_);
    upload();
    return core::SetupStatus::ok();
  }

 protected:
  void enqueue() override {
    CONVERGE_NCCL_CHECK(ncclGroupStart());
    CONVERGE_NCCL_CHECK(ncclSend(send_.data(), count_, type(), next(), comm(), stream()));
    CONVERGE_NCCL_CHECK(ncclRecv(recv_.data(), count_, type(), prev(), comm(), stream()));
    CONVERGE_NCCL_CHECK(ncclGroupEnd());
  }
  Output output() const override { return {&recv_, 0, count_}; }
  double expected(std::uint64_t i) const override { return expect::sendrecv(size_, rank_, i); }
  std::string where(std::uint64_t i) const override { return fmt::format("element {} (from rank {})", i, prev()); }
  std::string check_method() const override {
    return "every element received == the sending rank's input pattern(rank - 1, i), exactly";
  }
  std::map<std::string, std::string> extra_notes() const override {
    return {{"operation", fmt::format("ncclGroupStart; ncclSend {} x {} to rank {}; ncclRecv from rank {}; "
                                      "ncclGroupEnd", count_, dtype_name(t_), next(), prev())}};
  }

 private:
  int next() const { return (rank_ + 1) % size_; }
  int prev() const { return (rank_ - 1 + size_) % size_; }
};

core::BenchmarkSpec spec() {
  return {"collectives.nccl.sendrecv", "collectives", "nccl",
          "ring of ncclSend/ncclRecv (rank r to r + 1), one GPU per rank: latency per operation, algbw and busbw "
          "(nccl-tests factor 1)",
          nccl_params("bytes each rank sends (nccl-tests' size)"), nccl_metrics(),
          [] { return std::make_unique<Sendrecv>(); }};
}

}  // namespace

CONVERGE_REGISTER_BENCHMARK(nccl_sendrecv, spec());

}  // namespace converge::collectives::nccl
