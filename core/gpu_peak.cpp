// The GPU peak table. Every figure is dense operations per clock per SM (FMA = 2), from the
// vendor's architecture whitepapers and the CUDA Programming Guide's throughput table, and
// checked against the data sheet of one product per architecture (SMs x clock x figure):
//   7.0 V100 SXM2 (80 SMs, 1530 MHz): fp64 7.8, fp32 15.7, fp16 TC 125 TFLOP/s
//   7.5 T4 (40 SMs, 1590 MHz): fp32 8.1, fp16 TC 65, int8 TC 130 TOP/s
//   8.0 A100 SXM (108 SMs, 1410 MHz): fp64 9.7, fp16 78 (non-tensor), bf16 39, fp64 TC 19.5,
//       tf32 TC 156, fp16/bf16 TC 312, int8 TC 624
//   8.6 A40 (84 SMs, 1740 MHz): fp32 37.4, tf32 TC 74.8, fp16 TC 150, int8 TC 299
//   8.9 L40S (142 SMs, 2520 MHz): fp32 91.6, tf32 TC 183, fp16 TC 362, fp8/int8 TC 733
//   9.0 H100 SXM (132 SMs): fp64 33.5 and fp64 TC 67 at 1980 MHz; fp16 TC 989, tf32 TC 495,
//       fp8/int8 TC 1979 at the 1830 MHz NVIDIA uses for Tensor Core figures
// GeForce parts of 8.6/8.9 run fp16 Tensor Core work with fp32 accumulate at half these rates.
// Architectures not in the table (Blackwell and later) get no modelled peak: a site config
// sets one.
#include "core/gpu_peak.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace converge::core {
namespace {

constexpr double kNone = 0;  // the architecture lacks the precision on that unit

struct ArchRow {
  int major, minor;
  const char* name;
  // CUDA cores: fp64, fp32, fp16 (half2), bf16 (bfloat162)
  std::array<double, 4> core;
  // Tensor Cores: fp64, tf32, fp16, bf16, fp8, int8 (dense, fp32/int32 accumulate)
  std::array<double, 6> tensor;
};

constexpr ArchRow kTable[] = {
    {7, 0, "Volta", {64, 128, 256, kNone}, {kNone, kNone, 1024, kNone, kNone, kNone}},
    {7, 5, "Turing", {4, 128, 256, kNone}, {kNone, kNone, 1024, kNone, kNone, 2048}},
    {8, 0, "Ampere (GA100)", {64, 128, 512, 256}, {128, 1024, 2048, 2048, kNone, 4096}},
    {8, 6, "Ampere (GA10x)", {4, 256, 256, 256}, {kNone, 512, 1024, 1024, kNone, 2048}},
    {8, 9, "Ada Lovelace", {4, 256, 256, 256}, {kNone, 512, 1024, 1024, 2048, 2048}},
    {9, 0, "Hopper", {128, 256, 512, 512}, {256, 2048, 4096, 4096, 8192, 8192}},
};

const ArchRow* row(int major, int minor) {
  for (const auto& r : kTable)
    if (r.major == major && r.minor == minor) return &r;
  return nullptr;
}

template <std::size_t N>
int position(const std::vector<std::string>& names, const std::string& p) {
  for (std::size_t i = 0; i < names.size() && i < N; ++i)
    if (names[i] == p) return int(i);
  return -1;
}

std::string rate_text(double v, const std::string& unit) {
  const std::string prefix = unit == "B/s" ? "" : (unit == "OP/s" ? "OP/s" : "FLOP/s");
  if (unit == "B/s") return v >= 1e12 ? fmt::format("{:.4g} TB/s", v / 1e12) : fmt::format("{:.4g} GB/s", v / 1e9);
  return v >= 1e12 ? fmt::format("{:.4g} T{}", v / 1e12, prefix) : fmt::format("{:.4g} G{}", v / 1e9, prefix);
}

}  // namespace

const std::vector<std::string>& gpu_core_precisions() {
  static const std::vector<std::string> p = {"fp64", "fp32", "fp16", "bf16"};
  return p;
}

const std::vector<std::string>& gpu_tensor_precisions() {
  static const std::vector<std::string> p = {"fp64", "tf32", "fp16", "bf16", "fp8", "int8"};
  return p;
}

std::optional<double> gpu_ops_per_clock_per_sm(int cc_major, int cc_minor, const std::string& unit,
                                               const std::string& precision) {
  const ArchRow* r = row(cc_major, cc_minor);
  if (r == nullptr) return std::nullopt;
  double v = kNone;
  if (unit == "core") {
    const int i = position<4>(gpu_core_precisions(), precision);
    if (i >= 0) v = r->core[std::size_t(i)];
  } else if (unit == "tensor") {
    const int i = position<6>(gpu_tensor_precisions(), precision);
    if (i >= 0) v = r->tensor[std::size_t(i)];
  }
  if (v == kNone) return std::nullopt;
  return v;
}

std::string gpu_architecture_name(int cc_major, int cc_minor) {
  const ArchRow* r = row(cc_major, cc_minor);
  return r ? r->name : "";
}

void add_gpu_peaks(PeakModel& model, const GpuInventory& gpu, double sm_mhz) {
  const bool measured_clock = sm_mhz > 0;
  const double mhz = measured_clock ? sm_mhz : gpu.max_sm_mhz;
  const std::string sm = fmt::format("sm_{}{}", gpu.cc_major, gpu.cc_minor);
  const std::string arch = gpu_architecture_name(gpu.cc_major, gpu.cc_minor);
  const std::string clock_text =
      measured_clock ? fmt::format("{:.0f} MHz SM clock (measured)", mhz)
                     : fmt::format("{:.0f} MHz SM clock (the device's maximum, cudaDevAttrClockRate; under load "
                                   "the clock may be lower, and results note the clock they measured)",
                                   mhz);
  if (gpu.sm_count > 0 && mhz > 0) {
    for (const char* unit : {"core", "tensor"}) {
      const bool tensor = std::string(unit) == "tensor";
      for (const auto& p : tensor ? gpu_tensor_precisions() : gpu_core_precisions()) {
        const auto per_sm = gpu_ops_per_clock_per_sm(gpu.cc_major, gpu.cc_minor, unit, p);
        if (!per_sm) continue;
        Peak peak;
        peak.value = gpu.sm_count * *per_sm * mhz * 1e6;
        peak.unit = p == "int8" ? "OP/s" : "FLOP/s";
        peak.source = "model";
        peak.assumptions = fmt::format(
            "{}: {} SMs × {:g} {} {}/clock/SM ({} {}, {} {}) × {} = {}", gpu.name, gpu.sm_count, *per_sm,
            p, p == "int8" ? "OP" : "FLOP", arch, sm, tensor ? "Tensor Cores, dense" : "CUDA cores", "FMA = 2",
            clock_text, rate_text(peak.value, peak.unit));
        model.set(tensor ? "gpu.tensor." + p : "gpu." + p, std::move(peak));
      }
    }
  }
  if (gpu.max_mem_mhz > 0 && gpu.bus_width_bits > 0) {
    Peak peak;
    peak.value = 2.0 * gpu.max_mem_mhz * 1e6 * gpu.bus_width_bits / 8.0;
    peak.unit = "B/s";
    peak.source = "model";
    peak.assumptions = fmt::format("{}: 2 (double data rate) × {:.0f} MHz memory clock × {} bit bus / 8 = {}",
                                   gpu.name, gpu.max_mem_mhz, gpu.bus_width_bits, rate_text(peak.value, "B/s"));
    model.set("gpu.mem_bw", std::move(peak));
  }
}

std::optional<Peak> gpu_peak(const PeakModel* model, const GpuInventory& gpu, const std::string& id) {
  if (model != nullptr) {
    if (auto p = model->get(id); p && (p->source == "config" || p->assumptions.rfind(gpu.name + ":", 0) == 0))
      return p;
  }
  PeakModel own;
  add_gpu_peaks(own, gpu);
  return own.get(id);
}

}  // namespace converge::core
