#include "core/benchmark.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace converge::core {

Verification Verification::passed(std::string method, double max_error, double tolerance) {
  return {VerifyStatus::passed, std::move(method), max_error, tolerance, {}};
}

Verification Verification::failed(std::string method, std::string message, double max_error,
                                  double tolerance) {
  return {VerifyStatus::failed, std::move(method), max_error, tolerance, std::move(message)};
}

Registry& Registry::instance() {
  static Registry registry;  // function-local: safe from any static initialiser
  return registry;
}

bool Registry::add(BenchmarkSpec spec) {
  if (find(spec.id) != nullptr) {
    std::fprintf(stderr, "converge: benchmark '%s' registered twice\n", spec.id.c_str());
    std::abort();
  }
  specs_.push_back(std::move(spec));
  std::sort(specs_.begin(), specs_.end(),
            [](const BenchmarkSpec& a, const BenchmarkSpec& b) { return a.id < b.id; });
  return true;
}

const BenchmarkSpec* Registry::find(const std::string& id) const {
  for (const auto& s : specs_)
    if (s.id == id) return &s;
  return nullptr;
}

std::vector<std::string> Registry::nearest(const std::string& id, std::size_t count) const {
  std::vector<std::string> ids;
  for (const auto& s : specs_) ids.push_back(s.id);
  return nearest_names(id, ids, count);
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<std::string> nearest_names(const std::string& word,
                                       const std::vector<std::string>& candidates,
                                       std::size_t count) {
  // A candidate that contains the word ("triad" in "micro.stream.triad") ranks first; otherwise
  // edit distance, keeping only those within half the word's length so suggestions make sense.
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (!word.empty() && c.find(word) != std::string::npos) d = 0;
    else if (d > std::max<std::size_t>(2, std::max(word.size(), c.size()) / 2)) continue;
    scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < count; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace converge::core
