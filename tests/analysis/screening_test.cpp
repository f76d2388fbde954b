// Node screening: robust median/MAD across nodes and the outlier verdicts.
#include "analysis/screening.hpp"
#include "analysis/energy_total.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace converge::analysis;
using converge::results::json;

namespace {

json ok_result(int instance, const std::string& host, double value, const std::string& direction = "higher_is_better",
               const std::string& metric = "bandwidth", const std::string& unit = "B/s") {
  return {{"instance", instance},
          {"benchmark", "micro.stream.triad"},
          {"host", host},
          {"status", "ok"},
          {"metrics", json::array({{{"name", metric}, {"unit", unit}, {"direction", direction}, {"value", value}},
                                   {{"name", "other"}, {"unit", "s"}, {"direction", "lower_is_better"}, {"value", 1e9}}})}};
}

json failed_result(int instance, const std::string& host, const std::string& status, const std::string& reason) {
  return {{"instance", instance}, {"benchmark", "micro.stream.triad"}, {"host", host}, {"status", status},
          {"reason", reason},     {"metrics", json::array()}};
}

std::vector<ScreenGroup> screen(const json& results, const std::vector<std::string>& hosts = {},
                                const std::map<int, std::string>& given = {}) {
  return screen_nodes(results, hosts, given, ScreenOptions{});
}

}  // namespace

TEST(MedianMad, OddCountWithOutlier) {
  const auto [med, mad] = median_mad({1, 2, 3, 4, 100});
  EXPECT_DOUBLE_EQ(med, 3);
  EXPECT_DOUBLE_EQ(mad, 1);
}

TEST(MedianMad, EvenCountAndUnsortedInput) {
  // median (2 + 3) / 2; deviations 1.5 0.5 0.5 1.5 -> 1.
  const auto [med, mad] = median_mad({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(med, 2.5);
  EXPECT_DOUBLE_EQ(mad, 1);
}

TEST(MedianMad, NonFiniteValuesIgnored) {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  const auto [med, mad] = median_mad({nan, 1, 2, inf, 3, 4, 100, nan});
  EXPECT_DOUBLE_EQ(med, 3);
  EXPECT_DOUBLE_EQ(mad, 1);
  const auto [m0, d0] = median_mad({nan, nan});
  EXPECT_TRUE(std::isnan(m0));
  EXPECT_TRUE(std::isnan(d0));
  const auto [m1, d1] = median_mad({});
  EXPECT_TRUE(std::isnan(m1));
  EXPECT_TRUE(std::isnan(d1));
  const auto [m2, d2] = median_mad({7});
  EXPECT_DOUBLE_EQ(m2, 7);
  EXPECT_DOUBLE_EQ(d2, 0);
}

TEST(Screening, OneSlowNodeOfFour) {
  const json results = json::array({ok_result(0, "n3", 99), ok_result(0, "n1", 100), ok_result(0, "n4", 30),
                                    ok_result(0, "n2", 101)});
  const auto groups = screen(results, {"n1", "n2", "n3", "n4"}, {{0, "n=4M"}});
  ASSERT_EQ(groups.size(), 1u);
  const auto& g = groups[0];
  EXPECT_EQ(g.instance, 0);
  EXPECT_EQ(g.benchmark, "micro.stream.triad");
  EXPECT_EQ(g.params, "n=4M");
  EXPECT_EQ(g.metric, "bandwidth");  // the first metric
  EXPECT_EQ(g.unit, "B/s");
  EXPECT_EQ(g.direction, "higher_is_better");
  // median (99 + 100) / 2; deviations 69.5 0.5 0.5 1.5 -> MAD (0.5 + 1.5) / 2.
  EXPECT_DOUBLE_EQ(g.median, 99.5);
  EXPECT_DOUBLE_EQ(g.mad, 1.0);
  ASSERT_EQ(g.nodes.size(), 4u);
  EXPECT_EQ(g.nodes[0].host, "n1");  // sorted by host
  EXPECT_EQ(g.nodes[3].host, "n4");
  EXPECT_DOUBLE_EQ(g.nodes[3].value, 30);
  EXPECT_EQ(g.nodes[3].status, "ok");
  ASSERT_EQ(g.outliers.size(), 1u);
  const auto& o = g.outliers[0];
  EXPECT_EQ(o.host, "n4");
  EXPECT_EQ(o.verdict, "slow");
  EXPECT_DOUBLE_EQ(o.value, 30);
  EXPECT_DOUBLE_EQ(o.deviation, (30 - 99.5) / 99.5);
  EXPECT_LT(o.deviation, 0);
  EXPECT_DOUBLE_EQ(o.z, 0.6745 * (30 - 99.5) / 1.0);
  EXPECT_EQ(g.note, "");
}

TEST(Screening, OneFastNodeOfFour) {
  const json results = json::array({ok_result(0, "a", 100), ok_result(0, "b", 101), ok_result(0, "c", 99),
                                    ok_result(0, "d", 300)});
  const auto groups = screen(results);
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].outliers.size(), 1u);
  EXPECT_EQ(groups[0].outliers[0].host, "d");
  EXPECT_EQ(groups[0].outliers[0].verdict, "fast");
  EXPECT_GT(groups[0].outliers[0].deviation, 0);
}

// Directions are the schema's strings: a high latency (lower_is_better) is slow.
TEST(Screening, HighLatencyIsSlow) {
  const json results =
      json::array({ok_result(0, "a", 1.0, "lower_is_better", "latency", "s"),
                   ok_result(0, "b", 1.01, "lower_is_better", "latency", "s"),
                   ok_result(0, "c", 0.99, "lower_is_better", "latency", "s"),
                   ok_result(0, "d", 3.0, "lower_is_better", "latency", "s")});
  const auto groups = screen(results);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].direction, "lower_is_better");
  ASSERT_EQ(groups[0].outliers.size(), 1u);
  EXPECT_EQ(groups[0].outliers[0].host, "d");
  EXPECT_EQ(groups[0].outliers[0].verdict, "slow");  // actual: "fast"
  EXPECT_GT(groups[0].outliers[0].deviation, 0);

  const json fast = json::array({ok_result(0, "a", 1.0, "lower_is_better", "latency", "s"),
                                 ok_result(0, "b", 1.01, "lower_is_better", "latency", "s"),
                                 ok_result(0, "c", 0.99, "lower_is_better", "latency", "s"),
                                 ok_result(0, "d", 0.3, "lower_is_better", "latency", "s")});
  const auto g2 = screen(fast);
  ASSERT_EQ(g2[0].outliers.size(), 1u);
  EXPECT_EQ(g2[0].outliers[0].verdict, "fast");  // actual: "slow"
}

TEST(Screening, IdenticalValuesHaveNoOutlier) {
  const json results = json::array({ok_result(0, "a", 50), ok_result(0, "b", 50), ok_result(0, "c", 50),
                                    ok_result(0, "d", 50)});
  const auto groups = screen(results);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_DOUBLE_EQ(groups[0].median, 50);
  EXPECT_DOUBLE_EQ(groups[0].mad, 0);
  EXPECT_TRUE(groups[0].outliers.empty());
  EXPECT_EQ(groups[0].note, "");
}

TEST(Screening, SmallDeviationWithZeroMadIsNotFlagged) {
  // MAD 0 makes z infinite for any difference; the 5% deviation is below min_deviation (10%).
  const json results = json::array({ok_result(0, "a", 100), ok_result(0, "b", 100), ok_result(0, "c", 100),
                                    ok_result(0, "d", 95)});
  const auto groups = screen(results);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_DOUBLE_EQ(groups[0].median, 100);
  EXPECT_DOUBLE_EQ(groups[0].mad, 0);
  EXPECT_TRUE(groups[0].outliers.empty());

  // 15% is above it: flagged, with an infinite z.
  const json far = json::array({ok_result(0, "a", 100), ok_result(0, "b", 100), ok_result(0, "c", 100),
                                ok_result(0, "d", 85)});
  const auto g2 = screen(far);
  ASSERT_EQ(g2[0].outliers.size(), 1u);
  EXPECT_EQ(g2[0].outliers[0].host, "d");
  EXPECT_EQ(g2[0].outliers[0].verdict, "slow");
  EXPECT_DOUBLE_EQ(g2[0].outliers[0].deviation, -0.15);
  EXPECT_TRUE(std::isinf(g2[0].outliers[0].z));
  EXPECT_LT(g2[0].outliers[0].z, 0);
}

TEST(Screening, MinDeviationAndThresholdAreOptions) {
  const json results = json::array({ok_result(0, "a", 100), ok_result(0, "b", 100), ok_result(0, "c", 100),
                                    ok_result(0, "d", 95)});
  ScreenOptions o;
  o.min_deviation = 0.01;
  auto groups = screen_nodes(results, {}, {}, o);
  ASSERT_EQ(groups[0].outliers.size(), 1u);
  EXPECT_EQ(groups[0].outliers[0].verdict, "slow");
  // z of the 3x slow node is about -46.9: a higher threshold lets it pass.
  const json slow = json::array({ok_result(0, "n1", 100), ok_result(0, "n2", 101), ok_result(0, "n3", 99),
                                 ok_result(0, "n4", 30)});
  o = ScreenOptions{};
  o.z_threshold = 50;
  EXPECT_TRUE(screen_nodes(slow, {}, {}, o)[0].outliers.empty());
}

TEST(Screening, HostWithoutResultIsMissing) {
  const json results = json::array({ok_result(0, "a", 100), ok_result(0, "b", 101), ok_result(0, "c", 99)});
  const auto groups = screen(results, {"a", "b", "c", "d"});
  ASSERT_EQ(groups.size(), 1u);
  const auto& g = groups[0];
  ASSERT_EQ(g.nodes.size(), 4u);
  EXPECT_EQ(g.nodes[3].host, "d");
  EXPECT_EQ(g.nodes[3].status, "missing");
  EXPECT_EQ(g.nodes[3].reason, "no result from this node");
  EXPECT_TRUE(std::isnan(g.nodes[3].value));
  EXPECT_DOUBLE_EQ(g.median, 100);
  ASSERT_EQ(g.outliers.size(), 1u);
  EXPECT_EQ(g.outliers[0].host, "d");
  EXPECT_EQ(g.outliers[0].verdict, "missing");
  EXPECT_TRUE(std::isnan(g.outliers[0].deviation));
  EXPECT_TRUE(std::isnan(g.outliers[0].value));
  EXPECT_EQ(g.note, "");
}

TEST(Screening, FailedResultIsReported) {
  const json results = json::array({ok_result(0, "a", 100), ok_result(0, "b", 101), ok_result(0, "c", 99),
                                    failed_result(0, "d", "failed", "worker killed by signal 11 (SIGSEGV)")});
  const auto groups = screen(results, {"a", "b", "c", "d"});
  ASSERT_EQ(groups.size(), 1u);
  const auto& g = groups[0];
  ASSERT_EQ(g.nodes.size(), 4u);  // not also counted as missing
  EXPECT_EQ(g.nodes[3].status, "failed");
  EXPECT_EQ(g.nodes[3].reason, "worker killed by signal 11 (SIGSEGV)");
  ASSERT_EQ(g.outliers.size(), 1u);
  EXPECT_EQ(g.outliers[0].host, "d");
  EXPECT_EQ(g.outliers[0].verdict, "failed");
  EXPECT_TRUE(std::isnan(g.outliers[0].deviation));
  EXPECT_EQ(g.metric, "bandwidth");
}

TEST(Screening, SkippedEverywhereIsNotANodeProblem) {
  const json results = json::array({failed_result(0, "a", "skipped", "no GPU"), failed_result(0, "b", "skipped", "no GPU"),
                                    failed_result(0, "c", "skipped", "no GPU")});
  const auto groups = screen(results, {"a", "b", "c"});
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_TRUE(groups[0].outliers.empty());
  EXPECT_EQ(groups[0].note, "fewer than 3 nodes with figures: no outlier test");
}

TEST(Screening, TwoHostsHaveNoOutlierTest) {
  const json results = json::array({ok_result(0, "a", 100), ok_result(0, "b", 10)});
  const auto groups = screen(results, {"a", "b"});
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_TRUE(groups[0].outliers.empty());
  EXPECT_DOUBLE_EQ(groups[0].median, 55);
  EXPECT_EQ(groups[0].note, "fewer than 3 nodes with figures: no outlier test");
}

TEST(Screening, GroupsPerInstanceInOrder) {
  json results = json::array();
  for (const char* h : {"a", "b", "c"}) {
    results.push_back(ok_result(5, h, 10));
    results.push_back(ok_result(2, h, 20, "higher_is_better", "flop_rate", "FLOP/s"));
  }
  const auto groups = screen(results, {}, {{2, "n=1"}, {5, "n=2"}});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].instance, 2);
  EXPECT_EQ(groups[0].params, "n=1");
  EXPECT_EQ(groups[0].metric, "flop_rate");
  EXPECT_EQ(groups[0].unit, "FLOP/s");
  EXPECT_DOUBLE_EQ(groups[0].median, 20);
  EXPECT_EQ(groups[1].instance, 5);
  EXPECT_EQ(groups[1].params, "n=2");
  EXPECT_DOUBLE_EQ(groups[1].median, 10);
  EXPECT_EQ(groups[1].nodes.size(), 3u);
}

TEST(Screening, InventoryDifferencesNameWhatSetsANodeApart) {
  auto inv = [](const std::string& host, const std::string& corename, const char* coretype) {
    json j = {{"hostname", host}, {"memory", {{"total_bytes", 1000}, {"available_bytes", host.size() * 7}}},
              {"blas", {{"corename", corename}}}, {"environment", {{"SLURM_PROCID", host}}}};
    if (coretype != nullptr) j["environment"]["OPENBLAS_CORETYPE"] = coretype;
    return j;
  };
  std::map<std::string, json> by_host = {{"n1", inv("n1", "SkylakeX", nullptr)},
                                         {"n2", inv("n2", "SkylakeX", nullptr)},
                                         {"n3", inv("n3", "Prescott", "Prescott")},
                                         {"n4", inv("n4", "SkylakeX", nullptr)}};
  const auto d = converge::analysis::inventory_differences(by_host, "n3");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].key, "blas.corename");
  EXPECT_EQ(d[0].value, "Prescott");
  EXPECT_EQ(d[0].usual, "SkylakeX");
  EXPECT_EQ(d[1].key, "environment.OPENBLAS_CORETYPE");
  EXPECT_EQ(d[1].usual, "(unset)");
  // Healthy nodes differ only in what differs by nature (hostname, free memory, SLURM_*).
  EXPECT_TRUE(converge::analysis::inventory_differences(by_host, "n1").empty());
  // Without a majority there is no "usual": two nodes are not compared.
  by_host.erase("n1");
  by_host.erase("n2");
  EXPECT_TRUE(converge::analysis::inventory_differences(by_host, "n3").empty());
}

TEST(RunEnergy, SumsEachNodesFigureOverInstancesAndHosts) {
  auto r = [](int instance, const char* host, double joules, bool measured) {
    return json{{"instance", instance}, {"host", host},
                {"energy", {{"measured", measured}, {"joules", measured ? json(joules) : json(nullptr)}}}};
  };
  const json results = json::array({r(0, "n1", 10, true), r(0, "n2", 12, true), r(1, "n1", 5, true), r(1, "n2", 0, false)});
  const json e = converge::analysis::run_energy(results);
  EXPECT_EQ(e["measured"], true);
  EXPECT_DOUBLE_EQ(e["joules"].get<double>(), 27);
  EXPECT_DOUBLE_EQ(e["by_instance"]["0"].get<double>(), 22);
  EXPECT_DOUBLE_EQ(e["by_host"]["n1"].get<double>(), 15);
  EXPECT_EQ(e["results_not_measured"], 1);
  EXPECT_TRUE(converge::analysis::run_energy(json::array({r(0, "n1", 0, false)}))["joules"].is_null());
}
