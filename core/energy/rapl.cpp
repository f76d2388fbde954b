#include "core/energy/rapl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace converge::core::energy {

namespace {

namespace fs = std::filesystem;

// The powercap control types that carry RAPL. "intel-rapl" is the MSR driver (intel_rapl_msr,
// which also serves AMD family 17h/19h/1Ah and Hygon since Linux 5.11: AMD zones are named
// intel-rapl:N too, with domains "package-N" and a "core" subzone) and the TPMI driver on
// recent Xeons. No mainline driver registers an "amd-rapl" control type (amd_energy was a
// hwmon driver), so none is looked for. "intel-rapl-mmio" (processor_thermal_rapl) exposes
// the same package counters again through MMIO on client parts: counting both would count
// the package twice, so it is used only where it is the only source.
constexpr std::string_view kMsr = "intel-rapl";
constexpr std::string_view kMmio = "intel-rapl-mmio";

struct Zone {
  std::string dir;                // "intel-rapl:0:1"
  std::vector<std::uint64_t> ids; // {0, 1}: the kernel names zones "<parent>:%x" (hex)
  fs::path path;
};

// "intel-rapl:0:1a" -> {0, 0x1a} for prefix "intel-rapl"; nullopt for anything else,
// "intel-rapl-mmio:0" included.
std::optional<std::vector<std::uint64_t>> zone_ids(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::vector<std::uint64_t> ids;
  std::size_t i = prefix.size();
  while (i < name.size()) {
    if (name[i] != ':') return std::nullopt;
    const char* first = name.data() + i + 1;
    const char* last = name.data() + name.size();
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(first, last, v, 16);
    if (ec != std::errc() || p == first) return std::nullopt;
    ids.push_back(v);
    i = static_cast<std::size_t>(p - name.data());
  }
  return ids;
}

std::ptrdiff_t depth_of(const fs::path& p) { return std::distance(p.begin(), p.end()); }

// /sys/class/powercap lists every zone flat (symlinks) and also nests subzones inside their
// parent; a root may also be the devices tree, where zones sit under the control-type folder.
// Walking both and keeping the first path seen for each zone name covers all three layouts.
void find_zones(const fs::path& dir, std::string_view prefix, int depth, std::map<std::string, Zone>& out) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code ec2;
    if (!it->is_directory(ec2)) continue;
    if (name == prefix && depth == 0) {
      find_zones(it->path(), prefix, depth + 1, out);
    } else if (auto ids = zone_ids(name, prefix)) {
      // The shortest path wins (the flat one under /sys/class/powercap), whatever the order
      // readdir gives, so error messages name the same file every time.
      auto [z, fresh] = out.try_emplace(name, Zone{name, *ids, it->path()});
      if (!fresh && depth_of(it->path()) < depth_of(z->second.path)) z->second.path = it->path();
      if (depth < 4) find_zones(it->path(), prefix, depth + 1, out);
    }
  }
}

// Sysfs attributes are small and produced whole by one read().
struct FileText {
  std::string text;
  int err = 0;
};
FileText read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {"", errno};
  std::string out;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return {"", e};
    }
    if (n == 0 || out.size() > 4096) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return {out, 0};
}

bool permission_error(int err) { return err == EACCES || err == EPERM; }

std::string read_error(const std::string& path, int err) {
  if (permission_error(err))
    return fmt::format("permission denied on {} (root-only since Linux 5.10: run as root or chmod it)", path);
  return fmt::format("cannot read {}: {}", path, std::strerror(err));
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

struct Failure {
  std::string message;
  std::string denied_path;  // set when the failure is a permission error
};

struct Reading {
  std::uint64_t uj = 0;
  std::string error;  // empty: uj is good
  bool denied = false;
};

Reading read_uj(const std::string& path, std::optional<std::uint64_t> max = std::nullopt) {
  auto f = read_file(path);
  if (f.err) return {0, read_error(path, f.err), permission_error(f.err)};
  const std::string s = trimmed(f.text);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return {0, fmt::format("{} holds '{}', not a count of microjoules", path, s.substr(0, 40))};
  // energy_uj is raw * unit truncated to uJ and max_energy_range_uj is the same for the raw
  // maximum, so a larger value means the file is not what we think it is.
  if (max && v > *max) return {0, fmt::format("{} holds {}, above max_energy_range_uj {}", path, v, *max)};
  return {v, ""};
}

struct Domain {
  std::string name;
  std::string energy_path;
  std::uint64_t max_uj = 0;
  std::uint64_t last_uj = 0;
  std::uint64_t total_uj = 0;  // integer: no rounding drift however long the run
};

// The counter's increase from old to now. The powercap ABI (Documentation/ABI/testing/
// sysfs-class-powercap) gives energy_uj as the current counter and max_energy_range_uj as its
// range, so energy_uj takes values 0..max and wraps from max to 0: one step past max is 0,
// i.e. the counter counts modulo max + 1, and the increase is (now - old) mod (max + 1).
// From max - 1000 to 500 that is 1000 + 1 + 500 = 1501. The hardware is a 32-bit count of
// energy units (~61 uJ for Intel packages): its true period is max + one unit, not max + 1, so
// each wrap is off by less than one unit (< 61 uJ in ~262 kJ). Written without computing
// max + 1, which would overflow for max = 2^64 - 1. A wrap missed entirely (two in one
// interval) cannot be seen: the recorder samples counters well inside the wrap period.
std::uint64_t increase(std::uint64_t old_uj, std::uint64_t now_uj, std::uint64_t max_uj) {
  return now_uj >= old_uj ? now_uj - old_uj : (max_uj - old_uj) + now_uj + 1;
}

class RaplMeter final : public Meter {
 public:
  explicit RaplMeter(std::vector<Domain> domains) : domains_(std::move(domains)) {}

  std::string name() const override { return "rapl"; }
  std::vector<std::string> domains() const override {
    std::vector<std::string> out;
    for (const auto& d : domains_) out.push_back(d.name);
    return out;
  }
  bool counts_energy() const override { return true; }
  // energy_uj counts microjoules; the hardware step is coarser: ~61 uJ for Intel packages
  // (2^-14 J), 15.3 uJ for DRAM on Xeons, 1 J for psys on Sapphire Rapids.
  double resolution() const override { return 1e-6; }
  double update_period_s() const override { return 0.001; }

  Expected<std::vector<double>> read() override {
    // Read every counter before changing any state, so a failed read leaves the meter as it
    // was and a later read still measures from the last good one.
    std::vector<std::uint64_t> now(domains_.size());
    for (std::size_t i = 0; i < domains_.size(); ++i) {
      auto r = read_uj(domains_[i].energy_path, domains_[i].max_uj);
      if (!r.error.empty()) return make_error(fmt::format("rapl domain {}: {}", domains_[i].name, r.error));
      now[i] = r.uj;
    }
    std::vector<double> joules;
    for (std::size_t i = 0; i < domains_.size(); ++i) {
      auto& d = domains_[i];
      d.total_uj += increase(d.last_uj, now[i], d.max_uj);
      d.last_uj = now[i];
      joules.push_back(static_cast<double>(d.total_uj) * 1e-6);
    }
    return joules;
  }

 private:
  std::vector<Domain> domains_;
};

}  // namespace

Expected<std::unique_ptr<Meter>> open_rapl(const RaplOptions& options) {
  const fs::path root(options.root);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return make_error(fmt::format("no powercap directory {}", options.root));

  std::map<std::string, Zone> found;
  find_zones(root, kMsr, 0, found);
  if (found.empty()) find_zones(root, kMmio, 0, found);
  if (found.empty()) return make_error(fmt::format("no RAPL zones under {}", options.root));
  std::vector<Zone> zones;
  for (auto& [_, z] : found) zones.push_back(std::move(z));
  std::sort(zones.begin(), zones.end(), [](const Zone& a, const Zone& b) { return a.ids < b.ids; });

  // Domain names: a top-level zone keeps its name ("package-0", "package-0-die-1" on
  // multi-die parts, "psys", "psys-1"); a subzone is "<its name>-<its package's number>":
  // "dram-0", "core-0-die-1". On AMD, core-N is the kernel's read of the per-core energy MSR
  // on the package's lead CPU, so one core, not all: the recorder's total leaves core-* out.
  std::map<std::vector<std::uint64_t>, std::string> package_tag, domain_of;
  std::vector<Domain> domains;
  std::vector<Failure> failures;
  for (const auto& z : zones) {
    const std::string name_path = (z.path / "name").string();
    auto name_file = read_file(name_path);
    if (name_file.err) {
      failures.push_back({fmt::format("{}: {}", z.dir, read_error(name_path, name_file.err)),
                          permission_error(name_file.err) ? name_path : ""});
      continue;
    }
    std::string zone_name = trimmed(name_file.text);
    if (zone_name.empty()) zone_name = z.dir;
    std::string domain;
    if (z.ids.size() == 1) {
      domain = zone_name;
      if (zone_name.rfind("package-", 0) == 0) package_tag[z.ids] = zone_name.substr(8);
    } else {
      const std::vector<std::uint64_t> parent(z.ids.begin(), z.ids.end() - 1);
      if (auto t = package_tag.find(parent); t != package_tag.end()) domain = zone_name + "-" + t->second;
      else if (auto p = domain_of.find(parent); p != domain_of.end()) domain = p->second + "-" + zone_name;
      else domain = zone_name + "-" + z.dir;
    }
    domain_of[z.ids] = domain;
    // Two zones with one name (not seen on real machines) stay apart, named by their folder.
    if (std::any_of(domains.begin(), domains.end(), [&](const Domain& d) { return d.name == domain; }))
      domain += "@" + z.dir;

    // `enabled` is not consulted: it switches power-limit enforcement, not the counter.
    Domain d;
    d.name = domain;
    d.energy_path = (z.path / "energy_uj").string();
    const std::string max_path = (z.path / "max_energy_range_uj").string();
    auto max = read_uj(max_path);
    if (max.error.empty() && max.uj == 0) max.error = fmt::format("{} is 0", max_path);
    if (!max.error.empty()) {
      failures.push_back({fmt::format("{}: {}", domain, max.error), max.denied ? max_path : ""});
      continue;
    }
    d.max_uj = max.uj;
    auto first = read_uj(d.energy_path, d.max_uj);
    if (!first.error.empty()) {
      failures.push_back({fmt::format("{}: {}", domain, first.error), first.denied ? d.energy_path : ""});
      continue;
    }
    d.last_uj = first.uj;
    domains.push_back(std::move(d));
  }

  // Any unreadable domain fails the meter, naming every one: dropping it would make the node
  // total (the sum of package and dram domains) silently too small.
  if (!failures.empty()) {
    if (std::all_of(failures.begin(), failures.end(), [](const Failure& f) { return !f.denied_path.empty(); })) {
      std::vector<std::string> paths;
      for (const auto& f : failures) paths.push_back(f.denied_path);
      return make_error(fmt::format("permission denied on {} (root-only since Linux 5.10: run as root or chmod it)",
                                    fmt::join(paths, ", ")));
    }
    std::vector<std::string> messages;
    for (const auto& f : failures) messages.push_back(f.message);
    return make_error(fmt::format("unreadable RAPL domains: {}", fmt::join(messages, "; ")));
  }
  return std::unique_ptr<Meter>(new RaplMeter(std::move(domains)));
}

}  // namespace converge::core::energy
