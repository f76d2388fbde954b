// The storage tier table of analysis/report.hpp: io results side by side, one column per tier
// (described by the site's kind and the filesystem it is mounted on), one row per benchmark
// instance and rank count, across every run given (runs at several rank counts, partitions).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "analysis/report.hpp"
#include "analysis/report_json.hpp"

namespace converge::analysis {

using namespace report_json;

namespace {

const char* kNoResult = "no result (incomplete run)";

bool is_io(const json& r) {
  return str(r, "family") == "io" || r.value("benchmark", "").rfind("io.", 0) == 0;
}

// As the io benchmarks write notes.filesystem, so both sources read alike.
std::string filesystem_text(const json& s) {
  if (!str(s, "error").empty()) return "not described: " + str(s, "error");
  return fmt::format("{} on {} ({}; {})", str(s, "type"), str(s, "mount_point"), str(s, "source"), str(s, "options"));
}

// The run's inventory entry for a tier (the run's node first, then every node's): by name when
// the tier has one, else by the path as given or as it resolved.
const json* storage_entry(const json& run, const std::string& tier, const std::string& path, const std::string& real) {
  std::vector<const json*> inventories = {&member(run, "inventory")};
  for (const auto& [host, inv] : member(run, "node_inventories").items()) inventories.push_back(&inv);
  for (const json* inv : inventories)
    for (const auto& s : member(*inv, "storage")) {
      const bool same = !tier.empty() ? str(s, "tier") == tier
                                      : str(s, "path") == path || (!real.empty() && str(s, "real_path") == real);
      if (same) return &s;
    }
  return nullptr;
}

// The site's kind of a named tier, from the partition as the run recorded it.
std::string tier_kind(const json& run, const std::string& tier) {
  for (const auto& t : member(member(member(run, "launch"), "partition_config"), "storage"))
    if (!tier.empty() && str(t, "name") == tier) return str(t, "kind");
  return "";
}

int ranks_of(const json* planned, const json* r) {
  if (planned != nullptr && member(*planned, "ranks").is_number_integer()) return (*planned)["ranks"].get<int>();
  if (r != nullptr && member(member(*r, "ranks"), "count").is_number_integer()) return (*r)["ranks"]["count"].get<int>();
  return 1;
}

struct Cell {
  std::optional<double> value;
  double cv = kNaN;
  std::string missing;
};

class Builder {
 public:
  explicit Builder(bool several_partitions) : several_(several_partitions) {}

  // One io instance of `run`: its result (null when planned but never finished).
  void add(const json& run, const json& given, const json* planned, const json* r) {
    const json resolved = r != nullptr && member(*r, "params").is_object() ? (*r)["params"] : json::object();
    auto param = [&](const char* key) {
      return given.contains(key) ? text_of(given[key]) : resolved.contains(key) ? text_of(resolved[key]) : "";
    };
    const std::string tier = param("tier");
    const std::string path = given.contains("path") ? text_of(given["path"]) : "auto";
    const std::string real = resolved.contains("path") ? text_of(resolved["path"]) : "";
    std::string label = !tier.empty() ? tier : path != "auto" ? path : !real.empty() ? real : path;
    if (several_) label = partition_label(run) + ": " + label;
    const std::size_t col = column(label);
    TierColumn& described = c_.tiers[col];
    if (described.kind.empty()) described.kind = tier_kind(run, tier);
    if (described.filesystem.empty()) {
      if (const json* s = storage_entry(run, tier, path, real)) described.filesystem = filesystem_text(*s);
      else if (r != nullptr) described.filesystem = str(member(*r, "notes"), "filesystem");
    }

    json rest = json::object();
    for (const auto& [k, v] : given.items())
      if (k != "path" && k != "tier") rest[k] = v;
    const std::string benchmark = planned != nullptr ? planned->value("benchmark", "?") : r->value("benchmark", "?");
    const std::size_t row = this->row(benchmark, given_text(rest), ranks_of(planned, r));
    Cell& cell = cells_[{row, col}];
    if (cell.value) return;  // several results (ranks, runs): the first figure stands for the tier
    if (r == nullptr) {
      if (cell.missing.empty()) cell.missing = kNoResult;
    } else if (!is_ok(*r)) {
      if (cell.missing.empty() || cell.missing == kNoResult) cell.missing = status_text(*r);
    } else {
      const json& m = *primary_metric(*r);
      auto& out = rows_[row];
      if (out.metric.empty()) out.metric = str(m, "name"), out.unit = str(m, "unit");
      cell.value = num(m, "value");
      cell.cv = num(member(*r, "time"), "cv");
      cell.missing.clear();
    }
  }

  std::optional<TierComparison> finish() {
    if (rows_.empty()) return std::nullopt;
    std::vector<std::size_t> order(rows_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(group_of_[a], rows_[a].ranks) < std::tie(group_of_[b], rows_[b].ranks);
    });
    const std::size_t n = c_.tiers.size();
    for (std::size_t i : order) {
      TierRow row = rows_[i];
      if (row.metric.empty()) row.metric = "-";
      row.values.assign(n, std::nullopt);
      row.cv.assign(n, kNaN);
      row.missing.assign(n, "not run");
      for (std::size_t k = 0; k < n; ++k)
        if (auto it = cells_.find({i, k}); it != cells_.end()) {
          row.values[k] = it->second.value;
          row.cv[k] = it->second.cv;
          row.missing[k] = it->second.missing;
        }
      c_.rows.push_back(std::move(row));
    }
    return c_;
  }

 private:
  std::size_t column(const std::string& label) {
    auto [it, fresh] = column_of_.emplace(label, c_.tiers.size());
    if (fresh) c_.tiers.push_back({label, "", ""});
    return it->second;
  }
  std::size_t row(const std::string& benchmark, const std::string& params, int ranks) {
    const std::string group = benchmark + "|" + params;
    const std::size_t g = groups_.emplace(group, groups_.size()).first->second;
    auto [it, fresh] = row_of_.emplace(fmt::format("{}|{}", group, ranks), rows_.size());
    if (fresh) {
      TierRow r;
      r.benchmark = benchmark;
      r.params = params;
      r.ranks = ranks;
      rows_.push_back(std::move(r));
      group_of_.push_back(g);
    }
    return it->second;
  }

  bool several_;
  TierComparison c_;
  std::vector<TierRow> rows_;          // in order of first appearance
  std::vector<std::size_t> group_of_;  // per row: its (benchmark, params) group's first appearance
  std::map<std::string, std::size_t> column_of_, row_of_, groups_;
  std::map<std::pair<std::size_t, std::size_t>, Cell> cells_;  // (row, column)
};

}  // namespace

std::optional<TierComparison> tier_comparison(const std::vector<json>& runs) {
  std::set<std::string> partitions;
  for (const auto& run : runs) partitions.insert(partition_label(run));
  Builder b(partitions.size() > 1);
  for (const auto& run : runs) {
    const auto plan = plan_entries(run);
    std::set<int> reported;
    for (const auto& r : member(run, "results")) {
      if (!is_io(r)) continue;
      const auto it = plan.find(r.value("instance", -1));
      const json* planned = it != plan.end() ? &it->second : nullptr;
      reported.insert(r.value("instance", -1));
      b.add(run, planned != nullptr ? planned->value("params", json::object()) : member(r, "params"), planned, &r);
    }
    for (const auto& [instance, p] : plan)
      if (!reported.count(instance) && p.value("benchmark", "").rfind("io.", 0) == 0)
        b.add(run, p.value("params", json::object()), &p, nullptr);
  }
  return b.finish();
}

}  // namespace converge::analysis
