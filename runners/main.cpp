// converge: the driver. Reads suites, plans, starts workers, gathers results, writes the run
// document and prints the table. It links no benchmark and no GPU or MPI library.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/benchmark.hpp"
#include "core/peak.hpp"
#include "core/timer.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "runners/executor.hpp"
#include "runners/analyze_cmd.hpp"
#include "runners/report.hpp"
#include "runners/report_cmd.hpp"
#include "runners/results_cmd.hpp"
#include "runners/run.hpp"
#include "runners/site.hpp"
#include "runners/suite.hpp"
#include "runners/workers.hpp"

namespace fs = std::filesystem;
using converge::results::json;
namespace core = converge::core;
namespace results = converge::results;
namespace runners = converge::runners;

namespace {

using runners::kBadInput;

int fail_input(const std::string& message) { return runners::bad_input(message); }

int cmd_list(bool as_json, const std::string& filter) {
  auto workers = runners::WorkerSet::discover();
  if (!workers) return fail_input(workers.error());
  json all = json::array();
  for (const auto& b : workers->benchmarks()) {
    if (!filter.empty() && b.id.find(filter) == std::string::npos) continue;
    if (as_json) {
      json params = json::array();
      for (const auto& p : b.params) params.push_back(results::to_json(p));
      all.push_back({{"id", b.id}, {"family", b.family}, {"backend", b.backend}, {"summary", b.summary},
                     {"worker", fs::path(b.worker).filename().string()}, {"params", params}, {"metrics", b.metrics}});
      continue;
    }
    fmt::print("{}  [{}/{}, {}]\n    {}\n", b.id, b.family, b.backend, fs::path(b.worker).filename().string(), b.summary);
    for (const auto& p : b.params)
      fmt::print("    {:<12} {:<8} default {:<8} {}\n", p.name, core::to_string(p.type), p.default_value, p.doc);
  }
  if (as_json) std::cout << all.dump(2) << "\n";
  return 0;
}

int cmd_info(bool as_json, const std::vector<std::string>& peak_overrides) {
  auto workers = runners::WorkerSet::discover();
  if (!workers) return fail_input(workers.error());
  auto inv = workers->inventory();
  if (!inv) {
    std::cerr << "converge: " << inv.error() << "\n";
    return 1;
  }
  auto overrides = runners::parse_peak_overrides(peak_overrides);
  if (!overrides) return fail_input(overrides.error());
  const json peaks = runners::peaks_for(*inv, *overrides);
  if (as_json)
    std::cout << json{{"inventory", *inv}, {"peaks", peaks}}.dump(2) << "\n";
  else
    std::cout << runners::inventory_text(*inv, peaks);
  return 0;
}

int cmd_suites() {
  for (const auto& [name, desc] : runners::builtin_suites()) fmt::print("{:<12} {}\n", name, desc);
  return 0;
}

int cmd_sites(const std::string& site_name) {
  if (site_name.empty()) {
    auto local = runners::default_site();
    fmt::print("{:<12} {} (used when no --site is given)\n", "local", local.partitions.front().description);
    for (const auto& [name, desc] : runners::builtin_sites()) fmt::print("{:<12} {}\n", name, desc);
    fmt::print("\n`converge sites --site NAME_OR_FILE` shows a site's partitions.\n");
    return 0;
  }
  auto site = runners::load_site(site_name);
  if (!site) return fail_input(site.error());
  auto workers = runners::WorkerSet::discover();
  if (!workers) return fail_input(workers.error());
  if (auto ok = runners::validate_site(*site, *workers); !ok) return fail_input(ok.error());
  fmt::print("site {} ({}): {}\n", site->name, site->source, site->description);
  for (const auto& p : site->partitions) {
    fmt::print("\n  {:<10} {}\n", p.name, p.description);
    fmt::print("    launcher {}, {} node(s) x {} task(s), {} CPUs/task, {} GPUs/node\n", runners::to_string(p.launcher),
               p.nodes, p.tasks_per_node, p.cpus_per_task, p.gpus_per_node);
    if (!p.backends.empty()) fmt::print("    backends: {}\n", fmt::join(p.backends, ", "));
    if (!p.energy.empty()) fmt::print("    energy meters: {}\n", fmt::join(p.energy, ", "));
    if (!p.references.empty()) fmt::print("    {} reference figure(s) for acceptance\n", p.references.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"converge: benchmarks and characterises converged HPC/AI systems (CPU, GPU, interconnect, "
               "storage), with verified figures, statistics and the system inventory in one run document."};
  app.set_version_flag("--version", std::string(core::suite_version()));
  app.require_subcommand(1);
  app.footer("Exit status: 0 all results ok or skipped; 1 a result failed or was invalid; 2 bad input; "
             "130 interrupted (the run document is kept, marked incomplete).\n"
             "Examples:\n  converge run                      # the quick suite\n"
             "  converge run micro.stream.triad --param n=80M --out triad.json\n"
             "  converge run node                 # full single-node characterisation\n"
             "  converge run --site cluster.yaml --partition gpu --suite acceptance --dry-run\n"
             "  converge run --resume converge-results/RUN_ID.json\n"
             "  converge screen --site cluster.yaml --partition cpu --suite quick\n"
             "  converge results list --partition cpu --since 2026-11-01\n"
             "  converge compare baseline HEAD_RUN_ID      # exit 1 when something got slower\n"
             "  converge check RUN_ID --site cluster.yaml --format junit -o junit.xml\n"
             "  converge history micro.stream.triad --partition cpu\n"
             "  converge report RUN_ID --baseline baseline -o report.html\n"
             "  converge list stream               # benchmarks and their parameters");

  bool list_json = false, info_json = false;
  std::string list_filter;
  auto* list = app.add_subcommand("list", "List benchmarks with their parameters, defaults and docs");
  list->add_flag("--json", list_json, "Machine-readable output");
  list->add_option("filter", list_filter, "Only ids containing this text");

  std::vector<std::string> info_peaks;
  auto* info = app.add_subcommand("info", "Print this node's inventory and peak model");
  info->add_flag("--json", info_json, "Machine-readable output");
  info->add_option("--peak", info_peaks, "Peak override id=value (base units), e.g. cpu.fp64=1.5e12");

  auto* suites = app.add_subcommand("suites", "List the built-in suites");

  runners::RunRequest ro;
  auto add_run_options = [&](CLI::App* cmd) {
    cmd->add_option("--site", ro.site,
                    "Site config: a built-in example (`converge sites`) or a YAML file (default: this machine)");
    cmd->add_option("--partition", ro.partition, "Partition of the site (default: the site's only partition)");
    cmd->add_option("--param,-p", ro.params, "name=value for every instance that has the parameter (repeatable)");
    cmd->add_option("--out,-o", ro.out, "Run document path (default: converge-results/RUN_ID.json)");
    cmd->add_option("--energy", ro.energy,
                    "Energy meters: auto (those the node has: rapl, nvml), none, or a list such as rapl,nvml,ipmi "
                    "(default: the partition's energy list, else auto)");
    cmd->add_option("--idle-baseline", ro.idle_baseline,
                    "Seconds of idle power each worker measures before its first benchmark: results then show "
                    "dynamic energy, and sampled power meets EE HPC WG Level 2 (default 0: none)");
    cmd->add_option("--db", ro.db,
                    "Results store to index the run in (default: the site's results_db, else $CONVERGE_DB, else "
                    "$XDG_DATA_HOME/converge/results.db)");
    cmd->add_option("--work-dir", ro.work_dir,
                    "Directory for the run's plans, events and job scripts, in a RUN_ID subdirectory removed when the run "
                    "completes (default: .RUN_ID.work beside the run document); Slurm jobs need it on a filesystem the "
                    "partition's nodes share");
    cmd->add_flag("--dry-run", ro.dry_run, "Print the plan, the commands and the sbatch script; run nothing");
    cmd->add_option("--threads", ro.threads, "OpenMP threads per worker (default: one per physical core)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--peak", ro.peaks, "Peak override id=value in base units, e.g. cpu.fp64=1.5e12");
    cmd->add_option("--timeout", ro.timeout, "Seconds before an instance is killed (default: 3 x budget + 60)");
    cmd->add_option("--warmup", ro.warmup, "Warm-up repetitions, discarded (default 2)");
    cmd->add_option("--min-reps", ro.min_reps, "Minimum timed repetitions (default 10)");
    cmd->add_option("--max-reps", ro.max_reps, "Maximum timed repetitions (default 1000)");
    cmd->add_option("--min-time", ro.min_time, "Minimum timed seconds (default 0.5)");
    cmd->add_option("--ci-target", ro.ci_target,
                    "Stop when the 95% CI of the median is this narrow relative to it (default 0.02)");
    cmd->add_option("--budget", ro.budget, "Wall seconds per instance for repetitions (default 30)");
  };
  auto* run = app.add_subcommand("run", "Run a benchmark or a suite on a partition, print the table, write the run "
                                        "document");
  run->add_option("target", ro.target, "Benchmark id, built-in suite name or suite YAML file (default: quick)");
  run->add_option("--suite", ro.suite, "Suite name or YAML file (same as giving it as target)");
  run->add_option("--resume", ro.resume,
                  "Run what an interrupted run (document path or run id) is missing, with its original settings");
  add_run_options(run);

  auto* screen = app.add_subcommand(
      "screen", "Run the node-local part of a suite on every node of one allocation at once and name outlier nodes");
  screen->add_option("--suite", ro.suite, "Suite name or YAML file (default: quick)");
  screen->add_option("--z", ro.screen.z_threshold,
                     "Modified z-score (0.6745 |x - median| / MAD across nodes) above which a node is an outlier")
      ->capture_default_str();
  screen->add_option("--min-deviation", ro.screen.min_deviation,
                     "An outlier also differs from the partition median by at least this fraction")
      ->capture_default_str();
  add_run_options(screen);
  screen->footer("Exit status: 0 no outlier; 1 an outlier node (named on an OUTLIER line); 2 bad input; "
                 "130 interrupted.");

  runners::CompareRequest cq;
  std::string partitions_csv;
  auto* cmp = app.add_subcommand("compare", "Compare two runs (what got slower, how sure, what changed), or partitions");
  cmp->add_option("baseline", cq.baseline, "Baseline run: id, unique id prefix, tag, or document path");
  cmp->add_option("candidate", cq.candidate, "Candidate run (same forms)");
  cmp->add_option("--threshold", cq.threshold, "Smallest change in median time that counts")->capture_default_str();
  cmp->add_option("--partitions", partitions_csv, "Compare the newest complete runs on these partitions: cpu,gpu,accel");
  cmp->add_option("--suite", cq.suite, "With --partitions: runs of this suite");
  cmp->add_option("--base", cq.base, "With --partitions: the partition to compare against (default: the first)");
  cmp->add_option("--db", cq.db, "Results store (default: $CONVERGE_DB, else $XDG_DATA_HOME/converge/results.db)");
  cmp->add_flag("--json", cq.json, "Machine-readable output");
  cmp->footer("Verdicts per instance, from the raw samples: slower/faster when the 95% bootstrap CI of the median-time "
              "ratio excludes 1, the change exceeds the threshold and Mann-Whitney p < 0.05; unchanged when the CI lies "
              "within the threshold; noisy otherwise. Exit status 1 when any instance is slower.");

  runners::CheckRequest kq;
  auto* chk = app.add_subcommand("check", "Check a run against a partition's reference figures (acceptance)");
  chk->add_option("run", kq.run, "Run: id, unique id prefix, tag, or document path")->required();
  chk->add_option("--site", kq.site, "Site config with the partition's references")->required();
  chk->add_option("--partition", kq.partition, "Partition (default: the run's)");
  chk->add_option("--format", kq.format, "table, md (Markdown) or junit (JUnit XML)")->capture_default_str();
  chk->add_option("-o,--out", kq.out, "Write the format there (the table still goes to the terminal)");
  chk->add_option("--db", kq.db, "Results store");
  chk->footer("Exit status: 0 every reference met; 1 a figure failed or is missing; 2 bad input.");

  runners::HistoryRequest hq;
  auto* hist = app.add_subcommand("history", "A benchmark's figure over stored runs, with change points marked");
  hist->add_option("benchmark", hq.benchmark, "Benchmark id")->required();
  hist->add_option("--partition", hq.partition, "Only runs on this partition");
  hist->add_option("--metric", hq.metric, "Metric (default: the benchmark's first)");
  hist->add_option("--param,-p", hq.params, "name=value the instance must have (given or as run)");
  hist->add_option("--alpha", hq.alpha, "Significance of a change point (permutation test)")->capture_default_str();
  hist->add_option("--db", hq.db, "Results store");

  runners::ResultsRequest rq;
  auto* res = app.add_subcommand("results", "The results store: list, show, tag, import, export, rm, reindex runs");
  res->add_option("--db", rq.db, "Store path (default: $CONVERGE_DB, else $XDG_DATA_HOME/converge/results.db)");
  res->require_subcommand(1);
  auto* r_list = res->add_subcommand("list", "Stored runs, oldest first, with filters");
  r_list->add_option("--suite", rq.filter.suite, "Only this suite");
  r_list->add_option("--site", rq.filter.site, "Only this site");
  r_list->add_option("--partition", rq.filter.partition, "Only this partition");
  r_list->add_option("--host", rq.filter.host, "Only runs that used this host");
  r_list->add_option("--tag", rq.filter.tag, "Only runs with this tag");
  r_list->add_option("--benchmark", rq.filter.benchmark, "Only runs with results of this benchmark");
  r_list->add_option("--since", rq.filter.since, "Started at or after (ISO 8601 prefix: 2026-11-25, 2026-11-25T10)");
  r_list->add_option("--until", rq.filter.until, "Started at or before (ISO 8601 prefix, inclusive)");
  r_list->add_flag("--complete", rq.filter.complete_only, "Only complete runs");
  r_list->add_option("--limit", rq.filter.limit, "Only the newest N");
  r_list->add_flag("--json", rq.json, "Machine-readable output");
  auto* r_show = res->add_subcommand("show", "A stored run's header and results table");
  auto* r_tag = res->add_subcommand("tag", "Tag a run (tags name runs in compare: baseline, driver-550, ...)");
  r_tag->add_flag("--remove", rq.remove, "Remove the tags instead");
  auto* r_import = res->add_subcommand("import", "Index run document files");
  auto* r_export = res->add_subcommand("export", "Write a stored run's document");
  r_export->add_option("-o,--out", rq.out, "File to write (atomically); default: standard output");
  auto* r_rm = res->add_subcommand("rm", "Remove runs from the store (document files are left alone)");
  auto* r_reindex = res->add_subcommand("reindex", "Rebuild the store from a directory of run documents");
  for (auto* c : {r_show, r_tag, r_import, r_export, r_rm, r_reindex})
    c->add_option("args", rq.args, c == r_import ? "Run document files"
                                   : c == r_reindex ? "Directory of run documents"
                                   : c == r_tag     ? "RUN TAG..."
                                                    : "Run: id, unique id prefix, or tag (the newest run with it)")
        ->required();

  runners::ReportRequest pq;
  auto* rep = app.add_subcommand("report", "A report of runs for people (HTML with charts, Markdown) or spreadsheets (CSV)");
  rep->add_option("runs", pq.runs, "Runs: id, unique id prefix, tag, or document path")->required();
  rep->add_option("--format", pq.format, "html (self-contained, with charts), md (Markdown) or csv")
      ->check(CLI::IsMember({"html", "md", "csv"}))
      ->capture_default_str();
  rep->add_option("-o,--out", pq.out, "File to write (default: standard output)");
  rep->add_option("--baseline", pq.baseline, "Run to compare each run with: regression deltas with CIs (same forms)");
  rep->add_option("--db", pq.db, "Results store (default: $CONVERGE_DB, else $XDG_DATA_HOME/converge/results.db)");
  rep->add_option("--site", pq.site, "Check each run against its partition's reference figures: acceptance table and chart");
  rep->add_option("--partition", pq.partition, "With --site: the partition (default: each run's)");
  rep->footer("HTML inlines vega, vega-lite and vega-embed from $CONVERGE_VEGA_DIR, else the source tree's "
              "report/node_modules (scripts/install-deps.sh installs them). Exit status: 0 written; 1 a run or the "
              "charting libraries could not be read; 2 bad input.");

  std::string sites_name;
  auto* sites = app.add_subcommand("sites", "List the example sites, or show one site's partitions");
  sites->add_option("--site", sites_name, "A built-in site name or a site YAML file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kBadInput;
  }
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  try {
    if (*list) return cmd_list(list_json, list_filter);
    if (*info) return cmd_info(info_json, info_peaks);
    if (*suites) return cmd_suites();
    if (*sites) return cmd_sites(sites_name);
    if (*rep) return runners::report_main(pq);
    if (*cmp) {
      std::stringstream ss(partitions_csv);
      for (std::string p; std::getline(ss, p, ',');)
        if (!p.empty()) cq.partitions.push_back(p);
      return runners::compare_main(cq);
    }
    if (*chk) return runners::check_main(kq);
    if (*hist) return runners::history_main(hq);
    if (*res) {
      for (auto* c : res->get_subcommands()) rq.action = c->get_name();
      return runners::results_main(rq);
    }
    ro.command_line = command_line;
    if (*run) return runners::run_main(ro);
    if (*screen) {
      ro.screening = true;
      if (ro.suite.empty()) ro.suite = "quick";
      return runners::run_main(ro);
    }
  } catch (const std::exception& e) {
    std::cerr << "converge: internal error: " << e.what() << "\n";
    return 1;
  }
  return kBadInput;
}
