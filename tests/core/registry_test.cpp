#include <gtest/gtest.h>

#include "core/benchmark.hpp"

using namespace converge::core;

namespace {
class Nop : public Benchmark {
 public:
  SetupStatus setup(ParamValues&, const Context&) override { return SetupStatus::ok(); }
  void run() override {}
  Verification verify() override { return Verification::passed("nothing to check"); }
  WorkModel work() const override { return {}; }
};
BenchmarkSpec nop(const std::string& id) {
  return {id, "test", "cpu", "does nothing", {}, {}, [] { return std::make_unique<Nop>(); }};
}
CONVERGE_REGISTER_BENCHMARK(registry_nop_a, nop("test.registry.alpha"));
CONVERGE_REGISTER_BENCHMARK(registry_nop_b, nop("test.registry.beta"));
}  // namespace

TEST(Registry, StaticRegistrationIsVisibleAndSorted) {
  const auto& all = Registry::instance().all();
  ASSERT_NE(Registry::instance().find("test.registry.alpha"), nullptr);
  ASSERT_NE(Registry::instance().find("test.registry.beta"), nullptr);
  EXPECT_EQ(Registry::instance().find("test.registry.gamma"), nullptr);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].id, all[i].id);
  auto made = Registry::instance().find("test.registry.alpha")->make();
  EXPECT_NE(made, nullptr);
}

TEST(Registry, NearestNames) {
  auto near = Registry::instance().nearest("test.registry.alhpa");
  ASSERT_FALSE(near.empty());
  EXPECT_EQ(near.front(), "test.registry.alpha");
  // A fragment contained in an id ranks first.
  auto frag = nearest_names("triad", {"micro.stream.copy", "micro.stream.triad", "micro.stream_nt.triad"});
  ASSERT_EQ(frag.size(), 2u);
  EXPECT_EQ(frag[0], "micro.stream.triad");
  EXPECT_TRUE(nearest_names("zzzzzzzz", {"micro.stream.copy"}).empty());
}

TEST(RegistryDeathTest, DuplicateIdAborts) {
  EXPECT_DEATH(Registry::instance().add(nop("test.registry.alpha")), "registered twice");
}
