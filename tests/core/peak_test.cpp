// The peak model as a pure function of a hand-made inventory, and the microarchitecture guess.
#include <gtest/gtest.h>

#include "core/cpu_features.hpp"
#include "core/inventory.hpp"
#include "core/peak.hpp"

namespace converge::core {
namespace {

const std::vector<std::string> kAvx2 = {"sse2", "avx", "fma", "avx2"};
const std::vector<std::string> kAvx512 = {"sse2",     "avx",      "fma",      "avx2",
                                          "avx512f",  "avx512dq", "avx512bw", "avx512vl",
                                          "avx512_vnni"};

Inventory cpu(std::string vendor, int family, int model, std::string uarch, int cores,
              double nominal_ghz, std::vector<std::string> isa, std::string name = "") {
  Inventory inv;
  inv.cpu.vendor = std::move(vendor);
  inv.cpu.family = family;
  inv.cpu.model = model;
  inv.cpu.microarchitecture = std::move(uarch);
  inv.cpu.cores = cores;
  inv.cpu.threads = cores;
  inv.cpu.nominal_ghz = nominal_ghz;
  inv.cpu.frequency_source = "nominal: /proc/cpuinfo cpu MHz";
  inv.cpu.isa = std::move(isa);
  inv.cpu.model_name = std::move(name);
  return inv;
}

Inventory zen3() { return cpu("AuthenticAMD", 25, 1, "zen3", 2, 2.445, kAvx2, "AMD EPYC"); }

double value(const PeakModel& m, const std::string& id) {
  const auto p = m.get(id);
  EXPECT_TRUE(p.has_value()) << id;
  return p ? p->value : 0;
}

TEST(PeakModel, Zen3TwoCoresAt2445MHz) {
  const PeakModel m = PeakModel::from_inventory(zen3());
  // 2 cores x 2.445 GHz x 2 FMA units x 4 fp64 lanes x 2 FLOP
  EXPECT_NEAR(value(m, "cpu.fp64"), 78.24e9, 1e3);
  EXPECT_NEAR(value(m, "cpu.fp32"), 2 * 78.24e9, 1e3);
  EXPECT_NEAR(value(m, "cpu.fp64.core"), 39.12e9, 1e3);
  EXPECT_NEAR(value(m, "cpu.fp32.core"), 78.24e9, 1e3);
  const Peak p = *m.get("cpu.fp64");
  EXPECT_EQ(p.unit, "FLOP/s");
  EXPECT_EQ(p.source, "model");
  EXPECT_NE(p.assumptions.find("2 cores × 2.445 GHz × 2 FMA units × 4 fp64 lanes (256-bit)"),
            std::string::npos)
      << p.assumptions;
  EXPECT_NE(p.assumptions.find("zen3"), std::string::npos);
  EXPECT_NE(p.assumptions.find("/proc/cpuinfo"), std::string::npos);
  EXPECT_FALSE(m.get("cpu.fp16"));
  EXPECT_FALSE(m.get("cpu.bf16"));
  EXPECT_FALSE(m.get("cpu.mem_bw")) << "no CPU bandwidth peak from the model";
}

TEST(PeakModel, MaxClockWinsOverNominal) {
  Inventory inv = zen3();
  inv.cpu.max_ghz = 3.5;
  const PeakModel m = PeakModel::from_inventory(inv);
  EXPECT_NEAR(value(m, "cpu.fp64"), 2 * 3.5e9 * 2 * 4 * 2, 1e3);
  EXPECT_NE(m.get("cpu.fp64")->assumptions.find("clock: max"), std::string::npos);
}

TEST(PeakModel, NoClockOrNoCoresMeansNoPeak) {
  Inventory inv = zen3();
  inv.cpu.nominal_ghz = 0;
  EXPECT_TRUE(PeakModel::from_inventory(inv).all().empty());
  inv = zen3();
  inv.cpu.cores = 0;
  EXPECT_TRUE(PeakModel::from_inventory(inv).all().empty());
}

TEST(PeakModel, AvxXeonWithTwoFmaUnits) {
  // Ice Lake-SP, 2 sockets x 40 cores: 80 x 2.3 GHz x 2 units x 8 lanes x 2 = 5.888 TFLOP/s.
  const Inventory inv = cpu("GenuineIntel", 6, 0x6A, "icelakex", 80, 2.3, kAvx512,
                            "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz");
  const PeakModel m = PeakModel::from_inventory(inv);
  EXPECT_NEAR(value(m, "cpu.fp64"), 5.888e12, 1e4);
  EXPECT_NEAR(value(m, "cpu.fp32.core"), 2.3e9 * 2 * 16 * 2, 1e3);
  EXPECT_FALSE(m.get("cpu.fp16")) << "no fp16 peak without avx512_fp16";
  EXPECT_FALSE(m.get("cpu.bf16")) << "no bf16 peak without avx512_bf16";
}

TEST(PeakModel, XeonSilverHasOneAvx512Unit) {
  const Inventory inv = cpu("GenuineIntel", 6, 0x55, "cascadelake", 1, 2.2, kAvx512,
                            "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz");
  EXPECT_NEAR(value(PeakModel::from_inventory(inv), "cpu.fp64"), 2.2e9 * 1 * 8 * 2, 1e3);
}

TEST(PeakModel, Fp16AndBf16OnlyWithTheirExtensions) {
  std::vector<std::string> isa = kAvx512;
  isa.insert(isa.end(), {"avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"});
  const Inventory spr = cpu("GenuineIntel", 6, 0x8F, "sapphirerapids", 1, 2.0, isa);
  const PeakModel m = PeakModel::from_inventory(spr);
  const double fp32 = value(m, "cpu.fp32");
  EXPECT_NEAR(fp32, 2.0e9 * 2 * 16 * 2, 1e3);
  EXPECT_NEAR(value(m, "cpu.fp16"), 2 * fp32, 1e3);  // 32 fp16 lanes per 512-bit op
  EXPECT_NEAR(value(m, "cpu.bf16"), 2 * fp32, 1e3);  // vdpbf16ps: 2 products per fp32 lane
  EXPECT_TRUE(m.get("cpu.fp16.core"));
  EXPECT_NE(m.get("cpu.bf16")->assumptions.find("AMX"), std::string::npos);

  // Zen4: BF16 but no FP16, AVX-512 on 256-bit halves.
  isa = kAvx512;
  isa.push_back("avx512_bf16");
  const PeakModel z4 =
      PeakModel::from_inventory(cpu("AuthenticAMD", 25, 0x11, "zen4", 1, 2.0, isa));
  EXPECT_NEAR(value(z4, "cpu.fp64"), 2.0e9 * 2 * 4 * 2, 1e3);
  EXPECT_TRUE(z4.get("cpu.bf16"));
  EXPECT_FALSE(z4.get("cpu.fp16"));
}

TEST(PeakModel, MaskedAvx512FallsBackTo256Bit) {
  // A Skylake-SP guest whose hypervisor hides AVX-512: code cannot use the 512-bit pipes.
  const Inventory inv = cpu("GenuineIntel", 6, 0x55, "skylakex", 1, 2.0, kAvx2,
                            "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz");
  const PeakModel m = PeakModel::from_inventory(inv);
  EXPECT_NEAR(value(m, "cpu.fp64"), 2.0e9 * 2 * 4 * 2, 1e3);
  EXPECT_NE(m.get("cpu.fp64")->assumptions.find("not usable"), std::string::npos);
}

TEST(PeakModel, UnknownCpuUsesTheIsa) {
  const PeakModel avx2 = PeakModel::from_inventory(cpu("Vendor", 1, 1, "", 1, 1.0, kAvx2));
  EXPECT_NEAR(value(avx2, "cpu.fp64"), 1e9 * 2 * 4 * 2, 1);
  const PeakModel sse = PeakModel::from_inventory(cpu("Vendor", 1, 1, "", 1, 1.0, {"sse2"}));
  EXPECT_NEAR(value(sse, "cpu.fp64"), 1e9 * 2 * 2 * 1, 1);  // 1 mul + 1 add, 2 lanes
  EXPECT_NE(sse.get("cpu.fp64")->assumptions.find("1 mul + 1 add"), std::string::npos);
}

TEST(PeakModel, OverridesComeFromConfig) {
  PeakModel m = PeakModel::from_inventory(zen3());
  m.apply_override("cpu.fp64", 1.5e12);
  const Peak p = *m.get("cpu.fp64");
  EXPECT_EQ(p.value, 1.5e12);
  EXPECT_EQ(p.source, "config");
  EXPECT_EQ(p.unit, "FLOP/s");
  EXPECT_EQ(m.get("cpu.fp32")->source, "model");

  m.apply_override("cpu.mem_bw", 2e11);  // no model figure: the unit follows the id
  EXPECT_EQ(m.get("cpu.mem_bw")->unit, "B/s");
  EXPECT_EQ(m.get("cpu.mem_bw")->source, "config");
  EXPECT_FALSE(m.get("cpu.nothing"));
}

TEST(Microarchitecture, GuessFromFamilyAndModel) {
  const IsaFlags none;
  IsaFlags vnni;
  vnni.avx512f = vnni.avx512_vnni = true;
  EXPECT_EQ(guess_microarchitecture("AuthenticAMD", 23, 0x01, none), "zen");
  EXPECT_EQ(guess_microarchitecture("AuthenticAMD", 23, 0x31, none), "zen2");
  EXPECT_EQ(guess_microarchitecture("AuthenticAMD", 25, 0x01, none), "zen3");
  EXPECT_EQ(guess_microarchitecture("AuthenticAMD", 25, 0x21, none), "zen3");
  EXPECT_EQ(guess_microarchitecture("AuthenticAMD", 25, 0x11, vnni), "zen4");
  EXPECT_EQ(guess_microarchitecture("AuthenticAMD", 25, 0x61, vnni), "zen4");
  EXPECT_EQ(guess_microarchitecture("AuthenticAMD", 26, 0x02, vnni), "zen5");
  EXPECT_EQ(guess_microarchitecture("GenuineIntel", 6, 0x3F, none), "haswell");
  EXPECT_EQ(guess_microarchitecture("GenuineIntel", 6, 0x55, none), "skylakex");
  EXPECT_EQ(guess_microarchitecture("GenuineIntel", 6, 0x55, vnni), "cascadelake");
  EXPECT_EQ(guess_microarchitecture("GenuineIntel", 6, 0x6A, vnni), "icelakex");
  EXPECT_EQ(guess_microarchitecture("GenuineIntel", 6, 0x8F, vnni), "sapphirerapids");
  EXPECT_EQ(guess_microarchitecture("GenuineIntel", 6, 0xCF, vnni), "emeraldrapids");
  EXPECT_EQ(guess_microarchitecture("GenuineIntel", 6, 0x01, none), "unknown");
  EXPECT_EQ(guess_microarchitecture("CentaurHauls", 6, 0x0F, none), "unknown");
}

TEST(FmaModel, PerMicroarchitecture) {
  IsaFlags avx2;
  avx2.sse2 = avx2.avx = avx2.fma = avx2.avx2 = true;
  const FmaModel zen1 = fma_model("AuthenticAMD", "zen", avx2, "");
  EXPECT_EQ(zen1.units, 2);
  EXPECT_EQ(zen1.vector_bits, 128);
  EXPECT_EQ(fma_model("AuthenticAMD", "zen3", avx2, "").vector_bits, 256);
  IsaFlags avx1;
  avx1.sse2 = avx1.avx = true;
  const FmaModel snb = fma_model("GenuineIntel", "sandybridge", avx1, "");
  EXPECT_EQ(snb.flop_per_op, 1);
  EXPECT_EQ(snb.vector_bits, 256);
}

TEST(IsaNames, RoundTrip) {
  IsaFlags isa;
  isa.sse2 = isa.avx512_bf16 = isa.amx_int8 = true;
  const auto names = isa_names(isa);
  EXPECT_EQ(names, (std::vector<std::string>{"sse2", "avx512_bf16", "amx_int8"}));
  const IsaFlags back = isa_from_names(names);
  EXPECT_TRUE(back.sse2 && back.avx512_bf16 && back.amx_int8);
  EXPECT_FALSE(back.avx || back.avx512f);
}

}  // namespace
}  // namespace converge::core
