#pragma once
// What a run ran on: CPU, caches, ISA, memory, OS, compiler, BLAS, suite version.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace converge::core {

struct CacheLevel {
  int level = 0;                ///< 1, 2, 3
  std::string type;             ///< "data", "instruction", "unified"
  std::uint64_t size_bytes = 0; ///< one instance
  int instances = 0;            ///< how many in the system
  int shared_by_cpus = 0;       ///< logical CPUs sharing one instance
};

struct CpuInventory {
  std::string vendor;            ///< "GenuineIntel", "AuthenticAMD"
  std::string model_name;
  int family = 0, model = 0, stepping = 0;
  int sockets = 0, cores = 0, threads = 0;  ///< physical cores and logical CPUs in total
  int numa_nodes = 0;
  std::vector<CacheLevel> caches;
  std::vector<std::string> isa;  ///< FLOP-relevant extensions present: "avx2", "fma", "avx512f", ...
  double nominal_ghz = 0;        ///< 0 when not readable
  double max_ghz = 0;            ///< 0 when not readable
  std::string frequency_source;  ///< where the figures came from
  bool hypervisor = false;
  std::string microarchitecture;  ///< best guess ("zen3", "sapphirerapids", "unknown")
};

struct MemoryInventory {
  std::uint64_t total_bytes = 0;      ///< /proc/meminfo MemTotal
  std::uint64_t available_bytes = 0;  ///< /proc/meminfo MemAvailable at collection time
  std::uint64_t hwloc_total_bytes = 0;///< what hwloc says (0 without hwloc)
};

struct BlasInventory {
  std::string library;   ///< "OpenBLAS"
  std::string version;   ///< from openblas_get_config()
  std::string config;    ///< full openblas_get_config() string
  std::string corename;  ///< openblas_get_corename(): the kernels chosen for this CPU
  int threads = 0;
};

/// One CUDA device as this process sees it (after CUDA_VISIBLE_DEVICES). Clock and power
/// figures are 0 where unknown; `nvml` says why NVML's figures are missing, if they are.
struct GpuInventory {
  int index = 0;                 ///< CUDA device index in this process
  std::string name;              ///< "NVIDIA H100 80GB HBM3"
  std::string uuid;              ///< "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
  std::string pci_bus_id;        ///< "0000:1b:00.0"
  int cc_major = 0, cc_minor = 0;  ///< compute capability
  int sm_count = 0;
  double max_sm_mhz = 0;         ///< cudaDevAttrClockRate: the SM clock ceiling
  double max_mem_mhz = 0;        ///< cudaDevAttrMemoryClockRate
  double current_sm_mhz = 0;     ///< NVML, at collection time (an idle GPU clocks down)
  double current_mem_mhz = 0;    ///< NVML, at collection time
  std::uint64_t memory_bytes = 0;
  int bus_width_bits = 0;
  std::uint64_t l2_bytes = 0;
  std::string ecc;               ///< "on", "off"
  double power_limit_w = 0;      ///< NVML's enforced power limit
  std::string driver_version;    ///< NVML's "580.65.06", else the CUDA version the driver supports
  std::string runtime_version;   ///< CUDA runtime, "13.0"
  std::string nvml;              ///< "" when NVML answered, else why not
};

/// One storage tier a worker's io instances use on this node (SCHEMA.md, inventory.storage):
/// what it is mounted from and how, and its space when the inventory was taken. When the path
/// cannot be resolved, `error` says why and only `tier` and `path` are set.
struct StorageInventory {
  std::string tier;         ///< the site's tier name; "" when the suite gave the path
  std::string path;         ///< as the benchmarks were given it ("auto" included)
  std::string real_path;    ///< absolute, links resolved ("auto": $CONVERGE_IO_DIR, $TMPDIR or /tmp)
  std::string type, mount_point, source, options;  ///< from /proc/self/mountinfo
  std::uint64_t total_bytes = 0, available_bytes = 0;  ///< statvfs: f_blocks, f_bavail x f_frsize
  std::string error;        ///< "" when described, else why not ("ENOENT: ...: resolving /scratch")
};

struct Inventory {
  std::string hostname;
  CpuInventory cpu;
  MemoryInventory memory;
  std::string os;      ///< PRETTY_NAME from /etc/os-release
  std::string kernel;  ///< uname -r
  std::string arch;    ///< uname -m
  std::string compiler;        ///< "GCC 12.2.0"
  std::string compiler_flags;  ///< flags the benchmarks were built with
  std::string build_type;
  BlasInventory blas;          ///< empty library when the executable links no BLAS
  std::string suite_version;   ///< converge version
  std::string git_revision;    ///< git describe at configure time
  std::string topology_source; ///< "hwloc 2.9.0" or "sysfs"
  std::vector<GpuInventory> gpus;  ///< CUDA devices, as the CUDA worker's probe found them
  /// How the GPUs were looked for: "" when this executable has no GPU probe, else e.g.
  /// "CUDA runtime 13.0: 1 device" or "CUDA runtime 13.0: no CUDA device visible".
  std::string gpu_probe;
  std::vector<StorageInventory> storage;  ///< tiers the io instances use, one per path; filled by the worker
  std::map<std::string, std::string> environment;  ///< allow-listed variables that change performance
  std::vector<std::string> warnings;  ///< inconsistencies and misconfigurations, each with its fix
};

/// Collects the inventory of this host (without BLAS: see core/blas/blas_info.hpp).
Inventory collect_inventory();

/// Appends warnings about BLAS kernels older than the CPU's ISA, each with its fix
/// (e.g. OpenBLAS "Prescott" kernels on an AVX-512 CPU: set OPENBLAS_CORETYPE=SkylakeX).
void check_blas_against_isa(Inventory& inv);

/// The hwloc/meminfo cross-check as a pure function: a warning naming both figures when
/// hwloc's total memory differs from /proc/meminfo's MemTotal by more than 10% (in VMs hwloc
/// can report a fraction of it), saying the suite uses /proc/meminfo. nullopt when they agree
/// or either is 0 (unknown).
std::optional<std::string> memory_mismatch_warning(std::uint64_t meminfo_bytes,
                                                   std::uint64_t hwloc_bytes);

/// True when `isa` lists the extension.
bool has_isa(const Inventory& inv, const std::string& ext);

/// Size in bytes of the last-level cache summed over instances (0 when unknown).
std::uint64_t last_level_cache_bytes(const Inventory& inv);

}  // namespace converge::core

namespace converge::core {

/// A function that adds to the inventory what only some executables know (the BLAS they
/// link, the GPUs they see). Registered at static-initialisation time by the code that knows.
using InventoryProbe = void (*)(Inventory&);
bool register_inventory_probe(InventoryProbe probe);
/// Collects the host inventory, then runs every registered probe, then the BLAS/ISA check.
Inventory collect_full_inventory();

}  // namespace converge::core
