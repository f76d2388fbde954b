// CPUID/XGETBV detection and the per-microarchitecture FMA model.
// References: Intel SDM vol. 2 (CPUID), AMD APM vol. 3 (CPUID Fn0000_0001, Fn0000_0007),
// Agner Fog's microarchitecture manual and uops.info for FMA port counts.
#include "core/cpu_features.hpp"

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CONVERGE_X86 1
#endif

namespace converge::core {
namespace {

// One table drives isa_names and isa_from_names, so the two cannot drift apart.
constexpr std::pair<const char*, bool IsaFlags::*> kIsaTable[] = {
    {"sse2", &IsaFlags::sse2},
    {"avx", &IsaFlags::avx},
    {"fma", &IsaFlags::fma},
    {"avx2", &IsaFlags::avx2},
    {"avx512f", &IsaFlags::avx512f},
    {"avx512dq", &IsaFlags::avx512dq},
    {"avx512bw", &IsaFlags::avx512bw},
    {"avx512vl", &IsaFlags::avx512vl},
    {"avx512_vnni", &IsaFlags::avx512_vnni},
    {"avx_vnni", &IsaFlags::avx_vnni},
    {"avx512_bf16", &IsaFlags::avx512_bf16},
    {"avx512_fp16", &IsaFlags::avx512_fp16},
    {"amx_tile", &IsaFlags::amx_tile},
    {"amx_bf16", &IsaFlags::amx_bf16},
    {"amx_int8", &IsaFlags::amx_int8},
};

#ifdef CONVERGE_X86
bool bit(unsigned reg, int n) { return (reg >> n) & 1u; }

// XGETBV via inline asm: the _xgetbv intrinsic needs -mxsave on the whole translation unit.
std::uint64_t xgetbv0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (std::uint64_t{hi} << 32) | lo;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}
#endif

bool in(int model, std::initializer_list<int> models) {
  for (int m : models)
    if (m == model) return true;
  return false;
}

std::string guess_intel_family6(int model, const IsaFlags& isa) {
  if (in(model, {0x0F, 0x16, 0x17, 0x1D})) return "core2";
  if (in(model, {0x1A, 0x1E, 0x1F, 0x2E})) return "nehalem";
  if (in(model, {0x25, 0x2C, 0x2F})) return "westmere";
  if (in(model, {0x2A, 0x2D})) return "sandybridge";
  if (in(model, {0x3A, 0x3E})) return "ivybridge";
  if (in(model, {0x3C, 0x3F, 0x45, 0x46})) return "haswell";
  if (in(model, {0x3D, 0x47, 0x4F, 0x56})) return "broadwell";
  // Kaby, Coffee and Comet Lake reuse the Skylake core.
  if (in(model, {0x4E, 0x5E, 0x8E, 0x9E, 0xA5, 0xA6})) return "skylake";
  if (model == 0x55) {  // one model number, three generations: the ISA tells them apart
    if (isa.avx512_bf16) return "cooperlake";
    if (isa.avx512_vnni) return "cascadelake";
    return "skylakex";
  }
  if (model == 0x66) return "cannonlake";
  if (in(model, {0x6A, 0x6C})) return "icelakex";
  if (in(model, {0x7D, 0x7E})) return "icelake";
  if (in(model, {0x8C, 0x8D})) return "tigerlake";
  if (model == 0xA7) return "rocketlake";
  if (in(model, {0x97, 0x9A, 0xBE})) return "alderlake";
  if (in(model, {0xB7, 0xBA, 0xBF})) return "raptorlake";
  if (in(model, {0xAA, 0xAC})) return "meteorlake";
  if (in(model, {0xC5, 0xC6})) return "arrowlake";
  if (model == 0xBD) return "lunarlake";
  if (model == 0x8F) return "sapphirerapids";
  if (model == 0xCF) return "emeraldrapids";
  if (in(model, {0xAD, 0xAE})) return "graniterapids";
  if (model == 0xAF) return "sierraforest";
  if (model == 0x57) return "knightslanding";
  if (model == 0x85) return "knightsmill";
  return "unknown";
}

std::string guess_amd(int family, int model, const IsaFlags& isa) {
  switch (family) {
    case 0x10: return "k10";
    case 0x15:
      if (model < 0x10) return "bulldozer";
      if (model < 0x30) return "piledriver";
      if (model < 0x60) return "steamroller";
      return "excavator";
    case 0x16: return "jaguar";
    case 0x17: return model < 0x30 ? "zen" : "zen2";  // Zen+ (0x08, 0x18) has Zen's FP unit
    case 0x18: return "zen";                           // Hygon Dhyana
    case 0x19: {
      const bool zen4 = (model >= 0x10 && model <= 0x1F) || (model >= 0x60 && model <= 0x7F) ||
                        (model >= 0xA0 && model <= 0xAF);
      const bool zen3 = model <= 0x0F || (model >= 0x20 && model <= 0x2F) ||
                        (model >= 0x40 && model <= 0x5F);
      if (zen4) return "zen4";
      if (zen3) return "zen3";
      return isa.avx512f ? "zen4" : "zen3";  // a new model number: Zen4 is the one with AVX-512
    }
    case 0x1A: return "zen5";
    default: return "unknown";
  }
}

// When nothing is known about the core, the ISA gives a lower bound on the FP pipes.
FmaModel fma_from_isa(const IsaFlags& isa, const std::string& why) {
  if (isa.fma && isa.avx2)
    return {2, 256, 2, why + "ISA has AVX2+FMA: assumed 2 × 256-bit FMA units"};
  if (isa.avx)
    return {2, 256, 1, why + "ISA has AVX without FMA: assumed 1 mul + 1 add pipe, 256-bit"};
  return {2, 128, 1, why + "assumed SSE2: 1 mul + 1 add pipe, 128-bit"};
}

bool is_hybrid_client(const std::string& u) {
  return u == "alderlake" || u == "raptorlake" || u == "meteorlake" || u == "arrowlake" ||
         u == "lunarlake";
}

FmaModel fma_intel(const std::string& u, const IsaFlags& isa, const std::string& brand) {
  if (u == "skylakex" || u == "cascadelake" || u == "cooperlake") {
    // Intel ARK: Bronze, Silver and most Gold 5xxx of these generations fuse ports 0+1 only.
    const bool one_unit =
        brand.find("Bronze") != std::string::npos || brand.find("Silver") != std::string::npos ||
        (brand.find("Gold 5") != std::string::npos && brand.find("5122") == std::string::npos &&
         brand.find("5222") == std::string::npos);
    if (one_unit)
      return {1, 512, 2, u + ": this Xeon SKU (Bronze/Silver/Gold 5xxx) has 1 AVX-512 FMA unit"};
    return {2, 512, 2,
            u + ": 2 × 512-bit FMA units (Xeon Gold 6xxx/Platinum, Xeon W; Bronze, Silver and "
                "most Gold 5xxx have 1)"};
  }
  if (u == "icelakex" || u == "sapphirerapids" || u == "emeraldrapids" || u == "graniterapids" ||
      u == "knightslanding" || u == "knightsmill")
    return {2, 512, 2, u + ": 2 × 512-bit FMA units per core"};
  if (u == "icelake" || u == "tigerlake" || u == "rocketlake" || u == "cannonlake")
    return {2, 256, 2,
            u + ": client cores fuse their two 256-bit FMA pipes for one 512-bit FMA per cycle: "
                "the FLOP rate of 2 × 256-bit"};
  if (u == "haswell" || u == "broadwell" || u == "skylake" || is_hybrid_client(u)) {
    FmaModel m{2, 256, 2, u + ": 2 × 256-bit FMA units"};
    if (is_hybrid_client(u))
      m.assumption += " (P-cores; E-cores have 2 × 128-bit: the peak assumes all are P-cores)";
    return m;
  }
  if (u == "sierraforest") return {2, 128, 2, u + ": E-cores, 2 × 128-bit FMA units"};
  if (u == "sandybridge" || u == "ivybridge")
    return {2, 256, 1, u + ": 1 mul + 1 add pipe, 256-bit (no FMA)"};
  if (u == "nehalem" || u == "westmere" || u == "core2")
    return {2, 128, 1, u + ": 1 mul + 1 add pipe, 128-bit (no FMA)"};
  return fma_from_isa(isa, u + ": no FMA model; ");
}

FmaModel fma_amd(const std::string& u, const IsaFlags& isa) {
  if (u == "zen") return {2, 128, 2, "zen: 2 × 128-bit FMA pipes (256-bit ops split in halves)"};
  if (u == "zen2" || u == "zen3") return {2, 256, 2, u + ": 2 × 256-bit FMA pipes"};
  if (u == "zen4")
    return {2, 256, 2,
            "zen4: AVX-512 executes on 256-bit halves: one 512-bit FMA per cycle, the FLOP rate "
            "of 2 × 256-bit FMA pipes"};
  if (u == "zen5")
    return {2, 512, 2,
            "zen5: 2 × 512-bit FMA pipes (EPYC 9005, Ryzen 9000); mobile Zen5 (Strix Point) and "
            "possibly some desktop parts run AVX-512 on 256-bit halves: half this peak"};
  return fma_from_isa(isa, u + ": no FMA model; ");
}

}  // namespace

CpuIdentity detect_cpu() {
  CpuIdentity id;
#ifdef CONVERGE_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return id;
  const unsigned max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor + 0, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  id.vendor = vendor;

  __get_cpuid(1, &a, &b, &c, &d);
  const int base_family = (a >> 8) & 0xF, base_model = (a >> 4) & 0xF;
  id.stepping = a & 0xF;
  id.family = base_family == 0xF ? base_family + ((a >> 20) & 0xFF) : base_family;
  id.model = (base_family == 0x6 || base_family == 0xF) ? (((a >> 16) & 0xF) << 4) | base_model
                                                         : base_model;
  id.hypervisor = bit(c, 31);
  IsaFlags& isa = id.isa;
  isa.sse2 = bit(d, 26);

  // The OS must have enabled the register state, or the instructions raise #UD.
  const bool osxsave = bit(c, 27);
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;              // XMM | YMM
  const bool os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;  // opmask | ZMM_Hi256 | Hi16_ZMM
  // Linux also wants arch_prctl(ARCH_REQ_XCOMP_PERM) before a process uses AMX tiles.
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;      // XTILECFG | XTILEDATA

  isa.avx = os_avx && bit(c, 28);
  isa.fma = os_avx && bit(c, 12);
  if (max_leaf >= 7) {
    __get_cpuid_count(7, 0, &a, &b, &c, &d);
    isa.avx2 = os_avx && bit(b, 5);
    isa.avx512f = os_avx512 && bit(b, 16);
    isa.avx512dq = os_avx512 && bit(b, 17);
    isa.avx512bw = os_avx512 && bit(b, 30);
    isa.avx512vl = os_avx512 && bit(b, 31);
    isa.avx512_vnni = os_avx512 && bit(c, 11);
    isa.avx512_fp16 = os_avx512 && bit(d, 23);
    isa.amx_bf16 = os_amx && bit(d, 22);
    isa.amx_tile = os_amx && bit(d, 24);
    isa.amx_int8 = os_amx && bit(d, 25);
    const unsigned max_subleaf = a;
    if (max_subleaf >= 1) {
      __get_cpuid_count(7, 1, &a, &b, &c, &d);
      isa.avx_vnni = os_avx && bit(a, 4);
      isa.avx512_bf16 = os_avx512 && bit(a, 5);
    }
  }

  if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
    char brand[49] = {};
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002 + leaf, &a, &b, &c, &d);
      const unsigned regs[4] = {a, b, c, d};
      std::memcpy(brand + 16 * leaf, regs, 16);
    }
    id.brand = trim(brand);
  }
#endif
  return id;
}

std::vector<std::string> isa_names(const IsaFlags& isa) {
  std::vector<std::string> names;
  for (const auto& [name, member] : kIsaTable)
    if (isa.*member) names.emplace_back(name);
  return names;
}

IsaFlags isa_from_names(const std::vector<std::string>& names) {
  IsaFlags isa;
  for (const auto& n : names)
    for (const auto& [name, member] : kIsaTable)
      if (n == name) isa.*member = true;
  return isa;
}

std::string guess_microarchitecture(const std::string& vendor, int family, int model,
                                    const IsaFlags& isa) {
  if (vendor == "GenuineIntel" && family == 6) return guess_intel_family6(model, isa);
  if (vendor == "AuthenticAMD" || vendor == "HygonGenuine") return guess_amd(family, model, isa);
  return "unknown";
}

FmaModel fma_model(const std::string& vendor, const std::string& microarchitecture,
                   const IsaFlags& isa, const std::string& brand) {
  const std::string& u = microarchitecture.empty() ? std::string("unknown") : microarchitecture;
  FmaModel m;
  if (vendor == "GenuineIntel")
    m = fma_intel(u, isa, brand);
  else if (vendor == "AuthenticAMD" || vendor == "HygonGenuine")
    m = fma_amd(u, isa);
  else
    m = fma_from_isa(isa, u + ": no FMA model; ");

  // The core may have wider pipes than this process may use: hypervisors mask AVX-512, and
  // the OS may not enable its state. Code cannot reach pipes it cannot address.
  if (m.flop_per_op == 2 && !isa.fma)
    return fma_from_isa(isa, m.assumption + "; but FMA is not usable here: ");
  if (m.vector_bits == 512 && !isa.avx512f) {
    m.vector_bits = 256;
    m.assumption +=
        "; but AVX-512 is not usable here (masked by the hypervisor or the OS): 256-bit";
  }
  return m;
}

}  // namespace converge::core
