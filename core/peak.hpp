#pragma once
// Peak model: theoretical ceilings per metric, each labelled with where it came from.
#include <map>
#include <optional>
#include <string>

namespace converge::core {

struct Inventory;

/// One theoretical ceiling, in base units (FLOP/s, B/s).
struct Peak {
  double value = 0;
  std::string unit;         ///< "FLOP/s" or "B/s"
  std::string source;       ///< "model" (computed from the inventory) or "config" (override)
  std::string assumptions;  ///< human-readable derivation, e.g. "2 cores x 2.45 GHz x 2 FMA x 4 lanes x 2"
};

/// Peaks by id. CPU ids: "cpu.fp64", "cpu.fp32", "cpu.fp16", "cpu.bf16" (all cores) and the
/// same with ".core" appended (one core). GPU ids (core/gpu_peak.hpp): "gpu.fp64", "gpu.fp32",
/// "gpu.fp16", "gpu.bf16" (CUDA cores), "gpu.tensor.<precision>", "gpu.mem_bw". An id that is
/// absent has no known peak.
class PeakModel {
 public:
  std::optional<Peak> get(const std::string& id) const;
  void set(const std::string& id, Peak peak);
  const std::map<std::string, Peak>& all() const { return peaks_; }

  /// Computes the CPU peaks from the inventory (cores x clock x FMA units x lanes x 2).
  static PeakModel from_inventory(const Inventory& inv);
  /// Applies overrides "id=value" (value in base units, e.g. cpu.fp64=1.5e12); source "config".
  void apply_override(const std::string& id, double value);

 private:
  std::map<std::string, Peak> peaks_;
};

}  // namespace converge::core
