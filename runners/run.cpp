#include "runners/run.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "core/benchmark.hpp"
#include "core/peak.hpp"
#include "core/timer.hpp"
#include "core/units.hpp"
#include "analysis/energy_total.hpp"
#include "runners/executor.hpp"
#include "runners/launch.hpp"
#include "runners/plan.hpp"
#include "runners/report.hpp"
#include "runners/results_cmd.hpp"
#include "runners/site.hpp"
#include "runners/slurm.hpp"
#include "runners/suite.hpp"
#include "runners/workers.hpp"

namespace converge::runners {

namespace fs = std::filesystem;
using results::json;

int bad_input(const std::string& message) {
  std::cerr << "converge: " << message << "\n";
  return kBadInput;
}

int failure(const std::string& message) {
  std::cerr << "converge: " << message << "\n";
  return 1;
}

core::Expected<std::map<std::string, double>> parse_peak_overrides(const std::vector<std::string>& given,
                                                                   std::map<std::string, double> base) {
  for (const auto& o : given) {
    auto kv = core::split_assignment(o);
    if (!kv) return core::make_error("--peak " + kv.error());
    auto v = core::parse_real(kv->second);
    if (!v || *v <= 0)
      return core::make_error(fmt::format("--peak {}: value must be a positive number in base units (FLOP/s, B/s), "
                                          "e.g. cpu.fp64=1.5e12", o));
    base[kv->first] = *v;
  }
  return base;
}

json peaks_for(const json& inventory, const std::map<std::string, double>& overrides) {
  auto model = core::PeakModel::from_inventory(results::inventory_from_json(inventory));
  for (const auto& [id, v] : overrides) model.apply_override(id, v);
  json out = json::object();
  for (const auto& [id, p] : model.all()) out[id] = results::to_json(p);
  return out;
}

namespace {

int fail_input(const std::string& message) { return bad_input(message); }

// The suite to run: a benchmark id, a built-in suite, or a suite file, with --param applied.
core::Expected<Suite> suite_for(const RunRequest& o, const WorkerSet& workers) {
  const std::string target = !o.suite.empty() ? o.suite : (o.target.empty() ? "quick" : o.target);
  Suite suite;
  if (o.suite.empty() && workers.find(target) != nullptr) {
    suite.name = target;
    suite.source = "command line";
    SuiteInstance single;
    single.benchmark = target;
    suite.instances.push_back(single);
  } else if (o.suite.empty() && !is_builtin_suite(target) && !fs::exists(target)) {
    std::vector<std::string> names = workers.ids();
    for (const auto& [n, d] : builtin_suites()) names.push_back(n);
    auto near = core::nearest_names(target, names, 3);
    return core::make_error(fmt::format("'{}' is not a benchmark, a built-in suite or a suite file{}", target,
                                        near.empty() ? " (`converge list`, `converge suites`)"
                                                     : fmt::format("; did you mean {}?", fmt::join(near, ", "))));
  } else {
    auto loaded = load_suite(target);
    if (!loaded) return loaded;
    suite = std::move(*loaded);
  }
  if (auto ok = resolve_suite(suite, workers); !ok) return core::make_error(ok.error());
  // --param applies to every instance that declares the parameter; one nobody declares is an error.
  std::map<std::string, std::string> given;
  for (const auto& a : o.params) {
    auto kv = core::split_assignment(a);
    if (!kv) return core::make_error("--param " + kv.error());
    given[kv->first] = kv->second;
  }
  for (const auto& [k, v] : given) {
    bool used = false;
    std::vector<std::string> names;
    for (auto& inst : suite.instances)
      for (const auto& p : workers.find(inst.benchmark)->params) {
        names.push_back(p.name);
        if (p.name == k) {
          inst.params[k] = v;
          used = true;
        }
      }
    if (!used) {
      auto near = core::nearest_names(k, names, 3);
      return core::make_error(fmt::format("--param {}: no benchmark in '{}' has a parameter '{}'{}", k, suite.name, k,
                                          near.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(near, ", "))));
    }
  }
  if (auto ok = resolve_suite(suite, workers); !ok) return core::make_error(ok.error());
  return suite;
}

json policy_for(const RunRequest& o, json policy) {
  auto set = [&](const char* key, double v, bool integral) {
    if (v < 0) return;
    if (integral) policy[key] = static_cast<long long>(v);
    else policy[key] = v;
  };
  set("warmup", o.warmup, true);
  set("min_reps", o.min_reps, true);
  set("max_reps", o.max_reps, true);
  set("min_time_s", o.min_time, false);
  set("ci_target", o.ci_target, false);
  set("budget_s", o.budget, false);
  return policy;
}

std::string given_text(const PlannedInstance& p) {
  std::string out;
  for (const auto& [k, v] : p.params) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

std::string format_dry_run(const Site& site, const Partition& p, const LaunchContext& ctx, const Plan& plan,
                           const ExecOptions& exec, const SlurmJob& job, const std::string& suite) {
  std::string s = fmt::format("plan: suite '{}' on site '{}' ({}), partition '{}'\n", suite, site.name, site.source, p.name);
  s += fmt::format("launcher: {} ({}); resources: {} node(s) x {} task(s), {} CPUs per task, {} GPUs per node\n",
                   to_string(p.launcher), ctx.mode, ctx.nodes, p.tasks_per_node,
                   p.cpus_per_task > 0 ? std::to_string(p.cpus_per_task) : "default", p.gpus_per_node);
  if (!p.modules.empty()) s += fmt::format("modules: {}\n", fmt::join(p.modules, " "));
  for (const auto& [k, v] : p.variables) s += fmt::format("variable: {}={}\n", k, v);
  if (!p.energy.empty()) s += fmt::format("energy meters: {}\n", fmt::join(p.energy, ", "));
  for (const auto& [k, v] : exec.peaks) s += fmt::format("peak override: {} = {:g}\n", k, v);
  s += fmt::format("\n{} instance(s):\n", plan.instances.size());
  for (const auto& i : plan.instances)
    s += fmt::format("  [{}] {} {} (ranks {}, {}; time limit {:.0f} s)\n", i.index, i.benchmark, given_text(i), i.ranks,
                     to_string(i.placement), instance_timeout(i, exec));
  for (const auto& e : plan.excluded) s += fmt::format("  not planned: {}\n", e);
  if (ctx.mode == "sbatch") {
    s += fmt::format("\nsbatch script ({}/job.sbatch), submitted with `sbatch --parsable`:\n\n", job.job_dir);
    s += sbatch_script(plan.instances, p, exec, job);
  } else {
    // As execute() batches them: consecutive instances with one worker and one launch command.
    s += "\ncommands (one launch per batch; a crash or time-out restarts the rest of its batch):\n";
    int launch = 0;
    for (std::size_t i = 0; i < plan.instances.size();) {
      const auto& first = plan.instances[i];
      const auto prefix = launch_prefix(ctx, first);
      std::vector<int> indices;
      std::size_t j = i;
      for (; j < plan.instances.size() && plan.instances[j].worker == first.worker &&
             plan.instances[j].ranks == first.ranks && launch_prefix(ctx, plan.instances[j]) == prefix;
           ++j)
        indices.push_back(plan.instances[j].index);
      auto argv = prefix;
      const std::string stem = fmt::format("{}/launch-{}", exec.work_dir, launch++);
      auto w = with_modules(p, {first.worker, "--plan", stem + ".plan.json", "--out", stem + ".events.{rank}.jsonl"});
      argv.insert(argv.end(), w.begin(), w.end());
      s += fmt::format("  # instances {}\n  {}\n", fmt::join(indices, ","), shell_join(argv));
      i = j;
    }
  }
  return s;
}

std::string default_run_path(const std::string& run_id) { return fmt::format("converge-results/{}.json", run_id); }

}  // namespace

int run_main(const RunRequest& o) {
  auto workers = WorkerSet::discover();
  if (!workers) return fail_input(workers.error());

  // ---- what, where: a new run, or the rest of an earlier one ------------------------------
  json run;
  std::string out;
  Site site;
  Partition partition;
  std::vector<PlannedInstance> pending;
  Plan plan;
  ExecOptions exec;
  std::string suite_name;
  if (!o.resume.empty()) {
    // The rest of a run is measured as its first attempt was: same site, plan and policy.
    std::vector<std::string> clash;
    if (!o.target.empty() || !o.suite.empty()) clash.push_back("a suite or benchmark");
    if (!o.site.empty()) clash.push_back("--site");
    if (!o.partition.empty()) clash.push_back("--partition");
    if (!o.out.empty()) clash.push_back("--out");
    if (!o.params.empty()) clash.push_back("--param");
    if (!o.peaks.empty()) clash.push_back("--peak");
    if (o.threads > 0) clash.push_back("--threads");
    if (o.warmup >= 0 || o.min_reps >= 0 || o.max_reps >= 0 || o.min_time >= 0 || o.ci_target >= 0 || o.budget >= 0)
      clash.push_back("repetition policy options");
    if (!clash.empty())
      return fail_input(fmt::format("--resume runs the rest of a run with that run's own settings; {} cannot be "
                                    "given with it", fmt::join(clash, ", ")));
    out = fs::exists(o.resume) ? o.resume : default_run_path(o.resume);
    auto doc = results::read_json_file(out);
    if (!doc) return fail_input(fmt::format("--resume {}: {}", o.resume, doc.error()));
    if (auto parsed = results::run_from_json(*doc); !parsed) return fail_input(out + ": " + parsed.error());
    run = std::move(*doc);
    if (run.value("complete", false)) {
      fmt::print("run {} is complete; nothing to resume ({})\n", run.value("run_id", ""), out);
      return 0;
    }
    const json launch = run.value("launch", json::object());
    auto p = parse_partition_text(launch.value("partition_config", json::object()).dump(),
                                  out + " (launch.partition_config)");
    if (!p) return fail_input(p.error());
    partition = std::move(*p);
    site.name = run.value("site", "local");
    site.source = launch.value("site_source", "");
    auto planned = plan_from_json(run.value("plan", json::array()), *workers);
    if (!planned) return fail_input(out + ": " + planned.error());
    std::set<int> have;
    for (const auto& r : run["results"]) have.insert(r.value("instance", -1));
    for (auto& i : *planned)
      if (!have.count(i.index)) pending.push_back(i);
    plan.instances = *planned;
    suite_name = run.value("suite", "");
    exec.policy = launch.value("policy", json::object());
    exec.threads = launch.value("threads", 0);
    exec.timeout_s = launch.value("timeout_s", 0.0);
    const json overrides = launch.value("peak_overrides", json::object());
    for (const auto& [k, v] : overrides.items()) exec.peaks[k] = v.get<double>();
  } else {
    auto loaded = load_site(o.site);
    if (!loaded) return fail_input(loaded.error());
    site = std::move(*loaded);
    if (auto ok = validate_site(site, *workers); !ok) return fail_input(ok.error());
    std::string pname = o.partition;
    if (pname.empty()) {
      if (site.partitions.size() > 1)
        return fail_input(fmt::format("site '{}' has partitions {}: choose one with --partition", site.name,
                                      fmt::join(site.partition_names(), ", ")));
      pname = site.partitions.front().name;
    }
    const Partition* found = site.find(pname);
    if (found == nullptr) {
      auto near = core::nearest_names(pname, site.partition_names(), 2);
      return fail_input(fmt::format("site '{}' ({}) has no partition '{}'{}; partitions: {}", site.name, site.source,
                                    pname, near.empty() ? "" : fmt::format(" (did you mean {}?)", fmt::join(near, ", ")),
                                    fmt::join(site.partition_names(), ", ")));
    }
    partition = *found;
    auto suite = suite_for(o, *workers);
    if (!suite) return fail_input(suite.error());
    suite_name = suite->name;
    exec.policy = suite->policy;
    const auto ctx0 = make_launch_context(partition);
    auto made = make_plan(*suite, *workers, partition, ctx0.nodes, o.screening);
    if (!made) return fail_input(made.error());
    plan = std::move(*made);
    plan.excluded.insert(plan.excluded.end(), suite->not_built.begin(), suite->not_built.end());
    pending = plan.instances;
    auto peaks = parse_peak_overrides(o.peaks, partition.peaks);
    if (!peaks) return fail_input(peaks.error());
    exec.peaks = *peaks;
    exec.threads = o.threads;
    exec.timeout_s = o.timeout;
    results::RunDocument doc;
    doc.run_id = results::make_run_id();
    doc.suite = suite_name;
    doc.site = site.name;
    doc.partition = partition.name;
    doc.command_line = o.command_line;
    doc.started_at = core::utc_timestamp();
    doc.complete = false;
    run = results::to_json(doc);
    out = !o.out.empty() ? o.out : default_run_path(doc.run_id);
  }
  exec.policy = policy_for(o, exec.policy);
  if (o.idle_baseline > 0) exec.idle_baseline_s = o.idle_baseline;
  exec.min_clock_fraction = partition.min_clock_fraction;
  // The partition's meters; without a list, whatever the node has (auto).
  exec.energy = !o.energy.empty() ? o.energy
                : partition.energy.empty() ? "auto"
                                           : fmt::format("{}", fmt::join(partition.energy, ","));
  const std::string run_id = run.value("run_id", "");
  const LaunchContext ctx = make_launch_context(partition);
  // The run's own directory, created here and removed once the run is complete: inside
  // --work-dir when given (never the directory itself), else beside the run document.
  const fs::path run_work =
      !o.work_dir.empty() ? fs::path(o.work_dir) / run_id
                          : (fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path()) /
                                fmt::format(".{}.work", run_id);
  const int attempt = static_cast<int>(run.value("launch", json::object()).value("attempts", json::array()).size());
  exec.work_dir = (run_work / fmt::format("attempt-{}", attempt)).string();
  exec.prefix = [&](const PlannedInstance& i) { return launch_prefix(ctx, i); };
  exec.wrap = [&](std::vector<std::string> argv) { return with_modules(partition, std::move(argv)); };
  SlurmJob job{exec.work_dir, run_id, suite_name, ctx.nodes};

  if (o.dry_run) {
    Plan shown{pending, plan.excluded};  // for --resume: what is still missing
    std::cout << format_dry_run(site, partition, ctx, shown, exec, job, suite_name);
    return 0;
  }

  // ---- the run document: what is known before anything starts ---------------------------
  json& launch = run["launch"];
  if (o.resume.empty()) {
    launch = {{"launcher", to_string(partition.launcher)}, {"site_source", site.source},
              {"partition_config", partition.config}, {"modules", loaded_modules()}, {"attempts", json::array()}};
    for (const auto& m : partition.modules) launch["modules"].push_back(m);
    run["plan"] = plan_to_json(plan.instances);
    // Kept so that --resume runs the rest exactly as the first attempt did.
    launch["policy"] = exec.policy;
    launch["threads"] = exec.threads;
    launch["timeout_s"] = exec.timeout_s;
    launch["peak_overrides"] = exec.peaks;
  }
  json& attempt_doc = launch["attempts"].emplace_back(
      json{{"started_at", core::utc_timestamp()}, {"finished_at", ""}, {"mode", ctx.mode},
           {"commands", json::array()}, {"job_id", ctx.job_id}, {"nodelist", ""}, {"job_state", ""}, {"script", ""}});
  if (const char* nl = std::getenv("SLURM_JOB_NODELIST"); nl != nullptr && ctx.mode == "srun") attempt_doc["nodelist"] = nl;
  exec.on_launch = [&](const std::vector<std::string>& argv) { attempt_doc["commands"].push_back(shell_join(argv)); };

  // The inventory: this machine's for local launches; a Slurm job's own nodes report theirs.
  if (o.resume.empty()) {
    auto inventory = workers->inventory();
    if (!inventory) {
      std::cerr << "converge: " << inventory.error() << "\n";
      return 1;
    }
    run["inventory"] = *inventory;
    run["peaks"] = peaks_for(*inventory, exec.peaks);
    if (ctx.mode == "local") run["hosts"] = {inventory->value("hostname", "")};
    else  // replaced by the first node's own inventory as soon as one reports
      run["inventory"]["warnings"].push_back(fmt::format(
          "inventory of the launching host {}: no node of the launch has reported its own yet",
          inventory->value("hostname", "")));
  }
  bool have_remote_inventory = ctx.mode == "local";
  std::set<std::string> hosts;
  for (const auto& h : run["hosts"]) hosts.insert(h.get<std::string>());

  apply_variables(partition);
  fmt::print(stderr, "converge: {} {} of '{}' ({} of {} instances) on {}/{} via {}\n",
             o.resume.empty() ? "run" : "resuming run", run_id, suite_name, pending.size(), plan.instances.size(),
             site.name, partition.name, ctx.mode);
  for (const auto& e : plan.excluded) fmt::print(stderr, "converge: not planned: {}\n", e);
  if (ctx.mode == "local")
    for (const auto& w : run["inventory"].value("warnings", std::vector<std::string>{}))
      fmt::print(stderr, "WARNING: {}\n", w);

  std::vector<json> given_by_result;
  for (const auto& r : run["results"]) {
    const int idx = r.value("instance", -1);
    json g = json::object();
    for (const auto& p : plan.instances)
      if (p.index == idx) g = p.params;
    given_by_result.push_back(g);
  }
  bool write_failed = false;
  auto save = [&] {
    run["hosts"] = json(std::vector<std::string>(hosts.begin(), hosts.end()));
    if (auto ok = results::write_json_atomic(out, run); !ok) {
      std::cerr << "converge: " << ok.error() << "\n";
      write_failed = true;
    }
  };
  save();
  struct sigaction sa{};
  sa.sa_handler = [](int) { request_stop(); };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::size_t done = 0;
  Sink sink;
  sink.result = [&](const PlannedInstance& inst, const json& result) {
    run["results"].push_back(result);
    given_by_result.push_back(inst.params);
    if (!result.value("host", "").empty()) hosts.insert(result.value("host", ""));
    ++done;
    if (!isatty(1) || !isatty(2))
      fmt::print(stderr, "[{}] {}\n", done, result_line(result, inst.params));
    save();  // a result written is kept whatever happens next
  };
  sink.inventory = [&](const std::string& host, const json& inventory) {
    hosts.insert(host);
    if (ctx.mode != "local") {
      // Every node, so that nodes can be compared; each worker kind on a node adds its probes'.
      json& known = run["node_inventories"][host];
      if (known.is_null()) known = inventory;
      else merge_inventory(known, inventory);
      save();
    }
    if (!have_remote_inventory) {  // the first node to report (rank 0's) describes the run
      have_remote_inventory = true;
      run["inventory"] = inventory;
      run["peaks"] = peaks_for(inventory, exec.peaks);
      save();
    } else if (run["inventory"].value("hostname", "") == inventory.value("hostname", "")) {
      const json before = run["inventory"];
      merge_inventory(run["inventory"], inventory);
      if (run["inventory"] != before) {
        run["peaks"] = peaks_for(run["inventory"], exec.peaks);
        save();
      }
    }
  };

  bool finished = false;
  if (ctx.mode == "sbatch") {
    auto outcome = run_sbatch(pending, partition, exec, job, sink, [&](const std::string& id, const std::string& script) {
      attempt_doc["job_id"] = id;
      attempt_doc["script"] = script;
      attempt_doc["commands"].push_back("sbatch --parsable " + script);
      fmt::print(stderr, "converge: submitted slurm job {} ({})\n", id, script);
      save();
    });
    if (!outcome) {
      attempt_doc["finished_at"] = core::utc_timestamp();
      save();
      std::cerr << "converge: " << outcome.error() << "\n";
      return 1;
    }
    attempt_doc["job_state"] = outcome->state;
    attempt_doc["nodelist"] = outcome->nodelist;
    // Every node of the job counts, whether or not it produced a figure.
    if (!outcome->nodelist.empty()) {
      auto names = run_command({"scontrol", "show", "hostnames", outcome->nodelist});
      if (names.status == 0) {
        std::istringstream ss(names.out);
        for (std::string h; ss >> h;) hosts.insert(h);
      }
    }
    finished = outcome->finished;
    if (!finished && !outcome->interrupted)
      fmt::print(stderr, "converge: slurm job {} ended {} before every instance ran; `converge run --resume {}` "
                         "runs the rest\n", outcome->job_id, outcome->state, out);
    if (outcome->interrupted) finished = false;
  } else {
    finished = execute(pending, exec, sink);
  }
  attempt_doc["finished_at"] = core::utc_timestamp();
  std::set<int> have;
  for (const auto& r : run["results"]) have.insert(r.value("instance", -1));
  bool all = true;
  for (const auto& p : plan.instances) all = all && have.count(p.index);
  run["finished_at"] = core::utc_timestamp();
  run["complete"] = finished && all;
  run["energy"] = analysis::run_energy(run["results"]);
  save();
  // The store indexes what the document holds; the document stays the truth.
  const std::string db = !o.db.empty() ? o.db : (std::getenv("CONVERGE_DB") == nullptr ? site.results_db : "");
  index_run(db, out);
  std::error_code ec;
  if (run["complete"].get<bool>() && !std::getenv("CONVERGE_KEEP_WORK"))
    fs::remove_all(run_work, ec);

  if (o.screening) {
    std::map<int, std::string> given;
    for (const auto& p : plan.instances) given[p.index] = given_text(p);
    auto groups = analysis::screen_nodes(run["results"], std::vector<std::string>(hosts.begin(), hosts.end()), given,
                                         o.screen);
    int outliers = 0;
    fmt::print("node screening: {} node(s) of partition '{}': {}\n", hosts.size(), partition.name,
               fmt::join(hosts, " "));
    for (const auto& g : groups) {
      fmt::print("\n{} {}  {}  partition median {}, MAD {}\n", g.benchmark, g.params, g.metric,
                 core::format_value(g.median, g.unit), core::format_value(g.mad, g.unit));
      for (const auto& n : g.nodes) {
        std::string flag;
        for (const auto& x : g.outliers)
          if (x.host == n.host) flag = "  <- OUTLIER (" + x.verdict + ")";
        fmt::print("  {:<16} {:>16}{}\n", n.host,
                   n.status == "ok" ? core::format_value(n.value, g.unit) : n.status + ": " + n.reason.substr(0, 60), flag);
      }
      if (!g.note.empty()) fmt::print("  ({})\n", g.note);
      outliers += static_cast<int>(g.outliers.size());
    }
    fmt::print("\n");
    for (const auto& g : groups)
      for (const auto& x : g.outliers) {
        if (std::isfinite(x.deviation))
          fmt::print("OUTLIER {}: {} {}: {} {} against the partition median {} ({:+.0f}%, modified z {:.1f})\n", x.host,
                     g.benchmark, g.params, g.metric, core::format_value(x.value, g.unit),
                     core::format_value(g.median, g.unit), 100 * x.deviation, x.z);
        else
          fmt::print("OUTLIER {}: {} {}: {} (no figure)\n", x.host, g.benchmark, g.params, x.verdict);
      }
    // What sets each outlier node apart: the likely cause, on the next line.
    std::map<std::string, json> by_host;
    for (const auto& [h, inv] : run["node_inventories"].items()) by_host[h] = inv;
    std::set<std::string> named;
    for (const auto& g : groups)
      for (const auto& x : g.outliers) {
        if (!named.insert(x.host).second) continue;
        auto diffs = analysis::inventory_differences(by_host, x.host);
        if (diffs.empty()) continue;
        std::vector<std::string> parts;
        for (const auto& d : diffs) parts.push_back(fmt::format("{} = {} (most nodes: {})", d.key, d.value, d.usual));
        fmt::print("  {} differs from most nodes in: {}\n", x.host, fmt::join(parts, "; "));
      }
    fmt::print("{}; run document: {}\n", outliers ? fmt::format("{} outlier(s)", outliers) : "no outlier node", out);
    if (!run["complete"].get<bool>()) return 130;
    return outliers ? 1 : 0;
  }

  std::cout << results_table(run, given_by_result);
  std::cout << fmt::format("run document: {}{}\n", out,
                           run["complete"].get<bool>()
                               ? ""
                               : fmt::format(" (incomplete: `converge run --resume {}` runs the rest)", out));
  if (!run["complete"].get<bool>()) return 130;
  if (write_failed) return 1;
  for (const auto& r : run["results"]) {
    const std::string st = r.value("status", "");
    if (st == "failed" || st == "invalid") return 1;
  }
  return 0;
}

}  // namespace converge::runners
