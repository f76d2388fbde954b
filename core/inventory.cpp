// Host inventory: CPU identity and topology, caches, ISA, clocks, memory, OS, build, and the
// environment variables that change performance. Sources, in order of trust: hwloc (when
// built with it), sysfs, /proc, CPUID. Each figure that may be wrong says where it came from.
#include "core/inventory.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/cpu_features.hpp"
#include "core/version.hpp"

#ifdef CONVERGE_HAVE_HWLOC
#include <hwloc.h>
#endif

extern char** environ;

namespace converge::core {
namespace {
namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n\"");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n\"") - first + 1);
}

std::string read_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return trim(line);
}

long long read_number(const fs::path& p) {
  const std::string s = read_line(p);
  try {
    return s.empty() ? -1 : std::stoll(s);
  } catch (...) {
    return -1;
  }
}

// "key : value" files (/proc/cpuinfo, /proc/meminfo, /etc/os-release with '='); first hit.
std::string field(const fs::path& file, const std::string& key, char sep) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto pos = line.find(sep);
    if (pos != std::string::npos && trim(line.substr(0, pos)) == key)
      return trim(line.substr(pos + 1));
  }
  return {};
}

std::uint64_t meminfo_bytes(const std::string& key) {
  const std::string v = field("/proc/meminfo", key, ':');  // "24684092 kB"
  try {
    return v.empty() ? 0 : std::stoull(v) * 1024;
  } catch (...) {
    return 0;
  }
}

// Logical CPUs in a sysfs cpu list such as "0-3,8,10-11".
int count_cpu_list(const std::string& list) {
  int n = 0;
  std::stringstream ss(list);
  for (std::string part; std::getline(ss, part, ',');) {
    int lo = 0, hi = 0;
    const int k = std::sscanf(part.c_str(), "%d-%d", &lo, &hi);
    if (k == 2) n += hi - lo + 1;
    else if (k == 1) n += 1;
  }
  return n;
}

// "32K", "512K", "32768K", "1M" (sysfs cache size).
std::uint64_t parse_size(const std::string& s) {
  std::uint64_t v = 0;
  char unit = 0;
  if (std::sscanf(s.c_str(), "%" SCNu64 "%c", &v, &unit) < 1) return 0;
  switch (std::toupper(static_cast<unsigned char>(unit))) {
    case 'K': return v << 10;
    case 'M': return v << 20;
    case 'G': return v << 30;
    default: return v;
  }
}

// Topology counts describe the whole machine, as lstopo and likwid-topology do, also inside a
// Slurm allocation or under taskset; collect_inventory warns when this process may use fewer
// CPUs, and the ".core" peaks scale to what a benchmark uses.
#ifdef CONVERGE_HAVE_HWLOC
bool topology_from_hwloc(Inventory& inv) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) return false;
  // Without this flag hwloc drops CPUs outside our cgroup cpuset, unlike the sysfs path.
  hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  if (hwloc_topology_load(topo) != 0) {
    hwloc_topology_destroy(topo);
    return false;
  }
  auto count = [&](hwloc_obj_type_t t) { return std::max(0, hwloc_get_nbobjs_by_type(topo, t)); };
  CpuInventory& cpu = inv.cpu;
  cpu.sockets = std::max(1, count(HWLOC_OBJ_PACKAGE));  // some VMs expose no package object
  cpu.cores = count(HWLOC_OBJ_CORE);
  cpu.threads = count(HWLOC_OBJ_PU);
  cpu.numa_nodes = std::max(1, count(HWLOC_OBJ_NUMANODE));
  inv.memory.hwloc_total_bytes = hwloc_get_root_obj(topo)->total_memory;
  hwloc_topology_destroy(topo);
  inv.topology_source = "hwloc " HWLOC_VERSION;
  return cpu.cores > 0 && cpu.threads >= cpu.cores;
}
#endif

// Online CPUs have a topology/ directory; offline ones do not.
void topology_from_sysfs(Inventory& inv) {
  std::set<std::string> packages, cores;
  int threads = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/devices/system/cpu", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 4 || name.rfind("cpu", 0) != 0 || !std::isdigit(name[3])) continue;
    const fs::path topo = e.path() / "topology";
    if (!fs::exists(topo)) continue;
    ++threads;
    packages.insert(read_line(topo / "physical_package_id"));
    // The sibling list names a core uniquely even where core_id repeats across dies.
    cores.insert(read_line(topo / "thread_siblings_list"));
  }
  CpuInventory& c = inv.cpu;
  c.threads = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  c.cores = cores.empty() ? c.threads : static_cast<int>(cores.size());
  c.sockets = std::max<int>(1, packages.size());
  int nodes = 0;
  for (const auto& e : fs::directory_iterator("/sys/devices/system/node", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("node", 0) == 0 && name.size() > 4 && std::isdigit(name[4])) ++nodes;
  }
  c.numa_nodes = std::max(1, nodes);
  inv.topology_source = "sysfs";
}

// cpu0's caches stand for all: on hybrid CPUs the E-core clusters' L2 differs.
void collect_caches(CpuInventory& cpu) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/devices/system/cpu/cpu0/cache", ec)) {
    if (e.path().filename().string().rfind("index", 0) != 0) continue;
    CacheLevel c;
    c.level = static_cast<int>(read_number(e.path() / "level"));
    c.type = read_line(e.path() / "type");
    std::transform(c.type.begin(), c.type.end(), c.type.begin(), ::tolower);
    c.size_bytes = parse_size(read_line(e.path() / "size"));
    c.shared_by_cpus = std::max(1, count_cpu_list(read_line(e.path() / "shared_cpu_list")));
    c.instances = std::max(1, (cpu.threads + c.shared_by_cpus - 1) / c.shared_by_cpus);
    if (c.level > 0) cpu.caches.push_back(c);
  }
  std::sort(cpu.caches.begin(), cpu.caches.end(), [](const CacheLevel& a, const CacheLevel& b) {
    return a.level != b.level ? a.level < b.level : a.type < b.type;
  });
}

// Nominal: base_frequency (intel_pstate) or the "@ 2.10GHz" of Intel brand strings. Max:
// cpuinfo_max_freq (the single-core turbo limit where boost is on, else the base clock).
// Without cpufreq (VMs), /proc/cpuinfo's "cpu MHz" is the only figure: usually the TSC rate
// the hypervisor reports.
void collect_frequencies(CpuInventory& cpu, const std::string& brand) {
  const fs::path freq = "/sys/devices/system/cpu/cpu0/cpufreq";
  std::vector<std::string> src;
  if (const long long khz = read_number(freq / "base_frequency"); khz > 0) {
    cpu.nominal_ghz = khz / 1e6;
    src.push_back("nominal: " + (freq / "base_frequency").string());
  } else if (const auto at = brand.find('@'); at != std::string::npos) {
    double ghz = 0;
    if (std::sscanf(brand.c_str() + at + 1, " %lfGHz", &ghz) == 1 && ghz > 0) {
      cpu.nominal_ghz = ghz;
      src.push_back("nominal: CPU brand string");
    }
  }
  if (const long long khz = read_number(freq / "cpuinfo_max_freq"); khz > 0) {
    cpu.max_ghz = khz / 1e6;
    src.push_back("max: " + (freq / "cpuinfo_max_freq").string() +
                  " (turbo limit where boost is on)");
  }
  if (cpu.nominal_ghz == 0 && cpu.max_ghz == 0) {
    const double mhz = std::atof(field("/proc/cpuinfo", "cpu MHz", ':').c_str());
    if (mhz > 0) {
      cpu.nominal_ghz = mhz / 1e3;
      src.push_back("nominal: /proc/cpuinfo cpu MHz (no cpufreq: VM?); turbo may exceed it");
    }
  }
  cpu.frequency_source = src.empty() ? "unknown" : fmt::format("{}", fmt::join(src, "; "));
}

bool env_allowed(const std::string& name) {
  static const char* const prefixes[] = {"OMP_",  "GOMP_", "KMP_",      "OPENBLAS_", "MKL_",
                                         "BLIS_", "GOTO_", "CUDA_",     "NCCL_",     "UCX_",
                                         "FI_",   "OMPI_MCA_", "I_MPI_", "MPICH_",   "HWLOC_",
                                         "LIKWID_", "SLURM_"};
  // LOADEDMODULES: the environment modules in effect (Lmod and Environment Modules set it).
  static const char* const exact[] = {"LD_PRELOAD", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES", "LOADEDMODULES"};
  for (const char* p : prefixes)
    if (name.rfind(p, 0) == 0) return true;
  return std::find(std::begin(exact), std::end(exact), name) != std::end(exact);
}

std::string compiler_name() {
  std::string c = CONVERGE_CXX_COMPILER;  // "GNU 12.2.0": CMake's id; people say GCC
  if (c.rfind("GNU ", 0) == 0) c = "GCC " + c.substr(4);
  return c;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

// ISA generation of OpenBLAS kernels by corename: 0 SSE, 1 AVX, 2 AVX2+FMA, 3 AVX-512.
// DYNAMIC_ARCH builds fall back to Prescott when they do not know the CPU (a CPU newer than
// the library, or a hypervisor that hides CPUID bits); -1 for names we do not know.
int kernel_generation(const std::string& corename) {
  static const std::map<std::string, int> gen = {
      {"katmai", 0},     {"coppermine", 0}, {"northwood", 0},    {"prescott", 0},
      {"banias", 0},     {"yonah", 0},      {"core2", 0},        {"penryn", 0},
      {"dunnington", 0}, {"nehalem", 0},    {"atom", 0},         {"athlon", 0},
      {"opteron", 0},    {"opteron_sse3", 0}, {"barcelona", 0},  {"bobcat", 0},
      {"nano", 0},       {"sse_generic", 0}, {"sandybridge", 1}, {"bulldozer", 1},
      {"piledriver", 1}, {"steamroller", 1}, {"excavator", 1},   {"haswell", 2},
      {"zen", 2},        {"skylakex", 3},   {"cooperlake", 3},   {"sapphirerapids", 3}};
  const auto it = gen.find(lower(corename));
  return it == gen.end() ? -1 : it->second;
}

}  // namespace

std::optional<std::string> memory_mismatch_warning(std::uint64_t meminfo, std::uint64_t hwloc) {
  if (meminfo == 0 || hwloc == 0) return std::nullopt;
  const double rel = std::fabs(double(hwloc) - double(meminfo)) / double(meminfo);
  if (rel <= 0.10) return std::nullopt;
  constexpr double gib = 1024.0 * 1024.0 * 1024.0;
  return fmt::format(
      "hwloc reports {:.2f} GiB of memory, /proc/meminfo MemTotal {:.2f} GiB ({:.0f}% apart); "
      "the suite uses /proc/meminfo (hwloc reads NUMA-node meminfo, which VMs can under-report)",
      hwloc / gib, meminfo / gib, rel * 100);
}

Inventory collect_inventory() {
  Inventory inv;
  const CpuIdentity id = detect_cpu();
  CpuInventory& cpu = inv.cpu;
  cpu.vendor = !id.vendor.empty() ? id.vendor : field("/proc/cpuinfo", "vendor_id", ':');
  cpu.model_name = field("/proc/cpuinfo", "model name", ':');
  if (cpu.model_name.empty()) cpu.model_name = id.brand;
  cpu.family = id.family;
  cpu.model = id.model;
  cpu.stepping = id.stepping;
  cpu.hypervisor = id.hypervisor;
  cpu.isa = isa_names(id.isa);
  cpu.microarchitecture = guess_microarchitecture(cpu.vendor, id.family, id.model, id.isa);

#ifdef CONVERGE_HAVE_HWLOC
  if (!topology_from_hwloc(inv)) topology_from_sysfs(inv);
#else
  topology_from_sysfs(inv);
#endif
  // An OpenMP runtime with OMP_PROC_BIND pins the initial thread when it loads, so the
  // affinity seen now can be one CPU; a worker records the process's set before that.
  int allowed = 0;
  if (const char* initial = std::getenv("CONVERGE_INITIAL_CPUS")) allowed = std::atoi(initial);
  if (cpu_set_t mask; allowed <= 0 && sched_getaffinity(0, sizeof mask, &mask) == 0)
    allowed = CPU_COUNT(&mask);
  if (allowed > 0 && allowed < cpu.threads)
    inv.warnings.push_back(fmt::format(
        "this process may run on {} of the {} logical CPUs (CPU affinity or cgroup cpuset: a "
        "Slurm allocation, taskset, numactl); the all-core peaks count the whole machine, so "
        "compare with the per-core (.core) peaks times the cores used",
        allowed, cpu.threads));
  collect_caches(cpu);
  collect_frequencies(cpu, id.brand.empty() ? cpu.model_name : id.brand);

  inv.memory.total_bytes = meminfo_bytes("MemTotal");
  inv.memory.available_bytes = meminfo_bytes("MemAvailable");
  if (auto w = memory_mismatch_warning(inv.memory.total_bytes, inv.memory.hwloc_total_bytes))
    inv.warnings.push_back(*w);

  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) inv.hostname = host;
  inv.os = field("/etc/os-release", "PRETTY_NAME", '=');
  if (utsname u{}; uname(&u) == 0) {
    inv.kernel = u.release;
    inv.arch = u.machine;
  }
  inv.compiler = compiler_name();
  inv.compiler_flags = trim(build_flags());
  inv.build_type = build_type();
  inv.suite_version = suite_version();
  inv.git_revision = git_revision();
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos && env_allowed(kv.substr(0, eq)))
      inv.environment[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return inv;
}

void check_blas_against_isa(Inventory& inv) {
  const int kernels = kernel_generation(inv.blas.corename);
  if (inv.blas.library != "OpenBLAS" && !inv.blas.library.empty()) return;
  if (kernels < 0) return;
  const IsaFlags isa = isa_from_names(inv.cpu.isa);
  const int cpu = isa.avx512f ? 3 : (isa.avx2 && isa.fma) ? 2 : isa.avx ? 1 : 0;
  if (kernels >= cpu) return;

  const bool amd = inv.cpu.vendor == "AuthenticAMD" || inv.cpu.vendor == "HygonGenuine";
  std::string cpu_isa, fix, loss;
  if (cpu == 3) {
    cpu_isa = "AVX-512";
    fix = isa.avx512_bf16 && isa.avx512_fp16 ? "SapphireRapids"
          : isa.avx512_bf16                  ? "Cooperlake"
                                             : "SkylakeX";
    loss = "DGEMM can lose up to 5x";
  } else if (cpu == 2) {
    cpu_isa = "AVX2+FMA";
    fix = amd ? "Zen" : "Haswell";
    loss = kernels == 0 ? "DGEMM can lose up to 4x" : "DGEMM can lose up to 2x";
  } else {
    cpu_isa = "AVX";
    fix = "Sandybridge";
    loss = "DGEMM can lose up to 2x";
  }
  if (kernels == 2 && inv.cpu.microarchitecture == "zen4")
    loss = "little fp64 rate to gain on zen4 (its 512-bit FMAs run at the 256-bit rate), but "
           "AVX-512 kernels still save instructions";
  std::string target = fix;
  std::transform(target.begin(), target.end(), target.begin(), ::toupper);
  inv.warnings.push_back(fmt::format(
      "OpenBLAS runs its {} kernels on a CPU with {}: {}; set OPENBLAS_CORETYPE={}{}. "
      "OPENBLAS_CORETYPE needs a DYNAMIC_ARCH build, as distribution packages are; otherwise "
      "rebuild OpenBLAS with TARGET={}",
      inv.blas.corename, cpu_isa, loss, fix,
      cpu == 3 ? " (SkylakeX for AVX-512, Cooperlake adds AVX512_BF16, SapphireRapids adds "
                 "AVX512_FP16)"
               : "",
      target));
}

bool has_isa(const Inventory& inv, const std::string& ext) {
  return std::find(inv.cpu.isa.begin(), inv.cpu.isa.end(), ext) != inv.cpu.isa.end();
}

std::uint64_t last_level_cache_bytes(const Inventory& inv) {
  int top = 0;
  for (const auto& c : inv.cpu.caches)
    if (c.type != "instruction") top = std::max(top, c.level);
  std::uint64_t bytes = 0;
  for (const auto& c : inv.cpu.caches)
    if (c.level == top && c.type != "instruction")
      bytes += c.size_bytes * static_cast<std::uint64_t>(std::max(1, c.instances));
  return bytes;
}

namespace {
// Function-local static: registration from other translation units' static initialisers
// may run before this file's globals are constructed.
std::vector<InventoryProbe>& probes() {
  static std::vector<InventoryProbe> list;
  return list;
}
}  // namespace

bool register_inventory_probe(InventoryProbe probe) {
  if (probe == nullptr) return false;
  auto& list = probes();
  if (std::find(list.begin(), list.end(), probe) == list.end()) list.push_back(probe);
  return true;
}

Inventory collect_full_inventory() {
  Inventory inv = collect_inventory();
  for (InventoryProbe probe : probes()) probe(inv);
  check_blas_against_isa(inv);
  return inv;
}

}  // namespace converge::core
