#include "collectives/mpi/collective_common.hpp"

#include <fmt/format.h>

namespace converge::collectives::mpi {

double pattern_sum(int ranks, std::uint64_t i) {
  double s = 0;
  for (int r = 0; r < ranks; ++r) s += pattern(r, i);
  return s;
}

std::uint64_t osu_message_bytes(Collective c, std::uint64_t elems_per_rank, std::uint64_t elem_bytes, int n) {
  const std::uint64_t block = elems_per_rank * elem_bytes;
  return c == Collective::reduce_scatter ? block * std::uint64_t(n) : block;
}

bool rooted(Collective c) {
  return c == Collective::reduce || c == Collective::bcast || c == Collective::gather || c == Collective::scatter;
}

namespace {

// bus_factor()'s formula, as notes.bus_factor writes it.
const char* bus_factor_formula(Collective c) {
  switch (c) {
    case Collective::allreduce: return "2(n-1)/n";
    case Collective::reduce:
    case Collective::bcast: return "1";
    default: return "(n-1)/n";
  }
}

}  // namespace

core::SetupStatus CollectiveBenchmark::setup(core::ParamValues& params, const core::Context& ctx) {
  if (auto st = open(params, ctx, 2); st.kind != core::SetupStatus::Kind::ok) return st;
  t_ = dtype_from(params.text("dtype"));
  in_place_ = params.all().contains("in_place") && params.boolean("in_place");
  count_ = elements_per_rank(c_, params.size("size"), dtype_bytes(t_), size_);
  params.resolve("size", fmt::format("{:.0f}", algbw_bytes(c_, count_, dtype_bytes(t_), size_)));
  iterations_ = !rooted(c_) && params.is_auto("iterations")
                    ? auto_iterations(osu_message_bytes(c_, count_, dtype_bytes(t_), size_))
                    : params.integer("iterations");
  params.resolve("iterations", std::to_string(iterations_));
  check_every_ = int(params.integer("check_every"));
  allocate();
  fill_inputs();
  return core::SetupStatus::ok();
}

void CollectiveBenchmark::run() {
  for (std::int64_t k = 0; k < iterations_; ++k) operate();
}

void CollectiveBenchmark::after_repetition(int rep) {
  if (check_every_ > 0 && rep % check_every_ == 0) check();
}

core::Verification CollectiveBenchmark::verify() {
  check();
  return checked(method());
}

core::WorkModel CollectiveBenchmark::work() const {
  const double bytes = algbw_bytes(c_, count_, dtype_bytes(t_), size_) * double(iterations_);
  return {0, bytes, double(iterations_), bytes * bus_factor(c_, size_)};
}

std::string CollectiveBenchmark::where(std::uint64_t i) const { return fmt::format("element {}", i); }

std::map<std::string, std::string> CollectiveBenchmark::extra_notes() const {
  return {{"operation", operation()},
          {"bus_factor", fmt::format("{} = {:.4f}", bus_factor_formula(c_), bus_factor(c_, size_))}};
}

void CollectiveBenchmark::check() {
  fill_inputs();
  operate();
  const Output out = output();
  if (rank_ == corrupt_rank_) corrupt_one(out.buffer, t_, out.count);
  ++checks_;
  double got = 0;
  const auto want = [](std::uint64_t i, const void* self) {
    return static_cast<const CollectiveBenchmark*>(self)->expected(i);
  };
  if (const auto bad = first_mismatch(out.buffer, t_, out.count, want, this, &got))
    record_failure(fmt::format("{}: {} != {} (check {})", where(*bad), got, expected(*bad), checks_));
  fill_inputs();  // the timed operations go on with the documented input
}

core::BenchmarkSpec collective_spec(Collective c, std::string summary, std::string size_doc, InPlace in_place,
                                    std::function<std::unique_ptr<core::Benchmark>()> make) {
  std::vector<core::ParamSpec> params{size_param("8", size_doc), dtype_param()};
  if (in_place == InPlace::yes) params.push_back(in_place_param());
  params.push_back(rooted(c) ? rooted_iterations_param() : iterations_param());
  params.push_back(check_every_param());
  return {fmt::format("collectives.mpi.{}", to_string(c)),
          "collectives",
          "mpi",
          std::move(summary),
          std::move(params),
          {{"latency", "s", core::MetricKind::time_per_item, core::Quantity::items, core::Direction::lower_is_better},
           {"algbw", "B/s", core::MetricKind::rate, core::Quantity::bytes, core::Direction::higher_is_better},
           {"busbw", "B/s", core::MetricKind::rate, core::Quantity::bus_bytes, core::Direction::higher_is_better}},
          std::move(make)};
}

}  // namespace converge::collectives::mpi
