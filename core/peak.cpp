// Theoretical CPU peaks: cores x clock x FMA units x lanes x FLOP per op, with the derivation
// written out so that a reader can check (and dispute) every factor.
// No CPU memory-bandwidth peak: channel count and DIMM speed cannot be read reliably without
// root (dmidecode) and are often wrong in VMs; a site config can set one.
#include "core/peak.hpp"

#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "core/cpu_features.hpp"
#include "core/gpu_peak.hpp"
#include "core/inventory.hpp"

namespace converge::core {
namespace {

// "2.445", "2.1": clocks to MHz precision, without trailing zeros.
std::string ghz_text(double ghz) {
  std::string s = fmt::format("{:.3f}", ghz);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string rate_text(double flops) {
  if (flops >= 1e12) return fmt::format("{:.4g} TFLOP/s", flops / 1e12);
  return fmt::format("{:.4g} GFLOP/s", flops / 1e9);
}

// Where the chosen clock came from: the "nominal: ..." or "max: ..." clause of the
// inventory's frequency_source ("nominal: A; max: B (single-core turbo)"), else all of it.
std::string clock_origin(const std::string& source, const std::string& clause) {
  if (source.empty()) return "source unknown";
  const auto at = source.find(clause);
  if (at == std::string::npos) return "from " + source;
  const auto begin = at + clause.size();
  const auto end = source.find("; ", begin);
  return "from " + source.substr(begin, end == std::string::npos ? end : end - begin);
}

// One precision's lane arithmetic: lanes per op, and products per lane (2 for vdpbf16ps).
struct Lanes {
  const char* precision;
  int lanes;
  int products;
  std::string how;  // "4 fp64 lanes (256-bit)"
};

}  // namespace

std::optional<Peak> PeakModel::get(const std::string& id) const {
  const auto it = peaks_.find(id);
  if (it == peaks_.end()) return std::nullopt;
  return it->second;
}

void PeakModel::set(const std::string& id, Peak peak) { peaks_[id] = std::move(peak); }

void PeakModel::apply_override(const std::string& id, double value) {
  Peak p;
  p.value = value;
  p.source = "config";
  if (const auto old = get(id)) {
    p.unit = old->unit;
    // Keep the model's figure in view: a config that disagrees with it by 2x is worth a look.
    p.assumptions = fmt::format("set in the site config (the model said {:.6g} {}: {})",
                                old->value, old->unit, old->assumptions);
  } else {
    const bool bytes = id.find("bw") != std::string::npos ||
                       id.find("bandwidth") != std::string::npos ||
                       id.find("mem") != std::string::npos;
    p.unit = bytes ? "B/s" : (id.find("int8") != std::string::npos ? "OP/s" : "FLOP/s");
    p.assumptions = "set in the site config";
  }
  peaks_[id] = std::move(p);
}

PeakModel PeakModel::from_inventory(const Inventory& inv) {
  PeakModel model;
  // GPU peaks describe the node's first GPU; a benchmark on another model of GPU computes its
  // own (gpu_peak()).
  if (!inv.gpus.empty()) add_gpu_peaks(model, inv.gpus.front());
  const CpuInventory& cpu = inv.cpu;
  const bool use_max = cpu.max_ghz > 0;
  const double ghz = use_max ? cpu.max_ghz : cpu.nominal_ghz;
  if (cpu.cores <= 0 || ghz <= 0) return model;  // no clock or no cores: no honest peak

  const IsaFlags isa = isa_from_names(cpu.isa);
  std::string uarch = cpu.microarchitecture;
  if (uarch.empty() || uarch == "unknown")
    uarch = guess_microarchitecture(cpu.vendor, cpu.family, cpu.model, isa);
  const FmaModel fma = fma_model(cpu.vendor, uarch, isa, cpu.model_name);
  if (fma.units <= 0 || fma.vector_bits <= 0) return model;

  const std::string bits = fmt::format("{}-bit", fma.vector_bits);
  std::vector<Lanes> kinds = {
      {"fp64", fma.vector_bits / 64, 1,
       fmt::format("{} fp64 lanes ({})", fma.vector_bits / 64, bits)},
      {"fp32", fma.vector_bits / 32, 1,
       fmt::format("{} fp32 lanes ({})", fma.vector_bits / 32, bits)},
  };
  // Native fp16 arithmetic (vfmadd*ph): twice the fp32 lanes. Without AVX512_FP16, fp16 is
  // converted to fp32 (F16C) and has no rate of its own.
  if (isa.avx512_fp16)
    kinds.push_back({"fp16", fma.vector_bits / 16, 1,
                     fmt::format("{} fp16 lanes ({}, AVX512_FP16)", fma.vector_bits / 16, bits)});
  // vdpbf16ps: each fp32 lane accumulates 2 bf16 products per instruction.
  if (isa.avx512_bf16)
    kinds.push_back({"bf16", fma.vector_bits / 32, 2,
                     fmt::format("{} fp32 lanes ({}) × 2 bf16 products/lane (vdpbf16ps)",
                                 fma.vector_bits / 32, bits)});

  const std::string pipes = fma.flop_per_op == 2
                                ? fmt::format("{} FMA units", fma.units)
                                : fmt::format("{} pipes (1 mul + 1 add)", fma.units);
  const std::string per_op = fma.flop_per_op == 2 ? "2 FLOP/FMA" : "1 FLOP/op";
  const std::string clock =
      use_max ? fmt::format("clock: max, {}; all-core and AVX-heavy clocks are lower, so this "
                            "peak is optimistic",
                            clock_origin(cpu.frequency_source, "max: "))
              : fmt::format("clock: nominal, {}; turbo can exceed it and AVX-heavy code may "
                            "run below it",
                            clock_origin(cpu.frequency_source, "nominal: "));

  for (const Lanes& k : kinds) {
    const double per_core = ghz * 1e9 * fma.units * k.lanes * k.products * fma.flop_per_op;
    for (const bool all : {true, false}) {
      const int n = all ? cpu.cores : 1;
      Peak p;
      p.value = per_core * n;
      p.unit = "FLOP/s";
      p.source = "model";
      p.assumptions = fmt::format("{} core{} × {} GHz × {} × {} × {} = {}; {}; {}", n,
                                  n == 1 ? "" : "s", ghz_text(ghz), pipes, k.how, per_op,
                                  rate_text(p.value), fma.assumption, clock);
      if (std::string(k.precision) == "bf16" && isa.amx_bf16)
        p.assumptions += "; AMX tiles (amx_bf16) reach far more and are not modelled here";
      model.set(fmt::format("cpu.{}{}", k.precision, all ? "" : ".core"), std::move(p));
    }
  }
  return model;
}

}  // namespace converge::core
