// micro.gpu_mma without a device: the fragment and accumulator layouts against the PTX ISA's
// formulas and figures, the wgmma shared-memory layout and descriptor against CUTLASS's canonical
// K-major no-swizzle layout, the input encodings against independent decoders, the work model,
// and the check: host emulations of both kernels (registers and shared memory filled by the same
// functions the kernels call, the instructions applied by their PTX definitions) pass, and
// emulated faults (a wrong element, swapped lanes, a dropped -A or closing +A, an unwritten
// output) fail with the element named.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "micro/cuda/mma_kernels.hpp"

namespace converge::micro::cuda::mma {
namespace {

constexpr Precision kAll[] = {Precision::fp16, Precision::bf16, Precision::int8, Precision::fp8};

// m16n8kK as the PTX ISA prints it (9.7.14.5, "Matrix Fragments for mma.m16n8k8 / m16n8k16 with
// floating point type / m16n8k32"), piecewise, g = %laneid >> 2, t = %laneid % 4.
struct SyncShape {
  int k, per_reg, a_elems, b_elems;
};
constexpr SyncShape kK8{8, 2, 4, 2}, kK16{16, 2, 8, 4}, kK32{32, 4, 16, 8};

Coord ptx_a(const SyncShape& s, int lane, int i) {
  const int g = lane >> 2, t = lane % 4;
  if (s.k == 8) return {i < 2 ? g : g + 8, t * 2 + (i & 1)};
  if (s.k == 16) return {(i < 2 || (4 <= i && i < 6)) ? g : g + 8, t * 2 + (i & 1) + (i >= 4 ? 8 : 0)};
  return {(i < 4 || (8 <= i && i < 12)) ? g : g + 8, t * 4 + (i & 3) + (i >= 8 ? 16 : 0)};
}
Coord ptx_b(const SyncShape& s, int lane, int i) {  // (row = k, col = n)
  const int g = lane >> 2, t = lane % 4;
  if (s.k == 8) return {t * 2 + i, g};
  if (s.k == 16) return {t * 2 + (i & 1) + (i >= 2 ? 8 : 0), g};
  return {t * 4 + (i & 3) + (i >= 4 ? 16 : 0), g};
}
Coord ptx_c(int lane, int i) { return {i < 2 ? lane >> 2 : (lane >> 2) + 8, (lane % 4) * 2 + (i & 1)}; }

bool operator==(Coord a, Coord b) { return a.row == b.row && a.col == b.col; }

TEST(GpuMma, SyncFragmentsAreThePtxFormulas) {
  for (const SyncShape& s : {kK8, kK16, kK32})
    for (int lane = 0; lane < 32; ++lane) {
      for (int i = 0; i < s.a_elems; ++i)
        EXPECT_TRUE(sync_a(s.per_reg, lane, i) == ptx_a(s, lane, i)) << s.k << " " << lane << " " << i;
      for (int i = 0; i < s.b_elems; ++i)
        EXPECT_TRUE(sync_b(s.per_reg, lane, i) == ptx_b(s, lane, i)) << s.k << " " << lane << " " << i;
      for (int i = 0; i < 4; ++i) EXPECT_TRUE(sync_c(lane, i) == ptx_c(lane, i));
    }
}

// Points read off the PTX ISA's figures (m16n8k16 A/B/C "T0: {a0, a1}" ..., m16n8k32 A).
TEST(GpuMma, SyncFragmentsMatchTheFigures) {
  EXPECT_TRUE(sync_a(2, 0, 0) == (Coord{0, 0}) && sync_a(2, 0, 1) == (Coord{0, 1}));
  EXPECT_TRUE(sync_a(2, 0, 2) == (Coord{8, 0}) && sync_a(2, 0, 4) == (Coord{0, 8}) && sync_a(2, 0, 7) == (Coord{8, 9}));
  EXPECT_TRUE(sync_a(2, 5, 0) == (Coord{1, 2}));      // T5: g 1, t 1
  EXPECT_TRUE(sync_a(2, 31, 7) == (Coord{15, 15}));   // T31: last element of A
  EXPECT_TRUE(sync_b(2, 31, 3) == (Coord{15, 7}));    // k 15, n 7
  EXPECT_TRUE(sync_a(4, 31, 15) == (Coord{15, 31}));  // m16n8k32 A
  EXPECT_TRUE(sync_b(4, 1, 4) == (Coord{20, 0}));     // m16n8k32 B: t 1 -> k 4 + 16
  EXPECT_TRUE(sync_c(0, 2) == (Coord{8, 0}) && sync_c(31, 3) == (Coord{15, 7}));
}

// Across the warp every element of each tile is held exactly once.
TEST(GpuMma, SyncFragmentsCoverEachTileOnce) {
  for (const SyncShape& s : {kK8, kK16, kK32}) {
    std::set<std::pair<int, int>> a, b, c;
    for (int lane = 0; lane < 32; ++lane) {
      for (int i = 0; i < s.a_elems; ++i) a.insert({sync_a(s.per_reg, lane, i).row, sync_a(s.per_reg, lane, i).col});
      for (int i = 0; i < s.b_elems; ++i) b.insert({sync_b(s.per_reg, lane, i).row, sync_b(s.per_reg, lane, i).col});
      for (int i = 0; i < 4; ++i) c.insert({sync_c(lane, i).row, sync_c(lane, i).col});
    }
    EXPECT_EQ(a.size(), std::size_t(16 * s.k));
    EXPECT_EQ(b.size(), std::size_t(s.k * 8));
    EXPECT_EQ(c.size(), 128u);
    for (auto [r, col] : a) EXPECT_TRUE(r < 16 && col < s.k);
    for (auto [r, col] : b) EXPECT_TRUE(r < s.k && col < 8);
  }
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      int l = -1, r = -1;
      sync_c_owner(sync_c(lane, i).row, sync_c(lane, i).col, l, r);
      EXPECT_EQ(l, lane);
      EXPECT_EQ(r, i);
    }
}

TEST(GpuMma, InstructionChoiceAndArchitecture) {
  EXPECT_EQ(sync_k(Precision::fp16, 75), 8);
  EXPECT_EQ(sync_min_arch(Precision::fp16, 8), 750);
  EXPECT_EQ(sync_k(Precision::fp16, 80), 16);
  EXPECT_EQ(sync_min_arch(Precision::fp16, 16), 800);
  EXPECT_EQ(sync_k(Precision::bf16, 75), 16);  // no Turing bf16: setup skips on 750 < 800
  EXPECT_EQ(sync_min_arch(Precision::bf16, 16), 800);
  EXPECT_EQ(sync_k(Precision::int8, 90), 32);
  EXPECT_EQ(sync_min_arch(Precision::int8, 32), 800);
  EXPECT_EQ(sync_min_arch(Precision::fp8, 32), 890);
  EXPECT_EQ(sync_instruction(Precision::fp16, 16), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32");
  EXPECT_EQ(sync_instruction(Precision::fp16, 8), "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32");
  EXPECT_EQ(sync_instruction(Precision::int8, 32), "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32");
  EXPECT_EQ(sync_instruction(Precision::fp8, 32), "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32");
  EXPECT_EQ(wgmma_instruction(Precision::fp16), "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16");
  EXPECT_EQ(wgmma_instruction(Precision::bf16), "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16");
  EXPECT_EQ(wgmma_instruction(Precision::int8), "wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8");
  EXPECT_EQ(wgmma_instruction(Precision::fp8), "wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e4m3");
}

TEST(GpuMma, KernelChoicePerArchitecture) {
  const std::string no_image = "cudaErrorNoKernelImageForDevice: no kernel image is available";
  auto c = choose_kernel(Precision::fp16, 75, "auto", false, "");
  EXPECT_TRUE(!c.wgmma && c.k == 8 && c.skip.empty() && c.note.empty());
  c = choose_kernel(Precision::bf16, 75, "auto", false, "");
  EXPECT_EQ(c.skip, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 needs compute capability 8.0 or later; "
                    "this device is 7.5");
  EXPECT_NE(choose_kernel(Precision::int8, 75, "auto", false, "").skip.find("m16n8k32"), std::string::npos);
  EXPECT_NE(choose_kernel(Precision::fp8, 86, "auto", false, "").skip.find("needs compute capability 8.9"),
            std::string::npos);
  c = choose_kernel(Precision::fp8, 89, "auto", false, "");
  EXPECT_TRUE(!c.wgmma && c.k == 32 && c.skip.empty());
  c = choose_kernel(Precision::int8, 80, "auto", false, "");
  EXPECT_TRUE(!c.wgmma && c.k == 32 && c.skip.empty() && c.note.empty());
  // Hopper: wgmma when its image loads; mma.sync with a note when it does not or when asked.
  c = choose_kernel(Precision::fp16, 90, "auto", true, "");
  EXPECT_TRUE(c.wgmma && c.skip.empty() && c.note.empty());
  c = choose_kernel(Precision::bf16, 90, "auto", false, no_image);
  EXPECT_TRUE(!c.wgmma && c.k == 16 && c.skip.empty());
  EXPECT_NE(c.note.find("fell back to mma.sync"), std::string::npos);
  EXPECT_NE(c.note.find(no_image), std::string::npos);
  EXPECT_NE(choose_kernel(Precision::fp8, 90, "wgmma", false, no_image).skip.find(no_image), std::string::npos);
  c = choose_kernel(Precision::fp8, 90, "mma.sync", true, "");
  EXPECT_TRUE(!c.wgmma && c.k == 32 && c.skip.empty() && !c.note.empty());
  EXPECT_EQ(choose_kernel(Precision::fp16, 80, "wgmma", false, "").skip,
            "wgmma needs compute capability 9.0 (sm_90a); this device is 8.0");
  // Blackwell and later: mma.sync, said not to be the peak.
  for (int cc : {100, 120}) {
    c = choose_kernel(Precision::fp16, cc, "auto", false, "");
    EXPECT_TRUE(!c.wgmma && c.k == 16 && c.skip.empty());
    EXPECT_NE(c.note.find("tcgen05"), std::string::npos);
  }
}

TEST(GpuMma, FailureNamesTheOwnerAndClockArithmetic) {
  // mma.sync: unit 19 = block 2 warp 3; (row 9, col 5) is c3 of lane 6 (g 1, t 2).
  EXPECT_EQ(owner_text(false, 8, 19, 3, 9, 5), "block 2 warp 3 lane 6 tile 3 register 3 (row 9, col 5)");
  EXPECT_TRUE(sync_c(6, 3) == (Coord{9, 5}));
  // wgmma: (row 40, col 200) is d102 of thread 64 (warp 2, lane 0).
  EXPECT_EQ(owner_text(true, 8, 7, 0, 40, 200), "block 7 warp 2 lane 0 tile 0 register 102 (row 40, col 200)");
  EXPECT_TRUE(wgmma_d(64, 102) == (Coord{40, 200}));
  EXPECT_EQ(measured_mhz({1000, 3000}, {1000, 1000}), 2000.0);
  EXPECT_EQ(measured_mhz({}, {}), 0.0);
  EXPECT_NE(verify_method(Precision::fp16, true).find("warpgroup"), std::string::npos);
  EXPECT_NE(verify_method(Precision::int8, false).find("{±1, ±2, ±3}"), std::string::npos);
  EXPECT_NE(verify_method(Precision::bf16, false).find("tolerance 0"), std::string::npos);
}

// wgmma D (CUTLASS CLayout_64xN, the PTX ISA's m64nNk16 D figure): points, coverage, inverse.
TEST(GpuMma, WgmmaAccumulatorLayout) {
  EXPECT_TRUE(wgmma_d(0, 0) == (Coord{0, 0}) && wgmma_d(0, 1) == (Coord{0, 1}) && wgmma_d(0, 2) == (Coord{8, 0}));
  EXPECT_TRUE(wgmma_d(0, 3) == (Coord{8, 1}) && wgmma_d(0, 4) == (Coord{0, 8}));
  EXPECT_TRUE(wgmma_d(1, 0) == (Coord{0, 2}) && wgmma_d(4, 0) == (Coord{1, 0}));
  EXPECT_TRUE(wgmma_d(32, 0) == (Coord{16, 0}) && wgmma_d(127, 127) == (Coord{63, 255}));
  std::set<std::pair<int, int>> seen;
  for (int t = 0; t < 128; ++t)
    for (int i = 0; i < 128; ++i) {
      const Coord c = wgmma_d(t, i);
      ASSERT_TRUE(c.row >= 0 && c.row < 64 && c.col >= 0 && c.col < 256);
      seen.insert({c.row, c.col});
      int tt = -1, ii = -1;
      wgmma_d_owner(c.row, c.col, tt, ii);
      EXPECT_EQ(tt, t);
      EXPECT_EQ(ii, i);
    }
  EXPECT_EQ(seen.size(), std::size_t(64 * 256));
}

// CUTLASS (cute/atom/mma_traits_sm90_gmma.hpp) K-major INTERLEAVE: ((8,m),(T,2)):((1T,SBO),(1,LBO)),
// T = 16 bytes: byte of (row, kbyte) = (row % 8) 16 + (row / 8) SBO + (kbyte / 16) LBO + kbyte % 16.
unsigned canonical_offset(int row, int kbyte, unsigned lbo, unsigned sbo) {
  return unsigned(row % 8) * 16 + unsigned(row / 8) * sbo + unsigned(kbyte / 16) * lbo + unsigned(kbyte % 16);
}

TEST(GpuMma, WgmmaSharedLayoutIsCanonicalAndDense) {
  for (int rows : {kWgmmaM, kWgmmaN}) {
    std::vector<int> hits(std::size_t(rows) * kWgmmaKBytes, 0);
    for (int r = 0; r < rows; ++r)
      for (int kb = 0; kb < kWgmmaKBytes; ++kb) {
        const unsigned o = core_matrix_offset(r, kb);
        EXPECT_EQ(o, canonical_offset(r, kb, kLeadingByteOffset, kStrideByteOffset));
        ASSERT_LT(o, hits.size());
        ++hits[o];
      }
    for (int h : hits) EXPECT_EQ(h, 1);
  }
  EXPECT_EQ(core_matrix_offset(0, 16), 128u);  // the K-adjacent core matrix: LBO
  EXPECT_EQ(core_matrix_offset(8, 0), 256u);   // the next 8 rows: SBO
  EXPECT_EQ(core_matrix_offset(1, 0), 16u);    // a core matrix row is 16 contiguous bytes
}

TEST(GpuMma, WgmmaDescriptorBits) {
  const std::uint64_t d = wgmma_descriptor(0x1230, 128, 256);
  EXPECT_EQ(d & 0x3FFF, 0x123u);       // start address >> 4, bits 0-13
  EXPECT_EQ((d >> 16) & 0x3FFF, 8u);   // LBO >> 4, bits 16-29
  EXPECT_EQ((d >> 32) & 0x3FFF, 16u);  // SBO >> 4, bits 32-45
  EXPECT_EQ((d >> 49) & 7, 0u);        // base offset
  EXPECT_EQ(d >> 62, 0u);              // swizzle: none
  EXPECT_EQ(d, 0x123ull | 8ull << 16 | 16ull << 32);
  EXPECT_EQ(wgmma_descriptor(0x3FFF0, 0, 0), 0x3FFFull);  // the top of 256 KiB of shared memory
}

// Independent decoders of the input formats.
double decode(Precision p, std::uint32_t bits) {
  switch (p) {
    case Precision::fp16: {
      const std::uint16_t h = std::uint16_t(bits);
      _Float16 f;
      std::memcpy(&f, &h, 2);
      return double(f);
    }
    case Precision::bf16: {
      const std::uint32_t u = bits << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    case Precision::fp8: {  // e4m3: bias 7, no infinities
      const int e = int(bits >> 3) & 15, m = int(bits & 7);
      const double mag = e == 0 ? m / 512.0 : (1 + m / 8.0) * std::ldexp(1.0, e - 7);
      return (bits & 0x80) ? -mag : mag;
    }
    case Precision::int8: break;
  }
  return double(std::int8_t(std::uint8_t(bits)));
}

TEST(GpuMma, InputCodesDecodeToTheirValuesAndNegate) {
  for (Precision p : kAll)
    for (int c = 0; c < 6; ++c) {
      EXPECT_EQ(decode(p, code_bits(p, c)), code_value(p, c)) << int(p) << " " << c;
      EXPECT_EQ(code_value(p, 5 - c), -code_value(p, c));
      EXPECT_NE(code_value(p, c), 0.0);
      EXPECT_EQ(code_bits(p, c) >> (8 * element_bytes(p)), 0u);
    }
}

TEST(GpuMma, PatternsVaryAndStayInRange) {
  std::set<int> codes, inits;
  int differ = 0;
  for (int r = 0; r < 16; ++r)
    for (int k = 0; k < 16; ++k) {
      codes.insert(a_code(42, 0, r, k));
      differ += a_code(42, 0, r, k) != a_code(42, 1, r, k);
      differ += b_code(42, 0, k, r) != b_code(42, 1, k, r);
      inits.insert(c_init(42, 3, 2, r, k));
    }
  EXPECT_EQ(codes.size(), 6u);
  EXPECT_GT(differ, 300);  // units and tiles get different inputs
  EXPECT_GE(*inits.begin(), -16);
  EXPECT_LE(*inits.rbegin(), 16);
  EXPECT_GT(inits.size(), 20u);
}

TEST(GpuMma, WorkModel) {
  EXPECT_EQ(instructions_per_unit(8, 10), 8.0 * 21);
  EXPECT_EQ(mma_work(16, 8, 16, 8, 10, 4), 2.0 * 16 * 8 * 16 * 8 * 21 * 4);
  EXPECT_EQ(mma_work(64, 256, 16, 1, 1000, 396), 2.0 * 64 * 256 * 16 * 2001 * 396);
  EXPECT_EQ(mma_work(16, 8, 32, 8, 0, 1), 2.0 * 16 * 8 * 32 * 8);  // only the closing +A
}

// --- the kernels, emulated on the host ---------------------------------------------------------------
enum class Fault { none, no_negation, no_closing };

template <typename Acc>
void sync_warp(Precision p, const SyncShape& s, std::uint32_t seed, std::uint32_t unit, int tiles, int iterations,
               Fault fault, Acc* out) {
  const int bytes = element_bytes(p), ra = s.a_elems / s.per_reg, rb = s.b_elems / s.per_reg;
  const std::uint32_t mask = bytes == 2 ? 0xFFFF : 0xFF;
  std::uint32_t a[32][4] = {}, na[32][4] = {}, b[8][32][2] = {};
  Acc c[8][32][4];
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < ra; ++r)
      a[lane][r] = sync_pack_a(p, seed, unit, lane, r, false), na[lane][r] = sync_pack_a(p, seed, unit, lane, r, true);
    for (int j = 0; j < tiles; ++j) {
      for (int r = 0; r < rb; ++r) b[j][lane][r] = sync_pack_b(p, seed, j, lane, r);
      for (int i = 0; i < 4; ++i)
        c[j][lane][i] = Acc(c_init_value(p, seed, unit, j, sync_c(lane, i).row, sync_c(lane, i).col));
    }
  }
  const auto element = [&](std::uint32_t reg, int i) {
    return decode(p, (reg >> (8 * bytes * (i % s.per_reg))) & mask);
  };
  const auto mma = [&](Acc(&cc)[32][4], std::uint32_t(&aa)[32][4], std::uint32_t(&bb)[32][2]) {
    double A[16][32] = {}, B[32][8] = {}, C[16][8] = {};
    for (int lane = 0; lane < 32; ++lane) {
      for (int i = 0; i < s.a_elems; ++i)
        A[ptx_a(s, lane, i).row][ptx_a(s, lane, i).col] = element(aa[lane][i / s.per_reg], i);
      for (int i = 0; i < s.b_elems; ++i)
        B[ptx_b(s, lane, i).row][ptx_b(s, lane, i).col] = element(bb[lane][i / s.per_reg], i);
      for (int i = 0; i < 4; ++i) C[ptx_c(lane, i).row][ptx_c(lane, i).col] = double(cc[lane][i]);
    }
    for (int lane = 0; lane < 32; ++lane)
      for (int i = 0; i < 4; ++i) {
        const Coord z = ptx_c(lane, i);
        double d = C[z.row][z.col];
        for (int k = 0; k < s.k; ++k) d += A[z.row][k] * B[k][z.col];
        cc[lane][i] = Acc(d);
      }
  };
  for (int it = 0; it < iterations; ++it) {
    for (int j = 0; j < tiles; ++j) mma(c[j], a, b[j]);
    for (int j = 0; j < tiles; ++j) mma(c[j], fault == Fault::no_negation ? a : na, b[j]);
  }
  if (fault != Fault::no_closing)
    for (int j = 0; j < tiles; ++j) mma(c[j], a, b[j]);
  for (int j = 0; j < tiles; ++j)
    for (int lane = 0; lane < 32; ++lane)
      for (int i = 0; i < 4; ++i)
        out[((std::size_t(unit) * tiles + j) * 16 + sync_c(lane, i).row) * 8 + sync_c(lane, i).col] = c[j][lane][i];
}

std::string where(std::uint64_t u, int t, int row, int col) {
  return "unit " + std::to_string(u) + " tile " + std::to_string(t) + " (row " + std::to_string(row) + ", col " +
         std::to_string(col) + ")";
}

template <typename Acc>
void check_sync(Precision p, const SyncShape& s) {
  SCOPED_TRACE("precision " + std::to_string(int(p)) + " k " + std::to_string(s.k));
  const Geometry g{p, 7, 3, 8, 16, 8, s.k};
  std::vector<Acc> out(g.units * g.tiles * 16 * 8);
  for (std::uint32_t u = 0; u < g.units; ++u) sync_warp(p, s, g.seed, u, g.tiles, 3, Fault::none, out.data());
  CheckResult r = check_tiles(g, out.data(), where);
  EXPECT_EQ(r.wrong, 0u) << r.first;
  EXPECT_EQ(r.checked, out.size());

  auto bad = out;
  bad[(std::size_t(2) * 8 + 5) * 128 + 9 * 8 + 3] += Acc(1);  // unit 2, tile 5, row 9, col 3
  r = check_tiles(g, bad.data(), where);
  EXPECT_EQ(r.wrong, 1u);
  EXPECT_NE(r.first.find("unit 2 tile 5 (row 9, col 3): got"), std::string::npos) << r.first;
  EXPECT_EQ(r.max_abs_error, 1.0);

  bad = out;  // two lanes' registers exchanged: lane 0 holds (0, 0..1), lane 1 (0, 2..3)
  std::swap(bad[0], bad[2]), std::swap(bad[1], bad[3]);
  EXPECT_GT(check_tiles(g, bad.data(), where).wrong, 0u);

  for (Fault f : {Fault::no_negation, Fault::no_closing}) {
    std::vector<Acc> faulty(out.size());
    for (std::uint32_t u = 0; u < g.units; ++u) sync_warp(p, s, g.seed, u, g.tiles, 2, f, faulty.data());
    EXPECT_GT(check_tiles(g, faulty.data(), where).wrong, out.size() / 2) << int(f);
  }

  std::vector<Acc> unwritten(out.size());
  std::memset(unwritten.data(), 0x7F, unwritten.size() * sizeof(Acc));  // what setup() leaves before run()
  EXPECT_EQ(check_tiles(g, unwritten.data(), where).wrong, out.size());
}

TEST(GpuMma, SyncEmulationPassesAndFaultsFail) {
  check_sync<float>(Precision::fp16, kK8);
  check_sync<float>(Precision::fp16, kK16);
  check_sync<float>(Precision::bf16, kK16);
  check_sync<int>(Precision::int8, kK32);
  check_sync<float>(Precision::fp8, kK32);
}

// The wgmma kernel: shared memory filled by 128 "threads" through wgmma_fill, each operand read
// back the way the hardware interprets the descriptor (fields decoded, canonical K-major layout).
template <typename Acc>
void wgmma_warpgroup(Precision p, std::uint32_t seed, std::uint32_t unit, int iterations, Fault fault, Acc* out) {
  std::vector<unsigned char> smem(16384, 0xEE);  // A at 0x400, -A at 0x1400, B at 0x2000
  for (int t = 0; t < kWgmmaThreads; ++t)
    wgmma_fill(p, seed, unit, &smem[0x400], &smem[0x1400], &smem[0x2000], t, kWgmmaThreads);
  const std::uint64_t da = wgmma_descriptor(0x400, kLeadingByteOffset, kStrideByteOffset);
  const std::uint64_t dna = wgmma_descriptor(0x1400, kLeadingByteOffset, kStrideByteOffset);
  const std::uint64_t db = wgmma_descriptor(0x2000, kLeadingByteOffset, kStrideByteOffset);
  const int bytes = element_bytes(p), K = kWgmmaKBytes / bytes;
  const auto read = [&](std::uint64_t desc, int row, int k) {
    EXPECT_EQ(desc >> 62, 0u);
    const unsigned start = unsigned(desc & 0x3FFF) << 4, lbo = unsigned((desc >> 16) & 0x3FFF) << 4,
                   sbo = unsigned((desc >> 32) & 0x3FFF) << 4;
    std::uint32_t bits = 0;
    for (int y = 0; y < bytes; ++y)
      bits |= std::uint32_t(smem[start + canonical_offset(row, k * bytes + y, lbo, sbo)]) << (8 * y);
    return decode(p, bits);
  };
  std::vector<Acc> d(128 * 128);
  for (int t = 0; t < 128; ++t)
    for (int i = 0; i < 128; ++i)
      d[t * 128 + i] = Acc(c_init_value(p, seed, unit, 0, wgmma_d(t, i).row, wgmma_d(t, i).col));
  std::vector<double> B(std::size_t(K) * kWgmmaN);
  for (int n = 0; n < kWgmmaN; ++n)
    for (int k = 0; k < K; ++k) B[k * kWgmmaN + n] = read(db, n, k);  // B stored N x K
  const auto wgmma = [&](std::uint64_t a_desc) {
    std::vector<double> A(std::size_t(kWgmmaM) * K);
    for (int m = 0; m < kWgmmaM; ++m)
      for (int k = 0; k < K; ++k) A[m * K + k] = read(a_desc, m, k);
    for (int t = 0; t < 128; ++t)
      for (int i = 0; i < 128; ++i) {
        const Coord z = wgmma_d(t, i);
        double v = double(d[t * 128 + i]);
        for (int k = 0; k < K; ++k) v += A[z.row * K + k] * B[k * kWgmmaN + z.col];
        d[t * 128 + i] = Acc(v);
      }
  };
  for (int it = 0; it < iterations; ++it) wgmma(da), wgmma(fault == Fault::no_negation ? da : dna);
  if (fault != Fault::no_closing) wgmma(da);
  for (int t = 0; t < 128; ++t)
    for (int i = 0; i < 128; ++i)
      out[(std::size_t(unit) * kWgmmaM + wgmma_d(t, i).row) * kWgmmaN + wgmma_d(t, i).col] = d[t * 128 + i];
}

template <typename Acc>
void check_wgmma(Precision p) {
  SCOPED_TRACE("precision " + std::to_string(int(p)));
  const Geometry g{p, 11, 2, 1, kWgmmaM, kWgmmaN, kWgmmaKBytes / element_bytes(p)};
  std::vector<Acc> out(g.units * kWgmmaM * kWgmmaN);
  for (std::uint32_t u = 0; u < g.units; ++u) wgmma_warpgroup(p, g.seed, u, 1, Fault::none, out.data());
  CheckResult r = check_tiles(g, out.data(), where);
  EXPECT_EQ(r.wrong, 0u) << r.first;
  EXPECT_EQ(r.checked, out.size());

  auto bad = out;
  bad[(std::size_t(1) * kWgmmaM + 40) * kWgmmaN + 200] += Acc(2);
  r = check_tiles(g, bad.data(), where);
  EXPECT_EQ(r.wrong, 1u);
  EXPECT_NE(r.first.find("unit 1 tile 0 (row 40, col 200)"), std::string::npos) << r.first;

  std::vector<Acc> faulty(out.size());
  for (std::uint32_t u = 0; u < g.units; ++u) wgmma_warpgroup(p, g.seed, u, 1, Fault::no_closing, faulty.data());
  EXPECT_GT(check_tiles(g, faulty.data(), where).wrong, out.size() / 2);
}

TEST(GpuMma, WgmmaEmulationPassesAndFaultsFail) {
  check_wgmma<float>(Precision::fp16);
  check_wgmma<float>(Precision::bf16);
  check_wgmma<int>(Precision::int8);
  check_wgmma<float>(Precision::fp8);
}

// The exactness argument of verify(): every |C0 + A B| <= 136 (int8: 304) in steps of 1/4 (int8: 1).
TEST(GpuMma, ReferenceValuesAreSmallDyadics) {
  for (Precision p : kAll) {
    const int k = p == Precision::int8 || p == Precision::fp8 ? 32 : 16;
    for (std::uint32_t u = 0; u < 4; ++u)
      for (int row = 0; row < 16; ++row)
        for (int col = 0; col < 8; ++col) {
          double v = c_init_value(p, 5, u, 1, row, col);
          for (int kk = 0; kk < k; ++kk)
            v += code_value(p, a_code(5, u, row, kk)) * code_value(p, b_code(5, 1, kk, col));
          EXPECT_LE(std::fabs(v), p == Precision::int8 ? 304 : 136);
          EXPECT_EQ(v * 4, std::floor(v * 4));
        }
  }
}

}  // namespace
}  // namespace converge::micro::cuda::mma
