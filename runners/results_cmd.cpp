#include "runners/results_cmd.hpp"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "runners/report.hpp"
#include "runners/run.hpp"

namespace converge::runners {

using results::json;

void index_run(const std::string& db, const std::string& document_path) {
  auto store = results::Store::open(db.empty() ? results::default_store_path() : db);
  if (!store) {
    fmt::print(stderr, "converge: WARNING: run not indexed: {}\n", store.error());
    return;
  }
  if (auto id = store->import_file(document_path); !id)
    fmt::print(stderr, "converge: WARNING: run not indexed in {}: {}\n", store->path(), id.error());
}

core::Expected<json> load_run(const std::string& ref, const std::string& db) {
  core::Expected<json> doc = core::make_error("");
  if (std::filesystem::is_regular_file(ref)) {
    doc = results::read_json_file(ref);
  } else {
    auto store = results::Store::open(db.empty() ? results::default_store_path() : db);
    if (!store) return core::make_error(store.error());
    auto id = store->resolve(ref);
    if (!id) return core::make_error(id.error());
    doc = store->document(*id);
  }
  if (!doc) return doc;
  // Only documents this version reads (schema_version, field types): never guess at a layout.
  if (auto ok = results::run_from_json(*doc); !ok) return core::make_error(ref + ": " + ok.error());
  return doc;
}

namespace {

std::string run_line(const results::StoredRun& r) {
  return fmt::format("{}  {:<12} {:<10} {:<10} {:>3}/{:<3} ok  {}{}{}", r.run_id, r.suite, r.site, r.partition, r.ok,
                     r.results, r.complete ? "" : "INCOMPLETE ",
                     r.hosts.size() <= 3 ? fmt::format("{}", fmt::join(r.hosts, ",")) : fmt::format("{} hosts", r.hosts.size()),
                     r.tags.empty() ? "" : fmt::format("  [{}]", fmt::join(r.tags, ", ")));
}

}  // namespace

int results_main(const ResultsRequest& q) {
  const std::string path = q.db.empty() ? results::default_store_path() : q.db;
  auto store = results::Store::open(path);
  if (!store) return failure(store.error());
  auto resolve = [&](const std::string& ref) { return store->resolve(ref); };

  if (q.action == "list") {
    auto runs = store->list(q.filter);
    if (!runs) return failure(runs.error());
    if (q.json) {
      json out = json::array();
      for (const auto& r : *runs)
        out.push_back({{"run_id", r.run_id}, {"suite", r.suite}, {"site", r.site}, {"partition", r.partition},
                       {"started_at", r.started_at}, {"finished_at", r.finished_at}, {"complete", r.complete},
                       {"hosts", r.hosts}, {"tags", r.tags}, {"results", r.results}, {"ok", r.ok}, {"path", r.path}});
      std::cout << out.dump(2) << "\n";
      return 0;
    }
    for (const auto& r : *runs) std::cout << run_line(r) << "\n";
    fmt::print(stderr, "{} run(s) in {}\n", runs->size(), store->path());
    return 0;
  }
  if (q.action == "show" || q.action == "export") {
    if (q.args.size() != 1) return bad_input(fmt::format("results {} takes one run (id, prefix or tag)", q.action));
    auto id = resolve(q.args[0]);
    if (!id) return failure(id.error());
    auto doc = store->document(*id);
    if (!doc) return failure(doc.error());
    if (q.action == "export") {
      if (q.out.empty()) {
        std::cout << doc->dump(2) << "\n";
      } else if (auto ok = results::write_json_atomic(q.out, *doc); !ok) {
        return failure(ok.error());
      }
      return 0;
    }
    std::map<int, json> given;
    for (const auto& p : doc->value("plan", json::array())) given[p.value("instance", -1)] = p.value("params", json::object());
    std::vector<json> by_result;
    for (const auto& r : (*doc)["results"]) by_result.push_back(given.count(r.value("instance", -1)) ? given[r.value("instance", -1)] : json::object());
    fmt::print("run {}: suite {}, site {}, partition {}, {} .. {}{}\nhosts: {}\ncommand: {}\n\n", *id,
               doc->value("suite", ""), doc->value("site", ""), doc->value("partition", ""),
               doc->value("started_at", ""), doc->value("finished_at", ""),
               doc->value("complete", false) ? "" : " (incomplete)",
               fmt::join(doc->value("hosts", std::vector<std::string>{}), " "), doc->value("command_line", ""));
    std::cout << results_table(*doc, by_result);
    return 0;
  }
  if (q.action == "tag") {
    if (q.args.size() < 2) return bad_input("results tag RUN TAG... [--remove]");
    auto id = resolve(q.args[0]);
    if (!id) return failure(id.error());
    std::vector<std::string> tags(q.args.begin() + 1, q.args.end());
    if (auto ok = store->tag(*id, tags, q.remove); !ok) return failure(ok.error());
    fmt::print("{} {}: {}\n", q.remove ? "untagged" : "tagged", *id, fmt::join(tags, ", "));
    return 0;
  }
  if (q.action == "import") {
    if (q.args.empty()) return bad_input("results import FILE...");
    int failed = 0;
    for (const auto& f : q.args) {
      auto id = store->import_file(f);
      if (id) fmt::print("imported {} ({})\n", *id, f);
      else fmt::print(stderr, "converge: {}\n", id.error()), ++failed;
    }
    return failed ? 1 : 0;
  }
  if (q.action == "rm") {
    if (q.args.empty()) return bad_input("results rm RUN...");
    for (const auto& ref : q.args) {
      auto id = store->resolve(ref);
      if (!id) return failure(id.error());
      if (auto ok = store->remove(*id); !ok) return failure(ok.error());
      fmt::print("removed {} from the store (its document file, if any, is untouched)\n", *id);
    }
    return 0;
  }
  if (q.action == "reindex") {
    if (q.args.size() != 1) return bad_input("results reindex DIR");
    std::vector<std::string> skipped;
    auto n = store->reindex(q.args[0], &skipped);
    if (!n) return failure(n.error());
    for (const auto& s : skipped) fmt::print(stderr, "skipped (not a run document): {}\n", s);
    fmt::print("indexed {} run document(s) from {} into {}\n", *n, q.args[0], store->path());
    return 0;
  }
  return bad_input("results: unknown action " + q.action);
}

}  // namespace converge::runners
