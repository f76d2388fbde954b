// Unit tests of the runners' pure parts: site and suite configs (values and file:line errors),
// sweep expansion, the plan's JSON form, launcher command lines and the sbatch script.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runners/launch.hpp"
#include "runners/plan.hpp"
#include "runners/site.hpp"
#include "runners/slurm.hpp"
#include "runners/suite.hpp"
#include "runners/workers.hpp"

using namespace converge::runners;
using converge::results::json;

namespace {

template <typename T>
std::string error_of(const converge::core::Expected<T>& e) {
  return e ? std::string("(no error)") : e.error();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

const std::string kPartitionKeys =
    "name, description, launcher, slurm, mpirun, resources, environment, backends, energy, peaks, reference";

// A one-partition site whose partition body (lines from 4 on) is `body`.
std::string site_with(const std::string& body) {
  return "name: s\n"             // 1
         "partitions:\n"         // 2
         "  - name: a\n"         // 3
         + body;                 // 4...
}

}  // namespace

// --- sites -----------------------------------------------------------------------------------

TEST(Sites, BuiltinSitesAreClusterAndLaptop) {
  const auto sites = builtin_sites();
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0].first, "cluster");
  EXPECT_EQ(sites[0].second, "Example Slurm cluster with cpu, gpu and accel partitions (a template to copy)");
  EXPECT_EQ(sites[1].first, "laptop");
  EXPECT_EQ(sites[1].second, "A workstation or laptop, one partition; multi-rank benchmarks go through mpirun");
}

TEST(Sites, ClusterExampleCpuPartition) {
  auto site = load_site("cluster");
  ASSERT_TRUE(site) << site.error();
  EXPECT_EQ(site->name, "example-cluster");
  EXPECT_EQ(site->source, "builtin:cluster");
  EXPECT_EQ(site->partition_names(), (std::vector<std::string>{"cpu", "gpu", "accel"}));
  EXPECT_EQ(site->find("nope"), nullptr);

  const Partition* p = site->find("cpu");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->line, 7);
  EXPECT_EQ(p->description, "2 x 20-core Xeon Gold 6248 per node, 192 GB DDR4-2933");
  EXPECT_EQ(p->launcher, LauncherKind::slurm);
  EXPECT_EQ(to_string(p->launcher), "slurm");
  EXPECT_EQ(p->slurm.partition, "cpu_p1");
  EXPECT_EQ(p->slurm.account, "abc@cpu");
  EXPECT_EQ(p->slurm.qos, "qos_cpu-t3");
  EXPECT_EQ(p->slurm.constraint, "");
  EXPECT_EQ(p->slurm.time, "01:00:00");
  EXPECT_EQ(p->slurm.options, (std::vector<std::string>{"--exclusive", "--hint=nomultithread"}));
  EXPECT_EQ(p->nodes, 4);
  EXPECT_EQ(p->tasks_per_node, 1);
  EXPECT_EQ(p->cpus_per_task, 40);
  EXPECT_EQ(p->gpus_per_node, 0);
  EXPECT_EQ(p->modules, (std::vector<std::string>{"gcc/12.2.0", "openmpi/4.1.5"}));
  EXPECT_EQ(p->variables, (std::map<std::string, std::string>{{"OMP_PLACES", "cores"}, {"OMP_PROC_BIND", "close"}}));
  EXPECT_EQ(p->backends, (std::vector<std::string>{"cpu", "mpi", "posix", "mpiio"}));
  EXPECT_EQ(p->energy, (std::vector<std::string>{"rapl", "ipmi"}));
  ASSERT_EQ(p->peaks.size(), 1u);
  EXPECT_DOUBLE_EQ(p->peaks.at("cpu.fp64"), 3.07e12);
  // The partition as written, scalars kept as text.
  EXPECT_EQ(p->config["resources"]["nodes"], "4");
  EXPECT_EQ(p->config["slurm"]["partition"], "cpu_p1");
}

TEST(Sites, ClusterExampleReferencesInBothForms) {
  auto site = load_site("cluster");
  ASSERT_TRUE(site) << site.error();
  const auto& refs = site->find("cpu")->references;
  ASSERT_EQ(refs.size(), 3u);

  EXPECT_EQ(refs[0].key, "micro.stream.triad");
  EXPECT_EQ(refs[0].benchmark, "micro.stream.triad");
  EXPECT_TRUE(refs[0].params.empty());
  EXPECT_EQ(refs[0].line, 26);
  ASSERT_EQ(refs[0].metrics.size(), 1u);
  const Reference& bw = refs[0].metrics[0];
  EXPECT_EQ(bw.metric, "bandwidth");
  EXPECT_DOUBLE_EQ(bw.value, 200e9);
  ASSERT_TRUE(bw.lower.has_value());
  EXPECT_DOUBLE_EQ(*bw.lower, -0.10);
  EXPECT_FALSE(bw.upper.has_value());
  EXPECT_EQ(bw.unit, "B/s");
  EXPECT_EQ(bw.line, 27);

  EXPECT_EQ(refs[1].key, "micro.peakflops.fp64 threads=auto");
  EXPECT_EQ(refs[1].benchmark, "micro.peakflops.fp64");
  EXPECT_EQ(refs[1].params, (std::map<std::string, std::string>{{"threads", "auto"}}));
  ASSERT_EQ(refs[1].metrics.size(), 1u);
  EXPECT_EQ(refs[1].metrics[0].metric, "flop_rate");
  EXPECT_DOUBLE_EQ(refs[1].metrics[0].value, 2.4);  // converted to base units only by validate_site
  EXPECT_EQ(refs[1].metrics[0].unit, "TFLOP/s");

  // Mapping form.
  EXPECT_EQ(refs[2].key, "micro.gemm.dgemm n=4096");
  EXPECT_EQ(refs[2].benchmark, "micro.gemm.dgemm");
  EXPECT_EQ(refs[2].params, (std::map<std::string, std::string>{{"n", "4096"}}));
  EXPECT_EQ(refs[2].line, 30);
  ASSERT_EQ(refs[2].metrics.size(), 1u);
  const Reference& fr = refs[2].metrics[0];
  EXPECT_EQ(fr.metric, "flop_rate");
  EXPECT_DOUBLE_EQ(fr.value, 2.2e12);
  ASSERT_TRUE(fr.lower && fr.upper);
  EXPECT_DOUBLE_EQ(*fr.lower, -0.10);
  EXPECT_DOUBLE_EQ(*fr.upper, 0.25);
  EXPECT_EQ(fr.unit, "FLOP/s");
  EXPECT_EQ(fr.line, 31);
}

TEST(Sites, ClusterExampleGpuAndAccelPartitions) {
  auto site = load_site("cluster");
  ASSERT_TRUE(site) << site.error();
  const Partition* g = site->find("gpu");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->line, 32);
  EXPECT_EQ(g->launcher, LauncherKind::slurm);
  EXPECT_EQ(g->slurm.partition, "gpu_p6");
  EXPECT_EQ(g->slurm.account, "abc@h100");
  EXPECT_EQ(g->slurm.constraint, "h100");
  EXPECT_EQ(g->slurm.qos, "");
  EXPECT_EQ(g->slurm.time, "02:00:00");
  EXPECT_TRUE(g->slurm.options.empty());
  EXPECT_EQ(g->nodes, 2);
  EXPECT_EQ(g->tasks_per_node, 4);
  EXPECT_EQ(g->cpus_per_task, 16);
  EXPECT_EQ(g->gpus_per_node, 4);
  EXPECT_EQ(g->modules, (std::vector<std::string>{"cuda/13.0", "nccl/2.27", "openmpi/4.1.5-cuda"}));
  EXPECT_EQ(g->variables, (std::map<std::string, std::string>{{"NCCL_DEBUG", "WARN"}}));
  EXPECT_EQ(g->backends, (std::vector<std::string>{"cpu", "cuda", "nccl", "mpi"}));
  EXPECT_EQ(g->energy, (std::vector<std::string>{"nvml", "rapl"}));
  EXPECT_TRUE(g->peaks.empty());
  EXPECT_TRUE(g->references.empty());

  const Partition* a = site->find("accel");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->line, 46);
  EXPECT_EQ(a->launcher, LauncherKind::mpirun);
  EXPECT_EQ(to_string(a->launcher), "mpirun");
  EXPECT_EQ(a->mpirun.command, "mpirun");
  EXPECT_EQ(a->mpirun.options, (std::vector<std::string>{"--bind-to", "core"}));
  EXPECT_EQ(a->mpirun.hosts, (std::vector<std::string>{"accel01", "accel02"}));
  EXPECT_EQ(a->nodes, 2);
  EXPECT_EQ(a->tasks_per_node, 1);
  EXPECT_EQ(a->cpus_per_task, 0);
  EXPECT_TRUE(a->modules.empty());
  EXPECT_EQ(a->energy, (std::vector<std::string>{"ipmi"}));
}

TEST(Sites, LaptopExample) {
  auto site = load_site("laptop");
  ASSERT_TRUE(site) << site.error();
  EXPECT_EQ(site->name, "laptop");
  EXPECT_EQ(site->source, "builtin:laptop");
  ASSERT_EQ(site->partitions.size(), 1u);
  const Partition& p = site->partitions[0];
  EXPECT_EQ(p.name, "local");
  EXPECT_EQ(p.launcher, LauncherKind::local);
  EXPECT_EQ(p.variables, (std::map<std::string, std::string>{{"OMP_WAIT_POLICY", "active"}}));
  EXPECT_EQ(p.energy, (std::vector<std::string>{"rapl"}));
}

TEST(Sites, DefaultSiteHasOneLocalPartition) {
  const Site s = default_site();
  EXPECT_EQ(s.name, "local");
  EXPECT_EQ(s.source, "detected");
  ASSERT_EQ(s.partitions.size(), 1u);
  const Partition& p = s.partitions[0];
  EXPECT_EQ(p.name, "local");
  EXPECT_EQ(p.launcher, LauncherKind::local);
  EXPECT_EQ(p.nodes, 1);
  EXPECT_EQ(p.tasks_per_node, 1);
  EXPECT_GE(p.cpus_per_task, 1);
  EXPECT_GE(p.gpus_per_node, 0);
  EXPECT_EQ(p.config["launcher"], "local");
  EXPECT_EQ(p.config["name"], "local");
  // Both "" and "local" name it.
  for (const char* name : {"", "local"}) {
    auto l = load_site(name);
    ASSERT_TRUE(l) << l.error();
    EXPECT_EQ(l->source, "detected");
    EXPECT_EQ(l->partition_names(), std::vector<std::string>{"local"});
  }
}

TEST(Sites, MinimalSiteTakesDefaults) {
  auto s = parse_site(site_with(""), "min.yaml");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->name, "s");
  EXPECT_EQ(s->source, "min.yaml");
  const Partition& p = s->partitions.at(0);
  EXPECT_EQ(p.launcher, LauncherKind::local);
  EXPECT_EQ(p.nodes, 1);
  EXPECT_EQ(p.tasks_per_node, 1);
  EXPECT_EQ(p.cpus_per_task, 0);
  EXPECT_EQ(p.gpus_per_node, 0);
  EXPECT_EQ(p.mpirun.command, "mpirun");
  EXPECT_EQ(p.line, 3);
  // No name: the file's stem.
  auto unnamed = parse_site("partitions:\n  - name: a\n", "/etc/converge/mysite.yaml");
  ASSERT_TRUE(unnamed) << unnamed.error();
  EXPECT_EQ(unnamed->name, "mysite");
}

TEST(SiteErrors, YamlSyntaxErrorNamesFileAndLine) {
  auto s = parse_site(site_with("    launcher: local: bad\n"), "bad.yaml");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().rfind("bad.yaml:4:", 0), 0u) << s.error();
  EXPECT_NE(s.error().find("YAML syntax error"), std::string::npos) << s.error();
}

TEST(SiteErrors, UnknownSiteKey) {
  auto s = parse_site("name: s\ndescripton: x\npartitions:\n  - name: a\n", "t.yaml");
  EXPECT_EQ(error_of(s),
            "t.yaml:2: unknown key 'descripton' in a site (did you mean 'description'?); keys are: name, "
            "description, partitions");
}

TEST(SiteErrors, UnknownPartitionKeySuggestsNearest) {
  auto s = parse_site(site_with("    launchr: slurm\n"), "t.yaml");
  EXPECT_EQ(error_of(s), "t.yaml:4: unknown key 'launchr' in a partition (did you mean 'launcher'?); keys are: " +
                             kPartitionKeys);
}

TEST(SiteErrors, UnknownKeysInSlurmResourcesEnvironment) {
  EXPECT_EQ(error_of(parse_site(site_with("    launcher: slurm\n    slurm:\n      partition: p\n      acount: x\n"),
                                "t.yaml")),
            "t.yaml:7: unknown key 'acount' in slurm (did you mean 'account'?); keys are: partition, account, qos, "
            "constraint, time, options");
  EXPECT_EQ(error_of(parse_site(site_with("    resources:\n      nodes: 2\n      gpus: 4\n"), "t.yaml")),
            "t.yaml:6: unknown key 'gpus' in resources (did you mean 'gpus_per_node'?); keys are: nodes, "
            "tasks_per_node, cpus_per_task, gpus_per_node");
  EXPECT_EQ(error_of(parse_site(site_with("    environment: {module: [gcc]}\n"), "t.yaml")),
            "t.yaml:4: unknown key 'module' in environment (did you mean 'modules'?); keys are: modules, variables");
}

TEST(SiteErrors, UnknownLauncher) {
  EXPECT_EQ(error_of(parse_site(site_with("    description: x\n    launcher: slurmm\n"), "t.yaml")),
            "t.yaml:5: unknown launcher 'slurmm' (did you mean 'slurm'?); launchers are local, mpirun, slurm");
}

TEST(SiteErrors, UnknownEnergyMeter) {
  EXPECT_EQ(error_of(parse_site(site_with("    energy: [rapl, nvm]\n"), "t.yaml")),
            "t.yaml:4: unknown energy meter 'nvm' (did you mean 'nvml'?); meters are: rapl, nvml, likwid, ipmi");
}

TEST(SiteErrors, NonPositiveCounts) {
  EXPECT_EQ(error_of(parse_site(site_with("    resources:\n      nodes: 0\n"), "t.yaml")),
            "t.yaml:5: nodes must be an integer > 0, got '0'");
  EXPECT_EQ(error_of(parse_site(site_with("    resources: {nodes: -2}\n"), "t.yaml")),
            "t.yaml:4: nodes must be an integer > 0, got '-2'");
  EXPECT_EQ(error_of(parse_site(site_with("    resources:\n      tasks_per_node: 0\n"), "t.yaml")),
            "t.yaml:5: tasks_per_node must be an integer > 0, got '0'");
  EXPECT_EQ(error_of(parse_site(site_with("    resources:\n      gpus_per_node: -1\n"), "t.yaml")),
            "t.yaml:5: gpus_per_node must be an integer >= 0, got '-1'");
  // Zero GPUs is fine.
  auto ok = parse_site(site_with("    resources: {gpus_per_node: 0}\n"), "t.yaml");
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->partitions[0].gpus_per_node, 0);
}

TEST(SiteErrors, BadSlurmTime) {
  EXPECT_EQ(error_of(parse_site(site_with("    launcher: slurm\n    slurm:\n      time: 1h\n"), "t.yaml")),
            "t.yaml:6: slurm time '1h' is not a Slurm time limit (MM, HH:MM:SS or D-HH:MM:SS)");
  for (const char* good : {"30", "01:00:00", "1-12:00:00", "UNLIMITED"}) {
    auto s = parse_site(site_with(std::string("    slurm: {time: \"") + good + "\"}\n"), "t.yaml");
    ASSERT_TRUE(s) << good << ": " << s.error();
    EXPECT_EQ(s->partitions[0].slurm.time, good);
  }
}

TEST(SiteErrors, PositiveLowerTolerance) {
  EXPECT_EQ(error_of(parse_site(site_with("    reference:\n"
                                          "      micro.stream.triad:\n"
                                          "        bandwidth: [200e9, 0.1, null, B/s]\n"),
                                "t.yaml")),
            "t.yaml:6: bandwidth: the lower tolerance is relative, between -1 and 0 (-0.1 = 10% below), got 0.1");
  EXPECT_EQ(error_of(parse_site(site_with("    reference:\n"
                                          "      micro.stream.triad:\n"
                                          "        bandwidth: {value: 1, lower: null, upper: -0.5, unit: B/s}\n"),
                                "t.yaml")),
            "t.yaml:6: bandwidth: the upper tolerance is relative and >= 0 (0.1 = 10% above), got -0.5");
}

TEST(SiteErrors, ReferenceListOfThree) {
  EXPECT_EQ(error_of(parse_site(site_with("    reference:\n"
                                          "      micro.stream.triad:\n"
                                          "        bandwidth: [200e9, -0.1, B/s]\n"),
                                "t.yaml")),
            "t.yaml:6: reference 'bandwidth' is [value, lower, upper, unit], e.g. [350e9, -0.1, null, B/s]; got 3 "
            "items");
}

// A mapping reference may leave out lower and upper (unbounded).
TEST(SiteErrors, MappingReferenceWithOptionalKeysLeftOut) {
  auto s = parse_site(site_with("    reference:\n"
                                "      micro.stream.triad:\n"
                                "        bandwidth: {value: 200e9, lower: -0.1, unit: B/s}\n"),
                      "t.yaml");
  ASSERT_TRUE(s) << s.error();
  const Reference& r = s->partitions[0].references.at(0).metrics.at(0);
  EXPECT_DOUBLE_EQ(r.value, 200e9);
  ASSERT_TRUE(r.lower.has_value());
  EXPECT_DOUBLE_EQ(*r.lower, -0.1);
  EXPECT_FALSE(r.upper.has_value());
  EXPECT_EQ(error_of(parse_site(site_with("    reference:\n"
                                          "      micro.stream.triad:\n"
                                          "        bandwidth: {value: 1, lower: -0.1}\n"),
                                "t.yaml")),
            "t.yaml:6: reference 'bandwidth' needs value and unit");
}

TEST(Sites, MappingReferenceWithNullTolerances) {
  auto s = parse_site(site_with("    reference:\n"
                                "      micro.stream.triad n=1M:\n"
                                "        bandwidth: {value: 200e9, lower: null, upper: 0.5, unit: GB/s}\n"),
                      "t.yaml");
  ASSERT_TRUE(s) << s.error();
  const ReferenceEntry& e = s->partitions[0].references.at(0);
  EXPECT_EQ(e.benchmark, "micro.stream.triad");
  EXPECT_EQ(e.params, (std::map<std::string, std::string>{{"n", "1M"}}));
  EXPECT_EQ(e.line, 5);
  const Reference& r = e.metrics.at(0);
  EXPECT_FALSE(r.lower.has_value());
  ASSERT_TRUE(r.upper.has_value());
  EXPECT_DOUBLE_EQ(*r.upper, 0.5);
  EXPECT_EQ(r.unit, "GB/s");
  EXPECT_EQ(r.line, 6);
}

TEST(SiteErrors, DuplicatePartition) {
  EXPECT_EQ(error_of(parse_site("name: s\n"
                                "partitions:\n"
                                "  - name: a\n"
                                "    launcher: local\n"
                                "  - name: a\n"
                                "    launcher: mpirun\n",
                                "t.yaml")),
            "t.yaml:5: partition 'a' is defined twice");
}

TEST(SiteErrors, EmptyPartitionList) {
  auto s = parse_site("name: s\npartitions: []\n", "t.yaml");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().rfind("t.yaml", 0), 0u) << s.error();
  EXPECT_NE(s.error().find("'partitions' must be a non-empty list of partitions"), std::string::npos) << s.error();
}

// An empty partition list is named with its line.
TEST(SiteErrors, EmptyPartitionListNamesLine) {
  auto s = parse_site("name: s\npartitions: []\n", "t.yaml");
  EXPECT_EQ(error_of(s), "t.yaml:2: 'partitions' must be a non-empty list of partitions");
}

TEST(SiteErrors, UnknownSiteListsBuiltins) {
  EXPECT_EQ(error_of(load_site("nonexistent-xyz")),
            "no site 'nonexistent-xyz': not a built-in site (local, cluster, laptop) nor a file");
  EXPECT_EQ(error_of(load_site("clustr")),
            "no site 'clustr': not a built-in site (local, cluster, laptop) nor a file; did you mean cluster?");
}

TEST(Sites, ParsePartitionText) {
  auto p = parse_partition_text("name: x\nlauncher: mpirun\nmpirun: {command: mpiexec, hosts: [h1, h2, h3]}\n",
                                "run.json");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->name, "x");
  EXPECT_EQ(p->launcher, LauncherKind::mpirun);
  EXPECT_EQ(p->mpirun.command, "mpiexec");
  EXPECT_EQ(p->mpirun.hosts, (std::vector<std::string>{"h1", "h2", "h3"}));
  // The run document's JSON form is YAML too.
  auto j = parse_partition_text(R"({"name": "y", "resources": {"nodes": "3"}})", "run.json");
  ASSERT_TRUE(j) << j.error();
  EXPECT_EQ(j->nodes, 3);
  EXPECT_EQ(error_of(parse_partition_text("name: x\nlauncher: pbs\n", "run.json")),
            "run.json:2: unknown launcher 'pbs'; launchers are local, mpirun, slurm");
}

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

// --- launch helpers --------------------------------------------------------------------------

TEST(Launch, ShellQuote) {
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("plain-word_1.2/x:y=z"), "plain-word_1.2/x:y=z");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
  EXPECT_EQ(shell_join({"echo", "a b", "c", ""}), "echo 'a b' c ''");
  EXPECT_EQ(shell_join({}), "");
}

TEST(Launch, ShellQuoteRoundTripsThroughBash) {
  for (const std::string s : {"it's", "a 'b' c", "''", "$HOME `id` \"q\" \\ * ?", "tab\there\nnewline", "a b",
                              "events.{rank}.jsonl", "~root", "x;y|z&"}) {
    const auto r = run_command({"bash", "-c", "printf %s " + shell_quote(s)});
    ASSERT_EQ(r.status, 0) << s << ": " << r.err;
    EXPECT_EQ(r.out, s);
  }
  // A joined argv comes back as the same words.
  const std::vector<std::string> argv = {"it's", "", "a b", "$x"};
  const auto r = run_command({"bash", "-c", "printf '<%s>' " + shell_join(argv)});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "<it's><><a b><$x>");
}

// Braces and commas are quoted: bash would brace-expand them.
TEST(Launch, ShellQuoteBraceExpansionRoundTrips) {
  for (const std::string s : {"{a,b}", "x{1,2}y", "{1..3}"}) {
    const auto r = run_command({"bash", "-c", "printf %s " + shell_quote(s)});
    ASSERT_EQ(r.status, 0) << s << ": " << r.err;
    EXPECT_EQ(r.out, s);
  }
}

TEST(Launch, WithModules) {
  Partition p;
  const std::vector<std::string> argv = {"/bin/worker", "--plan", "a b.json"};
  EXPECT_EQ(with_modules(p, argv), argv);
  p.modules = {"m1", "m2"};
  EXPECT_EQ(with_modules(p, argv),
            (std::vector<std::string>{"bash", "-lc", "module load m1 m2 && exec \"$@\"", "converge-env", "/bin/worker",
                                      "--plan", "a b.json"}));
  p.modules = {"odd module"};
  EXPECT_EQ(with_modules(p, argv).at(2), "module load 'odd module' && exec \"$@\"");
}

TEST(Launch, WithModulesRunsTheCommandAfterLoading) {
  // A stand-in `module` function, exported to bash; skipped where a login shell defines its own.
  const auto probe = run_command({"bash", "-lc", "type -t module || true"});
  if (probe.status != 0 || !probe.out.empty()) GTEST_SKIP() << "a login shell here defines `module`";
  setenv("BASH_FUNC_module%%", "() { echo \"loaded $*\" >&2; }", 1);
  Partition p;
  p.modules = {"m1", "m2"};
  const auto r = run_command(with_modules(p, {"printf", "<%s>", "a b", "it's", ""}));
  unsetenv("BASH_FUNC_module%%");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "<a b><it's><>");
  EXPECT_NE(r.err.find("loaded load m1 m2"), std::string::npos) << r.err;
}

TEST(Launch, SrunOptionsPerPlacement) {
  Partition p;
  PlannedInstance one;
  EXPECT_EQ(srun_options(p, 4, one), (std::vector<std::string>{"--nodes=1", "--ntasks=1", "--kill-on-bad-exit=1"}));
  PlannedInstance per;
  per.placement = Placement::per_node;
  per.ranks = 4;
  EXPECT_EQ(srun_options(p, 4, per),
            (std::vector<std::string>{"--nodes=4", "--ntasks-per-node=1", "--kill-on-bad-exit=1"}));
  PlannedInstance all;
  all.placement = Placement::all;
  all.ranks = 8;
  EXPECT_EQ(srun_options(p, 2, all), (std::vector<std::string>{"--nodes=2", "--ntasks=8", "--kill-on-bad-exit=1"}));
  all.ranks = 3;  // fewer ranks than nodes: no empty nodes
  EXPECT_EQ(srun_options(p, 4, all), (std::vector<std::string>{"--nodes=3", "--ntasks=3", "--kill-on-bad-exit=1"}));

  p.cpus_per_task = 16;
  p.gpus_per_node = 4;
  EXPECT_EQ(srun_options(p, 4, one), (std::vector<std::string>{"--nodes=1", "--ntasks=1", "--cpus-per-task=16",
                                                               "--gpus-per-node=4", "--kill-on-bad-exit=1"}));
  EXPECT_EQ(srun_options(p, 2, per), (std::vector<std::string>{"--nodes=2", "--ntasks-per-node=1",
                                                               "--cpus-per-task=16", "--gpus-per-node=4",
                                                               "--kill-on-bad-exit=1"}));
  p.gpus_per_node = 0;
  EXPECT_EQ(srun_options(p, 2, all), (std::vector<std::string>{"--nodes=2", "--ntasks=3", "--cpus-per-task=16",
                                                               "--kill-on-bad-exit=1"}));
}

// --- sbatch script ---------------------------------------------------------------------------

TEST(Slurm, SbatchScript) {
  auto part = parse_partition_text(
      "name: gpu\n"
      "launcher: slurm\n"
      "slurm:\n"
      "  partition: gpu_p6\n"
      "  account: abc@h100\n"
      "  qos: qos_gpu-t3\n"
      "  constraint: h100&ib\n"
      "  time: \"02:00:00\"\n"
      "  options: [--exclusive, --hint=nomultithread]\n"
      "resources: {nodes: 4, tasks_per_node: 4, cpus_per_task: 16, gpus_per_node: 4}\n"
      "environment:\n"
      "  modules: [cuda/13.0, nccl/2.27]\n"
      "  variables: {NCCL_DEBUG: WARN, MSG: \"it's a b\"}\n",
      "site.yaml");
  ASSERT_TRUE(part) << part.error();

  PlannedInstance a;
  a.index = 3;
  a.benchmark = "micro.stream.triad";
  a.worker = "/opt/converge/bin/converge-worker-cpu";
  a.backend = "cpu";
  a.policy = {{"budget_s", 10}};  // 3 x 10 + 60 s
  PlannedInstance b;
  b.index = 7;
  b.benchmark = "micro.peakflops.fp64";
  b.worker = "/opt/converge/bin/converge-worker-cpu";
  b.backend = "cpu";
  b.ranks = 2;
  b.placement = Placement::per_node;  // the run's budget: 3 x 20 + 60 s
  ExecOptions exec;
  exec.policy = {{"budget_s", 20}};
  SlurmJob job;
  job.job_dir = "/scratch/conv/job1";
  job.run_id = "run-42";
  job.suite = "node";
  job.nodes = 2;

  const std::string script = sbatch_script({a, b}, *part, exec, job);
  const auto lines = lines_of(script);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "#!/bin/bash");
  std::vector<std::string> directives, steps;
  for (const auto& l : lines) {
    if (l.rfind("#SBATCH ", 0) == 0) directives.push_back(l);
    if (l.rfind("step ", 0) == 0) steps.push_back(l);
  }
  EXPECT_EQ(directives, (std::vector<std::string>{
                            "#SBATCH --job-name=converge-node",
                            "#SBATCH --nodes=2",
                            "#SBATCH --ntasks-per-node=4",
                            "#SBATCH --cpus-per-task=16",
                            "#SBATCH --gpus-per-node=4",
                            "#SBATCH --partition=gpu_p6",
                            "#SBATCH --account=abc@h100",
                            "#SBATCH --qos=qos_gpu-t3",
                            "#SBATCH --constraint='h100&ib'",
                            "#SBATCH --time=02:00:00",
                            "#SBATCH --output=/scratch/conv/job1/job.out",
                            "#SBATCH --exclusive",
                            "#SBATCH --hint=nomultithread",
                        }));
  // Directives come before the first command, or sbatch ignores them.
  for (std::size_t i = 1; i <= directives.size(); ++i) EXPECT_EQ(lines[i], directives[i - 1]);

  auto has_line = [&](const std::string& want) {
    return std::find(lines.begin(), lines.end(), want) != lines.end();
  };
  EXPECT_TRUE(has_line("module load cuda/13.0 nccl/2.27")) << script;
  EXPECT_TRUE(has_line("export MSG='it'\\''s a b'")) << script;
  EXPECT_TRUE(has_line("export NCCL_DEBUG=WARN")) << script;
  EXPECT_TRUE(has_line("cd /scratch/conv/job1 || exit 1")) << script;
  EXPECT_TRUE(has_line("set -u")) << script;
  EXPECT_NE(script.find("run run-42 (suite node, partition gpu)"), std::string::npos) << script;

  EXPECT_EQ(steps, (std::vector<std::string>{
                       "step 3 90 --nodes=1 --ntasks=1 --cpus-per-task=16 --gpus-per-node=4 --kill-on-bad-exit=1 "
                       "/opt/converge/bin/converge-worker-cpu --plan plan.json --only 3 --out 'events.{rank}.jsonl'",
                       "step 7 120 --nodes=2 --ntasks-per-node=1 --cpus-per-task=16 --gpus-per-node=4 "
                       "--kill-on-bad-exit=1 /opt/converge/bin/converge-worker-cpu --plan plan.json --only 7 --out "
                       "'events.{rank}.jsonl'",
                   }));

  // The script is valid bash.
  const auto syntax = run_command({"bash", "-n", "-c", script});
  EXPECT_EQ(syntax.status, 0) << syntax.err;
}

TEST(Slurm, SbatchScriptMinimalPartitionAndTimeout) {
  Partition p;
  p.name = "cpu";
  p.launcher = LauncherKind::slurm;
  PlannedInstance a;
  a.index = 0;
  a.worker = "w";
  ExecOptions exec;
  exec.timeout_s = 300;  // wins over the budget
  SlurmJob job;
  job.job_dir = "/j";
  job.suite = "quick test";
  job.nodes = 1;
  const auto lines = lines_of(sbatch_script({a}, p, exec, job));
  std::vector<std::string> directives;
  for (const auto& l : lines)
    if (l.rfind("#SBATCH ", 0) == 0) directives.push_back(l);
  EXPECT_EQ(directives, (std::vector<std::string>{"#SBATCH --job-name='converge-quick test'", "#SBATCH --nodes=1",
                                                  "#SBATCH --ntasks-per-node=1", "#SBATCH --output=/j/job.out"}));
  for (const auto& l : lines) {
    EXPECT_NE(l.rfind("module load", 0), 0u) << l;
    EXPECT_NE(l.rfind("export ", 0), 0u) << l;
  }
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "step 0 300 --nodes=1 --ntasks=1 --kill-on-bad-exit=1 w --plan plan.json --only 0 --out "
                      "'events.{rank}.jsonl'"),
            lines.end());
}
