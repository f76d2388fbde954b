#pragma once
// micro.gpu_mma: what the kernels (mma.cu: mma.sync; mma_wgmma.cu: sm_90a wgmma) and the host
// share: the PTX ISA's fragment layouts (which (row, col) each register of each lane holds),
// the shared-memory core-matrix layout and matrix descriptor of wgmma, the input patterns, the
// host reference and the check of every output tile. CONVERGE_HD functions run on the device
// in the kernels and on the host in verify() and the unit tests.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda/host_device.hpp"

namespace converge::micro::cuda::mma {

enum class Precision { fp16, bf16, int8, fp8 };

CONVERGE_HD constexpr int element_bytes(Precision p) { return p == Precision::fp16 || p == Precision::bf16 ? 2 : 1; }
/// int8 accumulates into s32 registers, every other precision into f32.
CONVERGE_HD constexpr bool integer_accumulator(Precision p) { return p == Precision::int8; }

struct Coord {
  int row, col;
};

// --- mma.sync m16n8kK (PTX ISA, "Matrix Fragments for mma.m16n8k8 / m16n8k16 / m16n8k32") ----------
// groupID g = lane >> 2, threadID_in_group t = lane % 4; per_reg = elements per 32-bit register
// (2 for f16/bf16, 4 for s8/e4m3), element i of a fragment is element i % per_reg (low to high)
// of register i / per_reg. A is row-major M x K, B is column-major K x N ("row.col").

/// A element i of `lane`: row g (+8 in odd registers), col t * per_reg + i % per_reg (+4 per_reg
/// in registers 2 and 3). E.g. m16n8k16 f16: a0,a1 (g, 2t..2t+1), a2,a3 (g+8, ..), a4,a5 (g, 2t+8..).
CONVERGE_HD Coord sync_a(int per_reg, int lane, int i) {
  const int g = lane >> 2, t = lane & 3, r = i / per_reg, p = i % per_reg;
  return {g + 8 * (r & 1), t * per_reg + p + (r >> 1) * 4 * per_reg};
}
/// B element i of `lane` as (k, n): k = t * per_reg + i % per_reg (+4 per_reg in register 1), n = g.
CONVERGE_HD Coord sync_b(int per_reg, int lane, int i) {
  const int g = lane >> 2, t = lane & 3, r = i / per_reg, p = i % per_reg;
  return {t * per_reg + p + r * 4 * per_reg, g};
}
/// C/D element i (0..3) of `lane`: row g (+8 for c2, c3), col 2t + (i & 1); f32 and s32 alike.
CONVERGE_HD Coord sync_c(int lane, int i) { return {(lane >> 2) + 8 * (i >> 1), 2 * (lane & 3) + (i & 1)}; }
/// Inverse of sync_c: the lane and register holding (row, col) of the 16 x 8 tile.
CONVERGE_HD void sync_c_owner(int row, int col, int& lane, int& i) {
  lane = 4 * (row & 7) + col / 2;
  i = 2 * (row >> 3) + (col & 1);
}
/// The instruction's k: Turing's f16 is m16n8k8 (m16n8k16 f16 needs sm_80); 8-bit types are k32.
CONVERGE_HD constexpr int sync_k(Precision p, int cc) {
  return element_bytes(p) == 1 ? 32 : (p == Precision::fp16 && cc < 80 ? 8 : 16);
}
/// Lowest __CUDA_ARCH__ (x10) whose PTX has the instruction (PTX ISA "mma" target notes).
CONVERGE_HD constexpr int sync_min_arch(Precision p, int k) {
  return p == Precision::fp8 ? 890 : (p == Precision::fp16 && k == 8 ? 750 : 800);
}

// --- wgmma m64n256kK, both operands K-major in shared memory, no swizzle ---------------------------
// K covers 32 bytes (k16 for f16/bf16, k32 for s8/e4m3). A core matrix is 8 rows x 16 bytes, stored
// as 128 contiguous bytes (row r at 16 r). Core matrix (row / 8, kbyte / 16) is at
// ((row / 8) * 2 + kbyte / 16) * 128: LBO (between the two K-adjacent core matrices) = 128 B, SBO
// (between 8-row groups along M or N) = 256 B; CUTLASS's canonical K-major INTERLEAVE layout
// ((8,m),(T,2)):((1T,SBO),(1,LBO)).
constexpr int kWgmmaM = 64, kWgmmaN = 256, kWgmmaKBytes = 32;
constexpr unsigned kLeadingByteOffset = 128, kStrideByteOffset = 256;

CONVERGE_HD unsigned core_matrix_offset(int row, int kbyte) {
  return unsigned(((row >> 3) * 2 + (kbyte >> 4)) * 128 + (row & 7) * 16 + (kbyte & 15));
}
/// Matrix descriptor (PTX ISA "Matrix Descriptor Format"; CUTLASS GmmaDescriptor): bits 0-13 start
/// address >> 4, 16-29 leading byte offset >> 4, 32-45 stride byte offset >> 4, 49-51 base offset
/// (0), 62-63 swizzle mode (0 = none).
CONVERGE_HD std::uint64_t wgmma_descriptor(std::uint32_t smem_address, std::uint32_t lbo, std::uint32_t sbo) {
  return std::uint64_t((smem_address >> 4) & 0x3FFF) | std::uint64_t((lbo >> 4) & 0x3FFF) << 16 |
         std::uint64_t((sbo >> 4) & 0x3FFF) << 32;
}
/// Accumulator element i (0..127) of thread `thread` (0..127) of the warpgroup (PTX ISA "Register
/// Fragments ... accumulator D", CUTLASS CLayout_64xN): warp w owns rows 16w..16w+15; row
/// 16w + g (+8 for i % 4 >= 2), col 8 (i / 4) + 2t + (i & 1).
CONVERGE_HD Coord wgmma_d(int thread, int i) {
  const int w = thread >> 5, lane = thread & 31;
  return {16 * w + (lane >> 2) + 8 * ((i >> 1) & 1), 8 * (i >> 2) + 2 * (lane & 3) + (i & 1)};
}
CONVERGE_HD void wgmma_d_owner(int row, int col, int& thread, int& i) {
  thread = 32 * (row >> 4) + 4 * (row & 7) + (col & 7) / 2;
  i = 4 * (col >> 3) + 2 * ((row >> 3) & 1) + (col & 1);
}

// --- input patterns -----------------------------------------------------------------------------
// Every input is a code 0..5 from a hash of (seed, unit, index): values {-2, -1, -1/2, 1/2, 1, 2}
// (int8: {-3, -2, -1, 1, 2, 3}), exact in fp16, bf16 and e4m3; code 5 - c is -value. A "unit" is a
// warp (mma.sync) or a warpgroup (wgmma); a "tile" is one of a unit's accumulator sets.

CONVERGE_HD std::uint32_t mix32(std::uint32_t x) {  // lowbias32 (C. Wellons)
  x ^= x >> 16, x *= 0x7feb352dU, x ^= x >> 15, x *= 0x846ca68bU, x ^= x >> 16;
  return x;
}
CONVERGE_HD std::uint32_t pattern_hash(std::uint32_t seed, std::uint32_t what, std::uint32_t a, std::uint32_t b) {
  return mix32(mix32(mix32(seed * 0x9E3779B9U + what) ^ a) + b);
}
/// A(unit)[row][k]: each unit has its own A.
CONVERGE_HD int a_code(std::uint32_t seed, std::uint32_t unit, int row, int k) {
  return int(pattern_hash(seed, 1, unit, std::uint32_t(row * 64 + k)) % 6);
}
/// B(tile)[k][col]: one B per tile index, the same in every unit.
CONVERGE_HD int b_code(std::uint32_t seed, int tile, int k, int col) {
  return int(pattern_hash(seed, 2, std::uint32_t(tile), std::uint32_t(k * 256 + col)) % 6);
}
/// The accumulator's initial value, an integer in [-16, 16]; halved for float accumulators.
CONVERGE_HD int c_init(std::uint32_t seed, std::uint32_t unit, int tile, int row, int col) {
  return int(pattern_hash(seed, 3, unit * 16 + std::uint32_t(tile), std::uint32_t(row * 256 + col)) % 33) - 16;
}
CONVERGE_HD double c_init_value(Precision p, std::uint32_t seed, std::uint32_t unit, int tile, int row, int col) {
  const int v = c_init(seed, unit, tile, row, col);
  return integer_accumulator(p) ? double(v) : 0.5 * v;
}
CONVERGE_HD double code_value(Precision p, int code) {
  if (p == Precision::int8) return code < 3 ? double(code - 3) : double(code - 2);
  const double v[6] = {-2, -1, -0.5, 0.5, 1, 2};
  return v[code];
}
/// The bit pattern of code_value(p, code) in the input type (right-aligned in 32 bits).
CONVERGE_HD std::uint32_t code_bits(Precision p, int code) {
  switch (p) {
    case Precision::fp16: {  // sign | (e + 15) << 10
      const std::uint32_t b[6] = {0xC000, 0xBC00, 0xB800, 0x3800, 0x3C00, 0x4000};
      return b[code];
    }
    case Precision::bf16: {  // sign | (e + 127) << 7
      const std::uint32_t b[6] = {0xC000, 0xBF80, 0xBF00, 0x3F00, 0x3F80, 0x4000};
      return b[code];
    }
    case Precision::fp8: {  // e4m3: sign | (e + 7) << 3
      const std::uint32_t b[6] = {0xC0, 0xB8, 0xB0, 0x30, 0x38, 0x40};
      return b[code];
    }
    case Precision::int8: break;
  }
  const std::uint32_t b[6] = {0xFD, 0xFE, 0xFF, 0x01, 0x02, 0x03};
  return b[code];
}

// --- what each thread loads (the kernels call these, the tests check them) ------------------------
/// Register `reg` of `lane`'s mma.sync A fragment of warp `unit` (or of -A), elements low to high.
CONVERGE_HD std::uint32_t sync_pack_a(Precision p, std::uint32_t seed, std::uint32_t unit, int lane, int reg,
                                      bool negate) {
  const int bytes = element_bytes(p), per_reg = 4 / bytes;
  std::uint32_t r = 0;
  for (int e = 0; e < per_reg; ++e) {
    const Coord x = sync_a(per_reg, lane, reg * per_reg + e);
    const int code = a_code(seed, unit, x.row, x.col);
    r |= code_bits(p, negate ? 5 - code : code) << (8 * bytes * e);
  }
  return r;
}
/// Register `reg` of `lane`'s mma.sync B fragment of accumulator tile `tile`.
CONVERGE_HD std::uint32_t sync_pack_b(Precision p, std::uint32_t seed, int tile, int lane, int reg) {
  const int bytes = element_bytes(p), per_reg = 4 / bytes;
  std::uint32_t r = 0;
  for (int e = 0; e < per_reg; ++e) {
    const Coord x = sync_b(per_reg, lane, reg * per_reg + e);
    r |= code_bits(p, b_code(seed, tile, x.row, x.col)) << (8 * bytes * e);
  }
  return r;
}
/// Writes one warpgroup's shared-memory operands, elements thread, thread + threads, ...: A and -A
/// (64 x K) and B (stored as N x K), K-major in core matrices; multi-byte values little-endian.
CONVERGE_HD void wgmma_fill(Precision p, std::uint32_t seed, std::uint32_t unit, unsigned char* a, unsigned char* neg_a,
                            unsigned char* b, int thread, int threads) {
  const int bytes = element_bytes(p), k_count = kWgmmaKBytes / bytes;
  for (int e = thread; e < kWgmmaM * k_count; e += threads) {
    const int row = e / k_count, k = e % k_count, code = a_code(seed, unit, row, k);
    const std::uint32_t plus = code_bits(p, code), minus = code_bits(p, 5 - code);
    for (int y = 0; y < bytes; ++y) {
      a[core_matrix_offset(row, k * bytes + y)] = static_cast<unsigned char>(plus >> (8 * y));
      neg_a[core_matrix_offset(row, k * bytes + y)] = static_cast<unsigned char>(minus >> (8 * y));
    }
  }
  for (int e = thread; e < kWgmmaN * k_count; e += threads) {
    const int col = e / k_count, k = e % k_count;
    const std::uint32_t v = code_bits(p, b_code(seed, 0, k, col));
    for (int y = 0; y < bytes; ++y)
      b[core_matrix_offset(col, k * bytes + y)] = static_cast<unsigned char>(v >> (8 * y));
  }
}

// --- work model ---------------------------------------------------------------------------------
/// Instructions per unit and repetition: each loop trip issues +A then -A into every tile, then one
/// closing +A per tile.
inline double instructions_per_unit(int tiles, std::uint64_t iterations) {
  return double(tiles) * (2.0 * double(iterations) + 1);
}
/// FLOPs (int8: OPs) per repetition: 2 M N K per instruction x instructions per unit x units.
inline double mma_work(int m, int n, int k, int tiles, std::uint64_t iterations, std::uint64_t units) {
  return 2.0 * m * n * k * instructions_per_unit(tiles, iterations) * double(units);
}

// --- host reference and check -------------------------------------------------------------------
/// out[((unit * tiles + tile) * m + row) * n + col] after any number of loop trips must equal
/// C0 + A(unit) x B(tile): exactly, in fp32 or s32 (see mma.md for why every sum is exact).
struct Geometry {
  Precision precision;
  std::uint32_t seed;
  std::uint64_t units;
  int tiles, m, n, k;
};

struct CheckResult {
  std::size_t checked = 0, wrong = 0;
  double max_abs_error = 0;
  std::string first;  ///< where the first wrong element is, and got vs expected
};

/// Checks every element; `where(unit, tile, row, col)` names an element's owner (warp, lane, register).
template <typename Acc, typename Where>
CheckResult check_tiles(const Geometry& g, const Acc* out, Where where) {
  CheckResult r;
  std::vector<double> b(std::size_t(g.tiles) * g.k * g.n), a(std::size_t(g.m) * g.k);
  for (int t = 0; t < g.tiles; ++t)
    for (int k = 0; k < g.k; ++k)
      for (int c = 0; c < g.n; ++c)
        b[(std::size_t(t) * g.k + k) * g.n + c] = code_value(g.precision, b_code(g.seed, t, k, c));
  for (std::uint64_t u = 0; u < g.units; ++u) {
    for (int row = 0; row < g.m; ++row)
      for (int k = 0; k < g.k; ++k)
        a[std::size_t(row) * g.k + k] = code_value(g.precision, a_code(g.seed, std::uint32_t(u), row, k));
    for (int t = 0; t < g.tiles; ++t)
      for (int row = 0; row < g.m; ++row)
        for (int col = 0; col < g.n; ++col) {
          double want = c_init_value(g.precision, g.seed, std::uint32_t(u), t, row, col);
          for (int k = 0; k < g.k; ++k)
            want += a[std::size_t(row) * g.k + k] * b[(std::size_t(t) * g.k + k) * g.n + col];
          const double got =
              double(out[((u * g.tiles + std::uint64_t(t)) * g.m + std::uint64_t(row)) * g.n + std::uint64_t(col)]);
          ++r.checked;
          if (got == want) continue;
          const double err = got - want;
          r.max_abs_error = std::max(r.max_abs_error, err == err ? (err < 0 ? -err : err) : 1e300);
          if (r.wrong++ == 0)
            r.first = where(u, t, row, col) + ": got " + std::to_string(got) + ", expected " + std::to_string(want);
        }
  }
  return r;
}

/// Instruction text for notes.
inline std::string sync_instruction(Precision p, int k) {
  const char* types[] = {".f32.f16.f16.f32", ".f32.bf16.bf16.f32", ".s32.s8.s8.s32", ".f32.e4m3.e4m3.f32"};
  return "mma.sync.aligned.m16n8k" + std::to_string(k) + ".row.col" + types[int(p)];
}
inline std::string wgmma_instruction(Precision p) {
  const char* types[] = {"k16.f32.f16.f16", "k16.f32.bf16.bf16", "k32.s32.s8.s8", "k32.f32.e4m3.e4m3"};
  return std::string("wgmma.mma_async.sync.aligned.m64n256") + types[int(p)];
}

/// "9.0" for 90.
inline std::string cc_text(int cc) { return std::to_string(cc / 10) + "." + std::to_string(cc % 10); }

/// Which kernel runs on compute capability `cc` (major * 10 + minor) for the `kernel` parameter
/// (auto, mma.sync, wgmma): wgmma on 9.0 when its sm_90a image loads, else mma.sync; or why not.
struct KernelChoice {
  bool wgmma = false;
  int k = 0;         ///< mma.sync's k
  std::string skip;  ///< non-empty: skip with this reason
  std::string note;  ///< for notes["instruction_note"]
};
inline KernelChoice choose_kernel(Precision p, int cc, const std::string& kernel, bool wgmma_loads,
                                  const std::string& wgmma_why) {
  KernelChoice c;
  if (cc == 90 && kernel != "mma.sync") {
    if (wgmma_loads) return c.wgmma = true, c;
    if (kernel == "wgmma") return c.skip = "the sm_90a wgmma kernel does not load (" + wgmma_why + ")", c;
    c.note = "the sm_90a wgmma kernel does not load (" + wgmma_why +
             "): fell back to mma.sync, which cannot reach Hopper's Tensor Core peak";
  } else if (kernel == "wgmma") {
    return c.skip = "wgmma needs compute capability 9.0 (sm_90a); this device is " + cc_text(cc), c;
  } else if (cc == 90) {
    c.note = "kernel=mma.sync: mma.sync cannot reach Hopper's Tensor Core peak (wgmma can)";
  } else if (cc >= 100) {
    c.note = "compute capability " + cc_text(cc) +
             ": mma.sync (PTX JIT of the newest image) is not this architecture's fastest matrix instruction "
             "(tcgen05, not implemented), so this is not its Tensor Core peak";
  }
  c.k = sync_k(p, cc);
  if (cc * 10 < sync_min_arch(p, c.k))
    c.skip = sync_instruction(p, c.k) + " needs compute capability " + cc_text(sync_min_arch(p, c.k) / 10) +
             " or later; this device is " + cc_text(cc);
  return c;
}

/// Who holds output element (row, col) of tile `tile` of unit `u`: block, warp, lane, register.
/// mma.sync: unit u is warp u % warps_per_block of block u / warps_per_block; wgmma: block u.
inline std::string owner_text(bool wgmma, int warps_per_block, std::uint64_t u, int tile, int row, int col) {
  int thread = 0, reg = 0;
  if (wgmma)
    wgmma_d_owner(row, col, thread, reg);
  else
    sync_c_owner(row, col, thread, reg);
  const std::uint64_t block = wgmma ? u : u / std::uint64_t(warps_per_block);
  const std::uint64_t warp = wgmma ? std::uint64_t(thread / 32) : u % std::uint64_t(warps_per_block);
  return "block " + std::to_string(block) + " warp " + std::to_string(warp) + " lane " + std::to_string(thread % 32) +
         " tile " + std::to_string(tile) + " register " + std::to_string(reg) + " (row " + std::to_string(row) +
         ", col " + std::to_string(col) + ")";
}

/// The verification method, with the argument for tolerance 0.
inline std::string verify_method(Precision p, bool wgmma) {
  const bool i8 = p == Precision::int8;
  return std::string("every element of every accumulator tile of every ") + (wgmma ? "warpgroup" : "warp") +
         " == C0 + A B computed exactly on the host: inputs in " + (i8 ? "{±1, ±2, ±3}" : "{±1/2, ±1, ±2}") +
         ", C0 integers in [-16, 16]" + (i8 ? "" : " halved") + ", K <= 32, so |C0 + A B| <= " + (i8 ? "304" : "136") +
         " in steps of " + (i8 ? "1" : "1/4") +
         ": every product and partial sum is exact, and each +A/-A pair returns exactly to C0 (tolerance 0)";
}

/// SM clock over the kernel: sum of thread 0's clock64 deltas over the sum of its %globaltimer
/// deltas (cycles per ns = GHz), in MHz; 0 when nothing was timed.
inline double measured_mhz(const std::vector<long long>& clk, const std::vector<long long>& ns) {
  double c = 0, t = 0;
  for (std::size_t b = 0; b < clk.size() && b < ns.size(); ++b) c += double(clk[b]), t += double(ns[b]);
  return t > 0 ? 1e3 * c / t : 0;
}

// --- the sm_90a wgmma kernels (mma_wgmma.cu) ------------------------------------------------------
constexpr int kWgmmaThreads = 128;  ///< one warpgroup per block

struct WgmmaKernelInfo {
  bool loadable = false;  ///< an sm_90a image of the kernel is loadable on the current device
  std::string why;        ///< when not: cudaFuncGetAttributes' error
  int blocks_per_sm = 0;  ///< occupancy (cudaOccupancyMaxActiveBlocksPerMultiprocessor)
  int registers = 0;      ///< per thread
};
/// Never throws; clears the (non-sticky) error of a failed lookup.
WgmmaKernelInfo wgmma_kernel_info(Precision p);
/// Launches `blocks` warpgroups on `stream`: each fills A, -A and B in shared memory, runs
/// `iterations` trips of wgmma(+A), wgmma(-A) into one m64n256 accumulator, one closing wgmma(+A),
/// and writes out[(block * 64 + row) * 256 + col]. clk/ns[block]: thread 0's clock64 and
/// %globaltimer deltas; arch[0]: __CUDA_ARCH__ (negative when the image lacks wgmma).
void launch_wgmma(Precision p, int blocks, std::uint32_t seed, std::uint32_t iterations, void* out, long long* clk,
                  long long* ns, int* arch, cudaStream_t stream);

}  // namespace converge::micro::cuda::mma
