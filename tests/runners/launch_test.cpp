// Launcher command lines (shell quoting, modules, srun placement) and the sbatch script.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runners/launch.hpp"
#include "runners/plan.hpp"
#include "runners/site.hpp"
#include "runners/slurm.hpp"
#include "runners/workers.hpp"
#include "tests/runners/test_util.hpp"

using namespace converge::runners;
using namespace converge::runners::testing;
using converge::results::json;

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
  p.slurm.mpi = "pmix";  // the site's PMI for MPI ranks, on every step
  EXPECT_EQ(srun_options(p, 4, all),
            (std::vector<std::string>{"--nodes=3", "--ntasks=3", "--mpi=pmix", "--kill-on-bad-exit=1"}));
  p.slurm.mpi.clear();

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

// --- inventories of several launches on one node -------------------------------------------

TEST(Workers, MergeInventoryUnitesStorageByPath) {
  json into = {{"hostname", "n1"}, {"storage", json::array({{{"tier", "flash"}, {"path", "/flash"}, {"type", "xfs"}}})}};
  const json other = {{"hostname", "n1"},
                      {"storage", json::array({{{"tier", "flash"}, {"path", "/flash"}, {"type", "changed"}},
                                               {{"tier", "hdd"}, {"path", "/hdd"}, {"error", "ENOENT: ..."}}})}};
  merge_inventory(into, other);
  ASSERT_EQ(into["storage"].size(), 2u);
  EXPECT_EQ(into["storage"][0]["type"], "xfs");  // the first description of a path is kept
  EXPECT_EQ(into["storage"][1]["path"], "/hdd");
  json none = {{"hostname", "n1"}};  // an inventory from before storage was recorded
  merge_inventory(none, other);
  EXPECT_EQ(none["storage"], other["storage"]);
  merge_inventory(into, json{{"hostname", "n1"}});
  EXPECT_EQ(into["storage"].size(), 2u);
}
