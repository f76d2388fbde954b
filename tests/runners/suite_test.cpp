// Suites: entry keys, policies, sweep expansion, errors; the plan's JSON form.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runners/plan.hpp"
#include "runners/suite.hpp"
#include "tests/runners/test_util.hpp"

using namespace converge::runners;
using namespace converge::runners::testing;
using converge::results::json;

// --- suites ----------------------------------------------------------------------------------

TEST(Suites, EntryKeys) {
  auto s = parse_suite("name: t\n"                            // 1
                       "policy: {warmup: 1}\n"                 // 2
                       "benchmarks:\n"                         // 3
                       "  - benchmark: micro.stream.triad\n"   // 4
                       "    repetitions: 5\n"                  // 5
                       "    budget_s: 12.5\n"                  // 6
                       "    ranks: all\n"                      // 7
                       "    partitions: [cpu, gpu]\n"          // 8
                       "    backends: cpu\n"                   // 9
                       "  - benchmark: collectives.mpi.*\n"    // 10
                       "    ranks: 4\n"                        // 11
                       "    policy: {min_time_s: 0.5}\n",      // 12
                       "t.yaml");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->name, "t");
  EXPECT_EQ(s->source, "t.yaml");
  EXPECT_EQ(s->policy, json({{"warmup", 1}}));
  ASSERT_EQ(s->instances.size(), 2u);
  const auto& a = s->instances[0];
  EXPECT_EQ(a.benchmark, "micro.stream.triad");
  EXPECT_EQ(a.line, 4);
  EXPECT_EQ(nlohmann::json::parse(a.policy.dump()),
            nlohmann::json({{"min_reps", 5}, {"max_reps", 5}, {"ci_target", 0}, {"min_time_s", 0}, {"budget_s", 12.5}}));
  EXPECT_EQ(a.ranks, "all");
  EXPECT_EQ(a.partitions, (std::vector<std::string>{"cpu", "gpu"}));
  EXPECT_EQ(a.backends, (std::vector<std::string>{"cpu"}));
  EXPECT_TRUE(a.params.empty());
  const auto& b = s->instances[1];
  EXPECT_EQ(b.benchmark, "collectives.mpi.*");
  EXPECT_EQ(b.line, 10);
  EXPECT_EQ(b.ranks, "4");
  EXPECT_EQ(b.policy, json({{"min_time_s", 0.5}}));
  EXPECT_TRUE(b.partitions.empty());
  EXPECT_TRUE(b.backends.empty());
}

TEST(Suites, RepetitionsOverrideEntryPolicy) {
  auto s = parse_suite("benchmarks:\n"
                       "  - benchmark: x.y.z\n"
                       "    policy: {min_reps: 2, ci_target: 0.05, warmup: 3}\n"
                       "    repetitions: 7\n",
                       "r.yaml");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->name, "r");
  // Key order is not part of the contract: compare as an unordered object.
  EXPECT_EQ(nlohmann::json::parse(s->instances.at(0).policy.dump()),
            nlohmann::json({{"min_reps", 7}, {"max_reps", 7}, {"ci_target", 0}, {"min_time_s", 0}, {"warmup", 3}}));
}

TEST(SuiteErrors, BadEntryValues) {
  const std::string head = "name: t\nbenchmarks:\n  - benchmark: x.y.z\n";
  EXPECT_EQ(error_of(parse_suite(head + "    ranks: 0\n", "t.yaml")),
            "t.yaml:4: ranks is a positive integer or 'all' (every task of the partition), got '0'");
  EXPECT_EQ(error_of(parse_suite(head + "    ranks: foo\n", "t.yaml")),
            "t.yaml:4: ranks is a positive integer or 'all' (every task of the partition), got 'foo'");
  EXPECT_EQ(error_of(parse_suite(head + "    params: {}\n    repetitions: 0\n", "t.yaml")),
            "t.yaml:5: repetitions must be a positive integer, got '0'");
  EXPECT_EQ(error_of(parse_suite(head + "    budget_s: 0\n", "t.yaml")),
            "t.yaml:4: budget_s must be a positive number of seconds, got '0'");
  EXPECT_EQ(error_of(parse_suite(head + "    budget_s: soon\n", "t.yaml")),
            "t.yaml:4: budget_s must be a positive number of seconds, got 'soon'");
}

TEST(SuiteErrors, UnknownEntryKey) {
  EXPECT_EQ(error_of(parse_suite("name: t\nbenchmarks:\n  - benchmark: x.y.z\n    ranks: 2\n    repetitons: 3\n",
                                 "t.yaml")),
            "t.yaml:5: unknown key 'repetitons' in a suite entry (did you mean 'repetitions'?); keys are: benchmark, "
            "params, policy, repetitions, budget_s, ranks, partitions, backends");
}

TEST(SuiteErrors, BadPolicy) {
  const std::string keys = "keys are: warmup, min_reps, max_reps, min_time_s, ci_target, budget_s";
  EXPECT_EQ(error_of(parse_suite("name: t\nbenchmarks:\n  - benchmark: x.y.z\n    policy:\n      min_rep: 3\n",
                                 "t.yaml")),
            "t.yaml:5: unknown key 'min_rep' in a policy (did you mean 'min_reps'?); " + keys);
  EXPECT_EQ(error_of(parse_suite("name: t\nbenchmarks:\n  - benchmark: x.y.z\n    policy: {warmup: lots}\n",
                                 "t.yaml")),
            "t.yaml:4: policy warmup must be a non-negative integer, got 'lots'");
  EXPECT_EQ(error_of(parse_suite("name: t\npolicy:\n  ci_target: tight\nbenchmarks: []\n", "t.yaml")),
            "t.yaml:3: policy ci_target must be a non-negative number, got 'tight'");
}

TEST(Suites, GeometricSizeSweepKeepsBinarySuffixes) {
  auto s = parse_suite("name: t\nbenchmarks:\n"
                       "  - benchmark: micro.stream.triad\n"
                       "    params: {size: {from: 8, to: 1MiB, factor: 2}}\n",
                       "t.yaml");
  ASSERT_TRUE(s) << s.error();
  std::vector<std::string> sizes;
  for (const auto& i : s->instances) {
    EXPECT_EQ(i.line, 3);
    sizes.push_back(i.params.at("size"));
  }
  EXPECT_EQ(sizes, (std::vector<std::string>{"8", "16", "32", "64", "128", "256", "512", "1KiB", "2KiB", "4KiB",
                                             "8KiB", "16KiB", "32KiB", "64KiB", "128KiB", "256KiB", "512KiB",
                                             "1MiB"}));
}

TEST(Suites, ExpandSweep) {
  auto arith = expand_sweep(json({{"from", "1"}, {"to", "10"}, {"step", "3"}}));
  ASSERT_TRUE(arith) << arith.error();
  EXPECT_EQ(*arith, (std::vector<std::string>{"1", "4", "7", "10"}));
  auto geo = expand_sweep(json({{"from", "8"}, {"to", "1MiB"}, {"factor", "2"}}));
  ASSERT_TRUE(geo) << geo.error();
  ASSERT_EQ(geo->size(), 18u);
  EXPECT_EQ(geo->front(), "8");
  EXPECT_EQ((*geo)[7], "1KiB");
  EXPECT_EQ(geo->back(), "1MiB");
  auto list = expand_sweep(json::array({"64KiB", "1MiB", "auto"}));
  ASSERT_TRUE(list) << list.error();
  EXPECT_EQ(*list, (std::vector<std::string>{"64KiB", "1MiB", "auto"}));
  auto scalar = expand_sweep(json("42"));
  ASSERT_TRUE(scalar) << scalar.error();
  EXPECT_EQ(*scalar, std::vector<std::string>{"42"});

  EXPECT_EQ(error_of(expand_sweep(json({{"from", "1"}, {"to", "10"}, {"step", "3"}, {"factor", "2"}}))),
            "a range needs exactly one of 'factor' (geometric) or 'step' (arithmetic)");
  EXPECT_EQ(error_of(expand_sweep(json({{"from", "1"}, {"to", "10"}}))),
            "a range needs exactly one of 'factor' (geometric) or 'step' (arithmetic)");
  EXPECT_EQ(error_of(expand_sweep(json({{"from", "1"}, {"to", "10"}, {"factor", "1"}}))),
            "'factor' must be a number above 1");
  EXPECT_EQ(error_of(expand_sweep(json({{"from", "1"}, {"to", "10"}, {"step", "0"}}))),
            "'step' must be a positive integer or size");
  EXPECT_EQ(error_of(expand_sweep(json({{"from", "one"}, {"to", "10"}, {"step", "1"}}))),
            "range bounds 'one' and '10' must be integers or sizes");
  EXPECT_EQ(error_of(expand_sweep(json({{"to", "10"}}))),
            "a sweep is a value, a list, {from, to, factor} or {from, to, step}");
}

TEST(Suites, CartesianProductKeepsFileOrder) {
  // z before a in the file: z varies slowest, whatever the alphabet says.
  auto s = parse_suite("name: t\nbenchmarks:\n"
                       "  - benchmark: b.c.d\n"
                       "    params:\n"
                       "      z: [1, 2]\n"
                       "      a: [x, y, w]\n"
                       "  - benchmark: b.c.e\n"
                       "    params: {n: {from: 1, to: 10, step: 3}}\n",
                       "t.yaml");
  ASSERT_TRUE(s) << s.error();
  ASSERT_EQ(s->instances.size(), 10u);
  std::vector<std::string> got;
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(s->instances[i].benchmark, "b.c.d");
    EXPECT_EQ(s->instances[i].params.size(), 2u);
    got.push_back(s->instances[i].params.at("z") + s->instances[i].params.at("a"));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"1x", "1y", "1w", "2x", "2y", "2w"}));
  std::vector<std::string> ns;
  for (std::size_t i = 6; i < 10; ++i) {
    EXPECT_EQ(s->instances[i].benchmark, "b.c.e");
    EXPECT_EQ(s->instances[i].line, 7);
    ns.push_back(s->instances[i].params.at("n"));
  }
  EXPECT_EQ(ns, (std::vector<std::string>{"1", "4", "7", "10"}));
}

TEST(SuiteErrors, BadSweepNamesParameterAndLine) {
  EXPECT_EQ(error_of(parse_suite("name: t\nbenchmarks:\n  - benchmark: b.c.d\n"
                                 "    params:\n      n: {from: 1, to: 10}\n",
                                 "t.yaml")),
            "t.yaml:5: parameter 'n': a range needs exactly one of 'factor' (geometric) or 'step' (arithmetic)");
}

TEST(SuiteErrors, YamlSyntaxError) {
  auto s = parse_suite("name: t\nbenchmarks:\n  - benchmark: x.y.z\n    ranks: 2: 3\n", "t.yaml");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().rfind("t.yaml:4:", 0), 0u) << s.error();
  EXPECT_NE(s.error().find("YAML syntax error"), std::string::npos) << s.error();
}

// --- plan ------------------------------------------------------------------------------------

TEST(Plan, MultiRankBackends) {
  EXPECT_TRUE(is_multi_rank_backend("mpi"));
  EXPECT_TRUE(is_multi_rank_backend("nccl"));
  EXPECT_TRUE(is_multi_rank_backend("mpiio"));
  EXPECT_FALSE(is_multi_rank_backend("cpu"));
  EXPECT_FALSE(is_multi_rank_backend("cuda"));
  EXPECT_FALSE(is_multi_rank_backend("posix"));
  EXPECT_FALSE(is_multi_rank_backend(""));
}

TEST(Plan, ToJson) {
  PlannedInstance a;
  a.index = 0;
  a.benchmark = "micro.stream.triad";
  a.worker = "/bin/w";
  a.backend = "cpu";
  a.params = {{"n", "1M"}};
  a.policy = {{"budget_s", 5}};
  PlannedInstance b;
  b.index = 1;
  b.benchmark = "collectives.mpi.allreduce";
  b.backend = "mpi";
  b.ranks = 8;
  b.placement = Placement::all;
  PlannedInstance c;
  c.index = 2;
  c.benchmark = "micro.stream.copy";
  c.ranks = 4;
  c.placement = Placement::per_node;
  const json expected = json::parse(R"([
    {"instance": 0, "benchmark": "micro.stream.triad", "params": {"n": "1M"}, "policy": {"budget_s": 5},
     "ranks": 1, "placement": "one"},
    {"instance": 1, "benchmark": "collectives.mpi.allreduce", "params": {}, "policy": {},
     "ranks": 8, "placement": "all"},
    {"instance": 2, "benchmark": "micro.stream.copy", "params": {}, "policy": {},
     "ranks": 4, "placement": "per_node"}])");
  EXPECT_EQ(plan_to_json({a, b, c}), expected);
  EXPECT_EQ(plan_to_json({}), json::array());
}
