// converge: the driver. Reads suites, plans, starts workers, gathers results, writes the run
// document and prints the table. It links no benchmark and no GPU or MPI library.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/benchmark.hpp"
#include "core/peak.hpp"
#include "core/timer.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "runners/executor.hpp"
#include "runners/report.hpp"
#include "runners/suite.hpp"
#include "runners/workers.hpp"

namespace fs = std::filesystem;
using converge::results::json;
namespace core = converge::core;
namespace results = converge::results;
namespace runners = converge::runners;

namespace {

constexpr int kBadInput = 2;

int fail_input(const std::string& message) {
  std::cerr << "converge: " << message << "\n";
  return kBadInput;
}

struct RunOptions {
  std::string target, suite, out;
  std::vector<std::string> params, peaks;
  int threads = 0;
  double timeout = 0;
  int warmup = -1, min_reps = -1, max_reps = -1;
  double min_time = -1, ci_target = -1, budget = -1;
};

json peaks_json(const core::PeakModel& model) {
  json out = json::object();
  for (const auto& [id, p] : model.all()) out[id] = results::to_json(p);
  return out;
}

core::Expected<core::PeakModel> peak_model(const json& inventory, const std::vector<std::string>& overrides,
                                          std::map<std::string, double>& parsed) {
  auto model = core::PeakModel::from_inventory(results::inventory_from_json(inventory));
  for (const auto& o : overrides) {
    auto kv = core::split_assignment(o);
    if (!kv) return core::make_error("--peak " + kv.error());
    auto v = core::parse_real(kv->second);
    if (!v || *v <= 0) return core::make_error(fmt::format("--peak {}: value must be a positive number in base units "
                                                           "(FLOP/s, B/s), e.g. cpu.fp64=1.5e12", o));
    model.apply_override(kv->first, *v);
    parsed[kv->first] = *v;
  }
  return model;
}

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
  std::map<std::string, double> parsed;
  auto model = peak_model(*inv, peak_overrides, parsed);
  if (!model) return fail_input(model.error());
  if (as_json)
    std::cout << json{{"inventory", *inv}, {"peaks", peaks_json(*model)}}.dump(2) << "\n";
  else
    std::cout << runners::inventory_text(*inv, peaks_json(*model));
  return 0;
}

int cmd_suites() {
  for (const auto& [name, desc] : runners::builtin_suites()) fmt::print("{:<12} {}\n", name, desc);
  return 0;
}

int cmd_run(const RunOptions& o, const std::string& command_line) {
  auto workers = runners::WorkerSet::discover();
  if (!workers) return fail_input(workers.error());

  // What to run: a benchmark id, a built-in suite, or a suite file.
  std::string target = !o.suite.empty() ? o.suite : (o.target.empty() ? "quick" : o.target);
  runners::Suite suite;
  if (o.suite.empty() && workers->find(target) != nullptr) {
    suite.name = target;
    suite.source = "command line";
    runners::SuiteInstance inst{target, {}, json::object(), 0};
    suite.instances.push_back(inst);
  } else if (o.suite.empty() && !runners::is_builtin_suite(target) && !fs::exists(target)) {
    std::vector<std::string> names = workers->ids();
    for (const auto& [n, d] : runners::builtin_suites()) names.push_back(n);
    auto near = core::nearest_names(target, names, 3);
    return fail_input(fmt::format("'{}' is not a benchmark, a built-in suite or a suite file{}", target,
                                  near.empty() ? " (`converge list`, `converge suites`)"
                                               : fmt::format("; did you mean {}?", fmt::join(near, ", "))));
  } else {
    auto loaded = runners::load_suite(target);
    if (!loaded) return fail_input(loaded.error());
    suite = std::move(*loaded);
  }
  // --param applies to every instance that declares the parameter; one nobody declares is an error.
  std::map<std::string, std::string> given;
  for (const auto& a : o.params) {
    auto kv = core::split_assignment(a);
    if (!kv) return fail_input("--param " + kv.error());
    given[kv->first] = kv->second;
  }
  for (const auto& [k, v] : given) {
    bool used = false;
    for (auto& inst : suite.instances) {
      const auto* b = workers->find(inst.benchmark);
      if (b == nullptr) continue;
      for (const auto& p : b->params)
        if (p.name == k) {
          inst.params[k] = v;
          used = true;
        }
    }
    if (!used) {
      std::vector<std::string> names;
      for (const auto& inst : suite.instances)
        if (const auto* b = workers->find(inst.benchmark))
          for (const auto& p : b->params) names.push_back(p.name);
      auto near = core::nearest_names(k, names, 3);
      return fail_input(fmt::format("--param {}: no benchmark in '{}' has a parameter '{}'{}", k, suite.name, k,
                                    near.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(near, ", "))));
    }
  }
  if (auto ok = runners::validate_suite(suite, *workers); !ok) return fail_input(ok.error());

  runners::ExecOptions exec;
  exec.policy = suite.policy;
  auto set_policy = [&](const char* key, double v) { if (v >= 0) exec.policy[key] = v; };
  set_policy("warmup", o.warmup);
  set_policy("min_reps", o.min_reps);
  set_policy("max_reps", o.max_reps);
  set_policy("min_time_s", o.min_time);
  set_policy("ci_target", o.ci_target);
  set_policy("budget_s", o.budget);
  for (const char* k : {"warmup", "min_reps", "max_reps"})
    if (exec.policy.contains(k) && exec.policy[k].is_string()) exec.policy[k] = std::stoi(exec.policy[k].get<std::string>());
  for (const char* k : {"min_time_s", "ci_target", "budget_s"})
    if (exec.policy.contains(k) && exec.policy[k].is_string()) exec.policy[k] = std::stod(exec.policy[k].get<std::string>());
  exec.threads = o.threads;
  exec.timeout_s = o.timeout;

  auto inventory = workers->inventory();
  if (!inventory) {
    std::cerr << "converge: " << inventory.error() << "\n";
    return 1;
  }
  auto model = peak_model(*inventory, o.peaks, exec.peaks);
  if (!model) return fail_input(model.error());

  results::RunDocument doc;
  doc.run_id = results::make_run_id();
  doc.suite = suite.name;
  doc.hosts = {inventory->value("hostname", "")};
  doc.command_line = command_line;
  doc.started_at = core::utc_timestamp();
  doc.complete = false;
  json run = results::to_json(doc);
  run["inventory"] = *inventory;
  run["peaks"] = peaks_json(*model);
  run["results"] = json::array();
  const std::string out = !o.out.empty() ? o.out : fmt::format("converge-results/{}.json", doc.run_id);
  exec.work_dir = (fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path()) /
                  fmt::format(".{}.work", doc.run_id);

  std::vector<runners::PlannedInstance> plan;
  for (std::size_t i = 0; i < suite.instances.size(); ++i) {
    const auto& s = suite.instances[i];
    plan.push_back({static_cast<int>(i), s.benchmark, workers->find(s.benchmark)->worker, s.params, s.policy});
  }
  fmt::print(stderr, "converge: run {} of '{}' ({} instances) on {}\n", doc.run_id, suite.name, plan.size(),
             inventory->value("hostname", "?"));
  for (const auto& w : inventory->value("warnings", std::vector<std::string>{}))
    fmt::print(stderr, "WARNING: {}\n", w);

  std::vector<json> given_by_result;
  bool write_failed = false;
  auto save = [&] {
    if (auto ok = results::write_json_atomic(out, run); !ok) {
      std::cerr << "converge: " << ok.error() << "\n";
      write_failed = true;
    }
  };
  save();
  struct sigaction sa{};
  sa.sa_handler = [](int) { runners::request_stop(); };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::size_t done = 0;
  const bool finished = runners::execute(plan, exec, [&](const runners::PlannedInstance& inst, const json& result) {
    run["results"].push_back(result);
    given_by_result.push_back(inst.params);
    ++done;
    if (!isatty(1) || !isatty(2))
      fmt::print(stderr, "[{}/{}] {}\n", done, plan.size(), runners::result_line(result, inst.params));
    save();  // a result written is kept whatever happens next
  });
  run["finished_at"] = core::utc_timestamp();
  run["complete"] = finished;
  save();
  std::error_code ec;
  if (!std::getenv("CONVERGE_KEEP_WORK")) fs::remove_all(exec.work_dir, ec);

  std::cout << runners::results_table(run, given_by_result);
  std::cout << fmt::format("run document: {}{}\n", out, finished ? "" : " (incomplete: interrupted)");
  if (!finished) return 130;
  if (write_failed) return 1;
  for (const auto& r : run["results"]) {
    const std::string st = r.value("status", "");
    if (st == "failed" || st == "invalid") return 1;
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

  RunOptions ro;
  auto* run = app.add_subcommand("run", "Run a benchmark or a suite, print the table, write the run document");
  run->add_option("target", ro.target, "Benchmark id, built-in suite name or suite YAML file (default: quick)");
  run->add_option("--suite", ro.suite, "Suite name or YAML file (same as giving it as target)");
  run->add_option("--param,-p", ro.params, "name=value for every instance that has the parameter (repeatable)");
  run->add_option("--out,-o", ro.out, "Run document path (default: converge-results/RUN_ID.json)");
  run->add_option("--threads", ro.threads, "OpenMP threads per worker (default: one per physical core)")
      ->check(CLI::PositiveNumber);
  run->add_option("--peak", ro.peaks, "Peak override id=value in base units, e.g. cpu.fp64=1.5e12");
  run->add_option("--timeout", ro.timeout, "Seconds before an instance is killed (default: 3 x budget + 60)");
  run->add_option("--warmup", ro.warmup, "Warm-up repetitions, discarded (default 2)");
  run->add_option("--min-reps", ro.min_reps, "Minimum timed repetitions (default 10)");
  run->add_option("--max-reps", ro.max_reps, "Maximum timed repetitions (default 1000)");
  run->add_option("--min-time", ro.min_time, "Minimum timed seconds (default 0.5)");
  run->add_option("--ci-target", ro.ci_target,
                  "Stop when the 95% CI of the median is this narrow relative to it (default 0.02)");
  run->add_option("--budget", ro.budget, "Wall seconds per instance for repetitions (default 30)");

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
    if (*run) return cmd_run(ro, command_line);
  } catch (const std::exception& e) {
    std::cerr << "converge: internal error: " << e.what() << "\n";
    return 1;
  }
  return kBadInput;
}
