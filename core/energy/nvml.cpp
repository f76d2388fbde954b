#include "core/energy/nvml.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

#include <fmt/format.h>

namespace converge::core::energy {

namespace {

// The few NVML declarations used, with the shapes of NVIDIA's nvml.h (API version 12; the
// values below are stable across its releases). Declared here, not included, so converge
// builds without the CUDA toolkit; the library is found at run time.
using NvmlReturn = int;                    // nvmlReturn_t, an enum
using NvmlDevice = struct NvmlDeviceSt*;   // nvmlDevice_t, opaque
constexpr NvmlReturn kSuccess = 0;         // NVML_SUCCESS
constexpr NvmlReturn kNoPermission = 4;    // NVML_ERROR_NO_PERMISSION
constexpr NvmlReturn kInsufficientSize = 7;  // NVML_ERROR_INSUFFICIENT_SIZE
constexpr int kClockSm = 1, kClockMem = 2;   // nvmlClockType_t: NVML_CLOCK_SM, NVML_CLOCK_MEM
constexpr int kTemperatureGpu = 0;           // NVML_TEMPERATURE_GPU
constexpr int kUncorrected = 1;              // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
constexpr int kAggregateEcc = 1;             // NVML_AGGREGATE_ECC: persists across driver reloads
// nvmlPageRetirementCause_t: NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS, _DOUBLE_BIT_ECC_ERROR
constexpr int kRetirementCauses[] = {0, 1};

// nvmlClocksThrottleReason* (renamed nvmlClocksEventReason* in NVML 12.2, same bits). GpuIdle
// (0x1), ApplicationsClocksSetting (0x2), SyncBoost (0x10) and DisplayClockSetting (0x100)
// are chosen, not imposed, and are not flagged.
struct Reason {
  unsigned long long bits;
  const char* words;
};
constexpr Reason kThrottles[] = {
    {0x4, "power cap"},                // SwPowerCap
    {0x8, "hardware slowdown"},        // HwSlowdown
    {0x20 | 0x40, "thermal"},          // SwThermalSlowdown | HwThermalSlowdown
    {0x80, "power brake"},             // HwPowerBrakeSlowdown
};

struct Api {
  // Needed: without these there is nothing to read.
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;
  NvmlReturn (*count)(unsigned*) = nullptr;
  NvmlReturn (*handle)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*power)(NvmlDevice, unsigned*) = nullptr;  // mW
  // Optional: each figure is left out where its function or the GPU lacks it.
  NvmlReturn (*energy)(NvmlDevice, unsigned long long*) = nullptr;  // mJ since driver load
  NvmlReturn (*clock)(NvmlDevice, int, unsigned*) = nullptr;        // MHz
  NvmlReturn (*max_clock)(NvmlDevice, int, unsigned*) = nullptr;    // MHz, the boost ceiling
  NvmlReturn (*temperature)(NvmlDevice, int, unsigned*) = nullptr;  // degrees C
  NvmlReturn (*reasons)(NvmlDevice, unsigned long long*) = nullptr;
  NvmlReturn (*ecc)(NvmlDevice, int, int, unsigned long long*) = nullptr;
  NvmlReturn (*retired)(NvmlDevice, int, unsigned*, unsigned long long*) = nullptr;     // up to Volta
  NvmlReturn (*remapped)(NvmlDevice, unsigned*, unsigned*, unsigned*, unsigned*) = nullptr;  // Ampere+

  std::string error(NvmlReturn rc) const {
    const char* s = error_string ? error_string(rc) : nullptr;
    return s ? s : fmt::format("NVML error {}", rc);
  }
};

struct Library {
  void* handle = nullptr;
  ~Library() {
    if (handle) dlclose(handle);
  }
};

template <typename F>
void find(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
}

class NvmlMeter final : public Meter {
 public:
  NvmlMeter(std::unique_ptr<Library> lib, Api api, std::vector<unsigned> indices, std::vector<NvmlDevice> devices,
            bool energy)
      : lib_(std::move(lib)), api_(api), devices_(std::move(devices)), energy_(energy) {
    for (unsigned i : indices) names_.push_back(fmt::format("gpu-{}", i));
  }
  ~NvmlMeter() override { api_.shutdown(); }  // before lib_ unloads the library

  std::string name() const override { return "nvml"; }
  std::vector<std::string> domains() const override { return names_; }
  bool counts_energy() const override { return energy_; }
  /// 1 mJ (the counter's unit) or 1 mW (the power reading's).
  double resolution() const override { return 1e-3; }
  /// NVML's power figure is an average over a window of the order of 100 ms (1 s on some
  /// boards), and on A100/H100 the on-board sensor samples only part of the time (Yang, Adamek
  /// and Armour, SC24: about 25% of each period), so regions shorter than ~10 updates are
  /// low-confidence; the recorder marks them so and stretches the region where it can.
  double update_period_s() const override { return 0.1; }

  Expected<std::vector<double>> read() override {
    std::vector<double> out;
    out.reserve(devices_.size());
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      if (energy_) {
        unsigned long long mj = 0;
        const NvmlReturn rc = api_.energy(devices_[i], &mj);
        if (rc != kSuccess)
          return make_error(fmt::format("{}: nvmlDeviceGetTotalEnergyConsumption: {}", names_[i], api_.error(rc)));
        out.push_back(static_cast<double>(mj) * 1e-3);  // 64-bit, since driver load: no wrap to unfold
      } else {
        unsigned mw = 0;
        const NvmlReturn rc = api_.power(devices_[i], &mw);
        if (rc != kSuccess)
          return make_error(fmt::format("{}: nvmlDeviceGetPowerUsage: {}", names_[i], api_.error(rc)));
        out.push_back(static_cast<double>(mw) * 1e-3);
      }
    }
    return out;
  }

  std::map<std::string, double> telemetry() override {
    std::map<std::string, double> t;
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      const NvmlDevice d = devices_[i];
      const std::string& g = names_[i];
      unsigned u = 0;
      unsigned long long ull = 0;
      if (api_.clock && api_.clock(d, kClockSm, &u) == kSuccess) t[g + ".sm_clock_mhz"] = u;
      if (api_.clock && api_.clock(d, kClockMem, &u) == kSuccess) t[g + ".mem_clock_mhz"] = u;
      if (api_.max_clock && api_.max_clock(d, kClockSm, &u) == kSuccess) t[g + ".sm_clock_max_mhz"] = u;
      if (api_.temperature && api_.temperature(d, kTemperatureGpu, &u) == kSuccess) t[g + ".temperature_c"] = u;
      if (api_.reasons && api_.reasons(d, &ull) == kSuccess) t[g + ".throttle_reasons"] = static_cast<double>(ull);
      if (api_.ecc && api_.ecc(d, kUncorrected, kAggregateEcc, &ull) == kSuccess)
        t[g + ".ecc_uncorrected"] = static_cast<double>(ull);
      if (api_.retired) {
        // Size query: *count = 0 and no buffer; NVML answers INSUFFICIENT_SIZE with the count.
        double pages = 0;
        bool ok = true;
        for (int cause : kRetirementCauses) {
          unsigned n = 0;
          const NvmlReturn rc = api_.retired(d, cause, &n, nullptr);
          ok = ok && (rc == kSuccess || rc == kInsufficientSize);
          pages += n;
        }
        if (ok) t[g + ".retired_pages"] = pages;
      }
      unsigned corrected = 0, uncorrected = 0, pending = 0, failed = 0;
      if (api_.remapped && api_.remapped(d, &corrected, &uncorrected, &pending, &failed) == kSuccess)
        t[g + ".remapped_rows"] = static_cast<double>(corrected) + uncorrected;
    }
    return t;
  }

  std::vector<std::string> flags(const std::map<std::string, double>& before,
                                 const std::map<std::string, double>& after) const override {
    std::vector<std::string> out;
    auto get = [](const std::map<std::string, double>& m, const std::string& k, double& v) {
      const auto it = m.find(k);
      if (it == m.end()) return false;
      v = it->second;
      return true;
    };
    for (const auto& g : names_) {
      double v = 0;
      // Throttle reasons are a state, not a count: read at the end, they catch a throttle still
      // on then; one that came and went within the region shows in the clocks' drop instead.
      if (get(after, g + ".throttle_reasons", v)) {
        const auto bits = static_cast<unsigned long long>(v);
        std::vector<std::string> words;
        for (const auto& r : kThrottles)
          if (bits & r.bits) words.push_back(r.words);
        if (!words.empty()) out.push_back(fmt::format("{} throttled: {}", g, fmt::join(words, ", ")));
      }
      const std::pair<const char*, const char*> counts[] = {
          {".ecc_uncorrected", "ECC uncorrected errors"},
          {".retired_pages", "retired pages"},
          {".remapped_rows", "remapped rows"},
      };
      for (const auto& [key, words] : counts) {
        double a = 0, b = 0;
        if (get(before, g + key, a) && get(after, g + key, b) && b > a)
          out.push_back(fmt::format("{} {} rose from {:.0f} to {:.0f}", g, words, a, b));
      }
    }
    return out;
  }

 private:
  std::unique_ptr<Library> lib_;
  Api api_;
  std::vector<NvmlDevice> devices_;
  std::vector<std::string> names_;
  bool energy_;
};

}  // namespace

namespace {

std::string library_path(const NvmlOptions& options) {
  std::string path = options.library;
  if (path.empty())
    if (const char* env = std::getenv("CONVERGE_NVML_LIBRARY"); env && *env) path = env;
  return path.empty() ? "libnvidia-ml.so.1" : path;
}

Expected<std::unique_ptr<Library>> load_library(const std::string& path) {
  auto lib = std::make_unique<Library>();
  dlerror();
  lib->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) {
    const char* why = dlerror();
    return make_error(fmt::format("NVML not found: cannot load {} ({})", path, why ? why : "no reason given"));
  }
  return lib;
}

}  // namespace

Expected<NvmlDeviceFacts> nvml_device_facts(const std::string& uuid, const NvmlOptions& options) {
  const std::string path = library_path(options);
  auto lib = load_library(path);
  if (!lib) return make_error(lib.error());
  void* h = (*lib)->handle;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  NvmlReturn (*by_uuid)(const char*, NvmlDevice*) = nullptr;
  NvmlReturn (*clock)(NvmlDevice, int, unsigned*) = nullptr;
  NvmlReturn (*limit)(NvmlDevice, unsigned*) = nullptr;             // mW
  NvmlReturn (*ecc_mode)(NvmlDevice, int*, int*) = nullptr;         // current, pending
  NvmlReturn (*driver)(char*, unsigned) = nullptr;
  Api api;
  find(h, "nvmlErrorString", api.error_string);
  find(h, "nvmlInit_v2", init);
  find(h, "nvmlShutdown", shutdown);
  find(h, "nvmlDeviceGetHandleByUUID", by_uuid);
  find(h, "nvmlDeviceGetClockInfo", clock);
  find(h, "nvmlDeviceGetEnforcedPowerLimit", limit);
  find(h, "nvmlDeviceGetEccMode", ecc_mode);
  find(h, "nvmlSystemGetDriverVersion", driver);
  if (!init || !shutdown || !by_uuid)
    return make_error(fmt::format("NVML: {} has no nvmlInit_v2, nvmlShutdown or nvmlDeviceGetHandleByUUID", path));
  NvmlReturn rc = init();
  if (rc != kSuccess) return make_error(fmt::format("NVML: {}", api.error(rc)));
  NvmlDevice d = nullptr;
  rc = by_uuid(uuid.c_str(), &d);
  if (rc != kSuccess) {
    shutdown();
    return make_error(fmt::format("NVML: nvmlDeviceGetHandleByUUID({}): {}", uuid, api.error(rc)));
  }
  NvmlDeviceFacts f;
  unsigned u = 0;
  if (clock && clock(d, kClockSm, &u) == kSuccess) f.sm_mhz = u;
  if (clock && clock(d, kClockMem, &u) == kSuccess) f.mem_mhz = u;
  if (limit && limit(d, &u) == kSuccess) f.power_limit_w = u * 1e-3;
  int current = 0, pending = 0;
  if (ecc_mode && ecc_mode(d, &current, &pending) == kSuccess) f.ecc = current ? "on" : "off";
  char version[96] = {};
  if (driver && driver(version, sizeof version) == kSuccess) f.driver_version = version;
  shutdown();
  return f;
}

Expected<std::unique_ptr<Meter>> open_nvml(const NvmlOptions& options) {
  const std::string path = library_path(options);
  auto loaded = load_library(path);
  if (!loaded) return make_error(loaded.error());
  auto lib = std::move(*loaded);

  Api api;
  void* h = lib->handle;
  find(h, "nvmlInit_v2", api.init);
  find(h, "nvmlShutdown", api.shutdown);
  find(h, "nvmlErrorString", api.error_string);
  find(h, "nvmlDeviceGetCount_v2", api.count);
  find(h, "nvmlDeviceGetHandleByIndex_v2", api.handle);
  find(h, "nvmlDeviceGetPowerUsage", api.power);
  const std::pair<const char*, bool> needed[] = {
      {"nvmlInit_v2", api.init != nullptr},
      {"nvmlShutdown", api.shutdown != nullptr},
      {"nvmlErrorString", api.error_string != nullptr},
      {"nvmlDeviceGetCount_v2", api.count != nullptr},
      {"nvmlDeviceGetHandleByIndex_v2", api.handle != nullptr},
      {"nvmlDeviceGetPowerUsage", api.power != nullptr},
  };
  for (const auto& [symbol, found] : needed)
    if (!found) return make_error(fmt::format("NVML: {} has no {} (not an NVML library, or too old)", path, symbol));
  find(h, "nvmlDeviceGetTotalEnergyConsumption", api.energy);
  find(h, "nvmlDeviceGetClockInfo", api.clock);
  find(h, "nvmlDeviceGetMaxClockInfo", api.max_clock);
  find(h, "nvmlDeviceGetTemperature", api.temperature);
  // The newer name first: the older is deprecated since NVML 12.2 and may go.
  find(h, "nvmlDeviceGetCurrentClocksEventReasons", api.reasons);
  if (!api.reasons) find(h, "nvmlDeviceGetCurrentClocksThrottleReasons", api.reasons);
  find(h, "nvmlDeviceGetTotalEccErrors", api.ecc);
  find(h, "nvmlDeviceGetRetiredPages", api.retired);
  find(h, "nvmlDeviceGetRemappedRows", api.remapped);

  NvmlReturn rc = api.init();
  if (rc != kSuccess) return make_error(fmt::format("NVML: {}", api.error(rc)));
  // From here on every failure shuts NVML down again (init is reference-counted).
  auto fail = [&](std::string message) -> Expected<std::unique_ptr<Meter>> {
    api.shutdown();
    return make_error(std::move(message));
  };

  unsigned count = 0;
  rc = api.count(&count);
  if (rc != kSuccess) return fail(fmt::format("NVML: nvmlDeviceGetCount_v2: {}", api.error(rc)));
  // NVML numbers every GPU of the node in PCI order, whatever CUDA_VISIBLE_DEVICES says; a GPU
  // that this process may not open (a job's device cgroup) answers NO_PERMISSION and is left out.
  std::vector<unsigned> indices;
  std::vector<NvmlDevice> devices;
  std::string denied;
  for (unsigned i = 0; i < count; ++i) {
    NvmlDevice d = nullptr;
    rc = api.handle(i, &d);
    if (rc == kNoPermission) {
      denied = api.error(rc);
      continue;
    }
    if (rc != kSuccess) return fail(fmt::format("NVML: gpu-{}: nvmlDeviceGetHandleByIndex_v2: {}", i, api.error(rc)));
    indices.push_back(i);
    devices.push_back(d);
  }
  if (devices.empty()) {
    if (count == 0) return fail("NVML: no GPU visible");
    return fail(fmt::format("NVML: no GPU visible ({} GPUs, none accessible: {})", count, denied));
  }

  // The energy counter (Volta and later) where every GPU has it; else power on every GPU.
  bool energy = api.energy != nullptr;
  for (std::size_t i = 0; energy && i < devices.size(); ++i) {
    unsigned long long mj = 0;
    energy = api.energy(devices[i], &mj) == kSuccess;
  }
  if (!energy) {
    for (std::size_t i = 0; i < devices.size(); ++i) {
      unsigned mw = 0;
      rc = api.power(devices[i], &mw);
      if (rc != kSuccess)
        return fail(fmt::format("NVML: gpu-{}: no energy counter, and nvmlDeviceGetPowerUsage: {}", indices[i],
                                api.error(rc)));
    }
  }
  return std::unique_ptr<Meter>(
      std::make_unique<NvmlMeter>(std::move(lib), api, std::move(indices), std::move(devices), energy));
}

}  // namespace converge::core::energy
