// micro.latency.chase: load-to-use latency of a working set, by a random pointer chase
// (lmbench lat_mem_rd, but random rather than strided so no prefetcher can follow). Each node
// is one 64-byte line whose first word points to the next; Sattolo's algorithm makes the order
// a single cycle through every node. One thread: the chain is one dependency, so each load
// waits for the previous one and time / loads is the latency (TLB misses included, reduced by
// transparent huge pages where granted).
#include <cstdint>
#include <random>
#include <vector>

#include "micro/cpu/cpu_common.hpp"
#include "micro/cpu/work_models.hpp"

namespace converge::micro {
namespace {

struct alignas(64) Node {
  const Node* next;
};
static_assert(sizeof(Node) == 64, "one node per cache line");

/// Follows `loads` links from `p`. Every load's address is the previous load's value, so the
/// compiler can neither hoist nor overlap them; the end is returned and stored by the caller.
[[gnu::noinline]] const Node* chase(const Node* p, std::uint64_t loads) {
  std::uint64_t i = 0;
  for (; i + 8 <= loads; i += 8) {  // unrolled: the counter update hides under the load anyway
    p = p->next, p = p->next, p = p->next, p = p->next;
    p = p->next, p = p->next, p = p->next, p = p->next;
  }
  for (; i < loads; ++i) p = p->next;
  return p;
}

class Latency final : public core::Benchmark {
 public:
  core::SetupStatus setup(core::ParamValues& params, const core::Context&) override {
    nodes_ = std::max<std::uint64_t>(2, params.size("size") / sizeof(Node));
    params.resolve("size", std::to_string(nodes_ * sizeof(Node)));
    // Whole laps only (rounded up), so that verify() can require the chase to end at its start.
    loads_ = latency_auto_loads(nodes_, params.is_auto("loads") ? 1000000 : params.integer("loads"));
    params.resolve("loads", std::to_string(loads_));
    seed_ = std::uint64_t(params.integer("seed"));

    // Sattolo's algorithm: a uniformly random cyclic permutation, i.e. one cycle of length n.
    std::vector<std::uint32_t> next(nodes_);
    for (std::uint64_t i = 0; i < nodes_; ++i) next[i] = std::uint32_t(i);
    std::mt19937_64 rng(seed_);
    for (std::uint64_t i = nodes_ - 1; i > 0; --i) {
      const std::uint64_t j = std::uniform_int_distribution<std::uint64_t>(0, i - 1)(rng);
      std::swap(next[i], next[j]);
    }
    buf_ = Buffer<Node>(nodes_);
    for (std::uint64_t i = 0; i < nodes_; ++i) buf_[i].next = &buf_[next[i]];
    start_ = end_ = &buf_[0];
    return core::SetupStatus::ok();
  }

  void run() override { end_ = chase(start_, loads_); }

  /// loads is a whole number of laps, so the chase must end at its start; and walking the
  /// chain once must return to the start after exactly `nodes` steps (one intact cycle).
  core::Verification verify() override {
    const std::string method = "chase ends at its start after whole laps; chain is one cycle of all nodes";
    if (end_ != start_) {
      return core::Verification::failed(method, "chase ended at node " + std::to_string(end_ - &buf_[0]) +
                                                    ", expected node 0");
    }
    std::uint64_t steps = 0;
    const Node* p = start_;
    do {
      p = p->next;
    } while (++steps < nodes_ && p != start_);
    if (p != start_ || steps != nodes_) {
      return core::Verification::failed(method, "cycle through node 0 is not " + std::to_string(nodes_) + " nodes long");
    }
    return core::Verification::passed(method);
  }

  core::WorkModel work() const override { return latency_work(loads_); }

  std::map<std::string, std::string> notes() const override {
    return {{"threads", "1"},
            {"nodes", std::to_string(nodes_) + " x 64 B lines"},
            {"order", "random single cycle (Sattolo, mt19937_64 seed " + std::to_string(seed_) + ")"},
            {"huge_pages", huge_page_note(buf_)},
            {"kernel", "dependent loads p = p->next, 8x unrolled"}};
  }

 private:
  std::uint64_t nodes_ = 0, loads_ = 0, seed_ = 0;
  Buffer<Node> buf_;
  const Node* start_ = nullptr;
  const Node* end_ = nullptr;
};

}  // namespace

CONVERGE_REGISTER_BENCHMARK(
    latency_chase,
    (core::BenchmarkSpec{
        "micro.latency.chase", "micro", "cpu",
        "load-to-use latency: random pointer chase over a working set, one thread",
        {{"size", core::ParamType::size, "64MiB", "working set in bytes (one node per 64-byte line)", {}, 128.0,
          std::nullopt},
         {"loads", core::ParamType::integer, "auto",
          "dependent loads per repetition, rounded up to whole laps of size/64 nodes (auto = >= 1e6)", {}, 1.0,
          std::nullopt},
         {"seed", core::ParamType::integer, "42", "seed of the random cycle", {}, 0.0, std::nullopt}},
        {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better}},
        [] { return std::make_unique<Latency>(); }}));

}  // namespace converge::micro
