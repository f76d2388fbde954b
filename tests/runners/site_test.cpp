// Site configs: the example sites, the detected default, and file:line errors.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runners/site.hpp"
#include "tests/runners/test_util.hpp"

using namespace converge::runners;
using namespace converge::runners::testing;
using converge::results::json;

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
  EXPECT_EQ(refs[0].line, 29);
  ASSERT_EQ(refs[0].metrics.size(), 1u);
  const Reference& bw = refs[0].metrics[0];
  EXPECT_EQ(bw.metric, "bandwidth");
  EXPECT_DOUBLE_EQ(bw.value, 200e9);
  ASSERT_TRUE(bw.lower.has_value());
  EXPECT_DOUBLE_EQ(*bw.lower, -0.10);
  EXPECT_FALSE(bw.upper.has_value());
  EXPECT_EQ(bw.unit, "B/s");
  EXPECT_EQ(bw.line, 30);

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
  EXPECT_EQ(refs[2].line, 33);
  ASSERT_EQ(refs[2].metrics.size(), 1u);
  const Reference& fr = refs[2].metrics[0];
  EXPECT_EQ(fr.metric, "flop_rate");
  EXPECT_DOUBLE_EQ(fr.value, 2.2e12);
  ASSERT_TRUE(fr.lower && fr.upper);
  EXPECT_DOUBLE_EQ(*fr.lower, -0.10);
  EXPECT_DOUBLE_EQ(*fr.upper, 0.25);
  EXPECT_EQ(fr.unit, "FLOP/s");
  EXPECT_EQ(fr.line, 34);
}

TEST(Sites, ClusterExampleGpuAndAccelPartitions) {
  auto site = load_site("cluster");
  ASSERT_TRUE(site) << site.error();
  const Partition* g = site->find("gpu");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->line, 35);
  EXPECT_EQ(g->launcher, LauncherKind::slurm);
  EXPECT_EQ(g->slurm.partition, "gpu_p6");
  EXPECT_EQ(g->slurm.account, "abc@h100");
  EXPECT_EQ(g->slurm.constraint, "h100");
  EXPECT_EQ(g->slurm.qos, "");
  EXPECT_EQ(g->slurm.time, "02:00:00");
  EXPECT_EQ(g->slurm.mpi, "pmix");
  EXPECT_TRUE(g->slurm.options.empty());
  EXPECT_EQ(g->nodes, 2);
  EXPECT_EQ(g->tasks_per_node, 4);
  EXPECT_EQ(g->cpus_per_task, 16);
  EXPECT_EQ(g->gpus_per_node, 4);
  EXPECT_EQ(g->modules, (std::vector<std::string>{"cuda/13.0", "nccl/2.27", "openmpi/4.1.5-cuda"}));
  EXPECT_EQ(g->variables, (std::map<std::string, std::string>{{"NCCL_DEBUG", "WARN"}}));
  EXPECT_EQ(g->backends, (std::vector<std::string>{"cpu", "cuda", "nccl", "mpi"}));
  EXPECT_EQ(g->energy, (std::vector<std::string>{"nvml", "rapl"}));
  EXPECT_DOUBLE_EQ(g->min_clock_fraction, 0.9);
  EXPECT_EQ(g->peaks, (std::map<std::string, double>{{"gpu.tensor.bf16", 989.4e12}}));
  EXPECT_TRUE(g->references.empty());

  const Partition* a = site->find("accel");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->line, 53);
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
            "description, results_db, partitions");
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
            "constraint, time, mpi, options");
  EXPECT_EQ(error_of(parse_site(site_with("    resources:\n      nodes: 2\n      gpus: 4\n"), "t.yaml")),
            "t.yaml:6: unknown key 'gpus' in resources (did you mean 'gpus_per_node'?); keys are: nodes, "
            "tasks_per_node, cpus_per_task, gpus_per_node");
  EXPECT_EQ(error_of(parse_site(site_with("    environment: {module: [gcc]}\n"), "t.yaml")),
            "t.yaml:4: unknown key 'module' in environment (did you mean 'modules'?); keys are: modules, variables");
}

TEST(Sites, StorageTiersOfTheClusterExample) {
  auto site = load_site("cluster");
  ASSERT_TRUE(site) << site.error();
  const Partition* c = site->find("cpu");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->storage.size(), 2u);
  EXPECT_EQ(c->storage[0].name, "scratch");
  EXPECT_EQ(c->storage[0].path, "/lustre/fsn1/scratch");
  EXPECT_EQ(c->storage[0].kind, "flash");
  EXPECT_EQ(c->storage[1].kind, "hdd");
  EXPECT_EQ(c->storage[1].line, 24);
}

TEST(SiteErrors, BadStorageTiers) {
  EXPECT_EQ(error_of(parse_site(site_with("    storage:\n      - {name: s, path: /x, kind: ssd}\n"), "t.yaml")),
            "t.yaml:5: storage kind 'ssd' is not one of flash, hdd, burst_buffer, node_local_nvme, memory, other "
            "(did you mean hdd?)");
  EXPECT_EQ(error_of(parse_site(site_with("    storage:\n      - {name: s, path: rel/dir, kind: hdd}\n"), "t.yaml")),
            "t.yaml:5: storage path 'rel/dir' must be absolute");
  EXPECT_EQ(error_of(parse_site(site_with("    storage:\n      - {name: s, kind: hdd}\n"), "t.yaml")),
            "t.yaml:5: a storage tier needs path");
  EXPECT_EQ(error_of(parse_site(site_with("    storage:\n      - {name: s, path: /a, kind: hdd, size: 3}\n"), "t.yaml")),
            "t.yaml:5: unknown key 'size' in a storage tier; keys are: name, path, kind");
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
