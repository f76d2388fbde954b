#pragma once
// What the CPU can execute (CPUID + XGETBV) and how fast its FMA pipes are (a per-
// microarchitecture model). The peak model and the BLAS/ISA check build on this.
#include <string>
#include <vector>

namespace converge::core {

/// FLOP-relevant ISA extensions. An AVX/AVX-512/AMX flag is set only when CPUID reports it
/// AND the OS saves that register state (XGETBV): a kernel that does not enable the state
/// makes the instructions fault, so for our purposes the CPU does not have them.
struct IsaFlags {
  bool sse2 = false, avx = false, fma = false, avx2 = false;
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
  bool avx512_vnni = false, avx_vnni = false, avx512_bf16 = false, avx512_fp16 = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
};

/// The identity of the CPU executing this call, from CPUID. Empty/zero on non-x86 builds.
struct CpuIdentity {
  std::string vendor;  ///< "GenuineIntel", "AuthenticAMD", "HygonGenuine", ...
  std::string brand;   ///< CPUID brand string, trimmed ("" when leaf 0x80000004 is absent)
  int family = 0;      ///< display family (base + extended when base is 0xF)
  int model = 0;       ///< display model (extended model prepended for family 6 and >= 0xF)
  int stepping = 0;
  bool hypervisor = false;  ///< CPUID.1:ECX[31], set by hypervisors for their guests
  IsaFlags isa;
};

/// Reads CPUID on the calling thread's CPU. Cheap; no system calls.
CpuIdentity detect_cpu();

/// The set flags as lowercase names ("sse2", "avx512f", "avx512_bf16", "amx_tile", ...),
/// in a fixed order (the order of IsaFlags' members).
std::vector<std::string> isa_names(const IsaFlags& isa);

/// Inverse of isa_names; unknown names are ignored (an inventory may list more).
IsaFlags isa_from_names(const std::vector<std::string>& names);

/// Best guess of the microarchitecture from vendor and display family/model:
/// "zen", "zen2", "zen3", "zen4", "zen5", "haswell", "broadwell", "skylake", "skylakex",
/// "cascadelake", "cooperlake", "icelake" (client), "icelakex" (server), "tigerlake",
/// "alderlake", "sapphirerapids", "emeraldrapids", "graniterapids", ... or "unknown".
/// The ISA separates steppings of one model (Skylake-SP / Cascade Lake / Cooper Lake).
std::string guess_microarchitecture(const std::string& vendor, int family, int model,
                                    const IsaFlags& isa);

/// Floating-point issue model of one core, used for theoretical peaks.
struct FmaModel {
  int units = 0;          ///< FP pipes that issue one vector op per cycle each
  int vector_bits = 0;    ///< width of one op on those pipes (128, 256, 512)
  int flop_per_op = 2;    ///< 2 for FMA pipes; 1 where a mul pipe and an add pipe pair up
  std::string assumption; ///< why these numbers, with known exceptions, for the report
};

/// FMA units and width per core. `brand` refines Intel Xeon SKUs with one AVX-512 unit.
/// Unknown microarchitectures fall back on the ISA: AVX2+FMA -> 2 x 256-bit FMA;
/// AVX without FMA -> 1 mul + 1 add 256-bit; otherwise SSE2 1 mul + 1 add 128-bit.
FmaModel fma_model(const std::string& vendor, const std::string& microarchitecture,
                   const IsaFlags& isa, const std::string& brand);

}  // namespace converge::core
