// Host-side parts of micro.gpu_stream.* and micro.gpu_transfer.*: work models, the auto size
// rule, initial and expected values, the kernel bodies (CONVERGE_HD) run on the host, and the
// exact checks, which must fail on a corrupted, unwritten or misplaced element.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "micro/cuda/stream_kernels.hpp"
#include "micro/cuda/transfer_common.hpp"

namespace converge::micro::cuda {
namespace {

using K = GpuStreamKernel;
constexpr K kArrayKernels[] = {K::copy, K::mul, K::add, K::triad};
constexpr std::uint64_t kMi = std::uint64_t(1) << 20;

TEST(GpuStreamWork, BabelStreamCounting) {
  const std::uint64_t n = 1000;
  const struct { K k; double bytes, flops; } cases[] = {
      {K::copy, 16000, 0},     {K::mul, 16000, 1000}, {K::add, 24000, 1000},
      {K::triad, 24000, 2000}, {K::dot, 16000, 2000}};
  for (const auto& c : cases) {
    const core::WorkModel w = gpu_stream_work(c.k, n);
    EXPECT_EQ(w.bytes, c.bytes) << to_string(c.k);
    EXPECT_EQ(w.flops, c.flops) << to_string(c.k);
    EXPECT_EQ(w.items, double(n)) << to_string(c.k);
  }
}

TEST(GpuStreamAutoN, Rule) {
  // H100 SXM: 50 MiB L2, 80 GB: 4 x L2 = 26.2 M elements < 2^25, so 2^25 (256 MiB per array).
  EXPECT_EQ(gpu_stream_auto_elements(50 * kMi, 85'520'809'984ull), std::uint64_t(1) << 25);
  EXPECT_EQ(gpu_stream_auto_elements(0, 0), std::uint64_t(1) << 25);  // unknown L2, no cap
  // A large L2 wins over the floor and is rounded up to 2^20 elements: 4 x 100 MB / 8 = 50e6.
  EXPECT_EQ(gpu_stream_auto_elements(100'000'000, 0), 48 * kMi);
  EXPECT_EQ(gpu_stream_auto_elements(256 * kMi, 0), 128 * kMi);
  // 1 GiB of device memory: three arrays <= 512 MiB, n <= 2^30 / 48, rounded down to 2^20.
  EXPECT_EQ(gpu_stream_auto_elements(4 * kMi, std::uint64_t(1) << 30), 21 * kMi);
  EXPECT_EQ(gpu_stream_auto_elements(4 * kMi, 4800), 100u);  // below 2^20: not rounded
  EXPECT_EQ(gpu_stream_auto_elements(4 * kMi, 10), 1u);      // never 0
  for (std::uint64_t l2 : {0ull, 6ull << 20, 40ull << 20, 50ull << 20, 60ull << 20, 123'456'789ull, 1ull << 30})
    for (std::uint64_t mem : {0ull, 1ull << 30, 16ull << 30, 80ull << 30, 141ull << 30}) {
      const std::uint64_t n = gpu_stream_auto_elements(l2, mem);
      if (mem > 0) {
        EXPECT_LE(3 * 8 * n, mem / 2) << l2 << " " << mem;
      }
      if (mem == 0 || 3 * 8 * n + 3 * 8 * kMi > mem / 2) continue;  // the cap did not bite
      EXPECT_EQ(n % kMi, 0u);
      EXPECT_GE(n, std::uint64_t(1) << 25);
      EXPECT_GE(8 * n, 4 * l2);
    }
}

TEST(GpuStreamValues, OutputStartsAtZeroAndEndsAtItsKnownValue) {
  for (K k : kArrayKernels) {
    const int out = gpu_stream_output(k);
    ASSERT_GE(out, 0);
    for (std::uint64_t i = 0; i < 1000; ++i) {
      EXPECT_EQ(gpu_stream_initial(k, out, i), 0.0);
      EXPECT_NE(gpu_stream_expected(k, out, i), 0.0) << to_string(k) << " " << i;
      for (int x = 0; x < 3; ++x)
        if (x != out) {
          EXPECT_EQ(gpu_stream_expected(k, x, i), gpu_stream_input(x, i));
        }
    }
  }
  EXPECT_EQ(gpu_stream_output(K::dot), -1);
  // Element 10: a = 4, b = 1, c = 2^(1 - 4) = 1/8.
  EXPECT_EQ(gpu_stream_input(0, 10), 4.0);
  EXPECT_EQ(gpu_stream_input(1, 10), 1.0);
  EXPECT_EQ(gpu_stream_input(2, 10), 0.125);
  EXPECT_EQ(gpu_stream_expected(K::copy, 2, 10), 4.0);
  EXPECT_EQ(gpu_stream_expected(K::mul, 1, 10), 0.4 / 8);
  EXPECT_EQ(gpu_stream_expected(K::add, 2, 10), 5.0);
  EXPECT_EQ(gpu_stream_expected(K::triad, 0, 10), 1.0 + 0.4 / 8);
}

// The claim behind tolerance 0 for mul and triad: s*c has no rounding error (c is a power of
// 2), so b + s*c is the same whether or not the compiler contracts it into an FMA.
TEST(GpuStreamValues, ContractionCannotChangeResults) {
  for (std::uint64_t i = 0; i < 9 * 35; ++i) {
    const double b = gpu_stream_input(1, i), c = gpu_stream_input(2, i), s = kGpuStreamScalar;
    EXPECT_EQ(std::fma(s, c, -(s * c)), 0.0) << i;  // the product's rounding error
    EXPECT_EQ(std::fma(s, c, b), b + s * c) << i;
  }
}

TEST(GpuStreamValues, DotClosedFormMatchesTheSum) {
  for (std::uint64_t n : {0ull, 1ull, 34ull, 35ull, 36ull, 1000ull, 123457ull, 1ull << 25}) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i)
      sum += std::uint64_t(gpu_stream_input(0, i)) * std::uint64_t(gpu_stream_input(1, i));
    EXPECT_EQ(gpu_stream_dot_exact(n), sum) << n;
  }
}

/// Host arrays initialised for kernel k, with the kernel body applied `reps` times.
struct HostArrays {
  std::vector<double> x[3];
  HostArrays(K k, std::uint64_t n, int reps) {
    for (int a = 0; a < 3; ++a)
      for (std::uint64_t i = 0; i < n; ++i) x[a].push_back(gpu_stream_initial(k, a, i));
    for (int r = 0; r < reps; ++r)
      for (std::size_t i = 0; i < n; ++i) {
        double *a = x[0].data(), *b = x[1].data(), *c = x[2].data();
        switch (k) {
          case K::copy: gpu_stream_element<K::copy>(a, b, c, i); break;
          case K::mul: gpu_stream_element<K::mul>(a, b, c, i); break;
          case K::add: gpu_stream_element<K::add>(a, b, c, i); break;
          case K::triad: gpu_stream_element<K::triad>(a, b, c, i); break;
          case K::dot: break;
        }
      }
  }
  core::Verification verify(K k, double dot = 0, std::uint64_t chunk = 0) const {
    const std::uint64_t n = x[0].size();
    if (chunk == 0) chunk = n;
    GpuStreamCheck acc;
    for (int a = 0; a < 3; ++a)
      for (std::uint64_t first = 0; first < n; first += chunk)
        gpu_stream_check(k, a, x[a].data() + first, first, std::min(chunk, n - first), acc);
    return gpu_stream_verification(k, n, acc, dot);
  }
};

TEST(GpuStreamKernelBody, RepeatedKernelsPassTheExactCheck) {
  for (K k : kArrayKernels)
    for (int reps : {1, 3}) {
      const auto v = HostArrays(k, 1001, reps).verify(k);
      EXPECT_EQ(v.status, core::VerifyStatus::passed) << to_string(k) << ": " << v.message;
      EXPECT_EQ(v.tolerance, 0.0);
    }
}

// dot as the device computes it: per-thread grid-stride sums (the kernel's body), then the sum
// of them in another order; every order gives the exact integer.
TEST(GpuStreamKernelBody, DotOverAGridIsExact) {
  const std::uint64_t n = 100'003;
  const HostArrays h(K::dot, n, 0);
  for (std::size_t threads : {std::size_t(1), std::size_t(64 * 3), std::size_t(1024 * 7)}) {
    std::vector<double> partial;
    for (std::size_t t = 0; t < threads; ++t)
      partial.push_back(gpu_stream_dot_thread(h.x[0].data(), h.x[1].data(), n, t, threads));
    double dot = 0;
    for (std::size_t t = partial.size(); t-- > 0;) dot += partial[t];
    const auto v = h.verify(K::dot, dot);
    EXPECT_EQ(v.status, core::VerifyStatus::passed) << threads << ": " << v.message;
  }
}

TEST(GpuStreamVerify, CorruptedElementFailsNamingIt) {
  HostArrays h(K::triad, 1000, 2);
  h.x[1][617] += 1;  // an input the kernel must not change
  auto v = h.verify(K::triad, 0, 300);
  ASSERT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_EQ(v.message, "b[617] = 4, expected 3 (1 of 3000 elements differ)");
  EXPECT_GT(v.max_error, 0.0);

  HostArrays nan(K::mul, 1000, 1);
  nan.x[1][999] = std::nan("");
  v = nan.verify(K::mul);
  ASSERT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_NE(v.message.find("b[999] = nan"), std::string::npos) << v.message;
  EXPECT_TRUE(std::isinf(v.max_error));
}

TEST(GpuStreamVerify, SkippedStoresAndWrongIndexFail) {
  const auto skipped = HostArrays(K::triad, 1000, 0).verify(K::triad);  // the kernel never ran
  ASSERT_EQ(skipped.status, core::VerifyStatus::failed);
  EXPECT_EQ(skipped.message, "a[0] = 0, expected 1.025 (1000 of 3000 elements differ)");

  HostArrays shifted(K::copy, 1000, 0);  // c[i] = a[i + 1]: the pattern varies with i, so it shows
  for (std::size_t i = 0; i < 1000; ++i) shifted.x[2][i] = shifted.x[0][(i + 1) % 1000];
  const auto v = shifted.verify(K::copy);
  ASSERT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_EQ(v.message, "c[0] = 2, expected 1 (1000 of 3000 elements differ)");
}

TEST(GpuStreamVerify, WrongDotFails) {
  const HostArrays h(K::dot, 1000, 0);
  const double exact = double(gpu_stream_dot_exact(1000));
  EXPECT_EQ(h.verify(K::dot, exact).status, core::VerifyStatus::passed);
  const auto v = h.verify(K::dot, exact + 1);
  ASSERT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_EQ(v.message, "dot = " + gpu_stream_text(exact + 1) + ", expected " + gpu_stream_text(exact));
  EXPECT_EQ(h.verify(K::dot, 0).status, core::VerifyStatus::failed);  // the result's initial value
}

TEST(GpuTransferWork, BytesPerKind) {
  const std::uint64_t size = 256 * kMi;
  EXPECT_EQ(transfer_work(TransferKind::h2d, size).bytes, double(size));
  EXPECT_EQ(transfer_work(TransferKind::d2h, size).bytes, double(size));
  EXPECT_EQ(transfer_work(TransferKind::p2p, size).bytes, double(size));
  EXPECT_EQ(transfer_work(TransferKind::d2d, size).bytes, 2.0 * double(size));  // read + write, as bandwidthTest
  for (auto k : {TransferKind::h2d, TransferKind::d2h, TransferKind::d2d, TransferKind::p2p}) {
    EXPECT_EQ(transfer_work(k, size).flops, 0.0);
    EXPECT_EQ(transfer_work(k, size).items, 1.0);
  }
  EXPECT_EQ(transfer_words(1), 1u);
  EXPECT_EQ(transfer_words(8), 1u);
  EXPECT_EQ(transfer_words(9), 2u);
}

TEST(GpuTransferPattern, SplitMix64WordsAllDistinct) {
  EXPECT_EQ(transfer_word(0, 0), 0xE220A8397B1DCDAFull);  // splitmix64's first output from state 0
  std::set<std::uint64_t> seen;
  for (std::uint64_t i = 0; i < 100000; ++i) seen.insert(transfer_word(i, 42));
  EXPECT_EQ(seen.size(), 100000u);
  EXPECT_NE(transfer_word(5, 42), transfer_word(5, 43));
  std::uint64_t w[4];
  transfer_fill(w, 10, 4, 42, true);
  for (int j = 0; j < 4; ++j) EXPECT_EQ(w[j], ~transfer_word(10 + j, 42));
}

/// A destination after a copy of `copied` bytes of a `size`-byte source, checked in chunks.
core::Verification copy_and_check(std::uint64_t size, std::uint64_t copied, std::uint64_t corrupt_byte = ~0ull) {
  const std::uint64_t words = transfer_words(size);
  std::vector<std::uint64_t> src(words + 1), dst(words + 1);
  transfer_fill(src.data(), 0, words + 1, 7, false);
  transfer_fill(dst.data(), 0, words, 7, true);
  std::memcpy(dst.data(), src.data(), copied);
  if (corrupt_byte != ~0ull) reinterpret_cast<unsigned char*>(dst.data())[corrupt_byte] ^= 0x10;
  TransferCheck acc;
  for (std::uint64_t first = 0; first < words; first += 5)
    transfer_check(dst.data() + first, first, std::min<std::uint64_t>(5, words - first), size, 7, acc);
  return transfer_verification(acc, size, "device destination");
}

TEST(GpuTransferVerify, ExactCopyPasses) {
  for (std::uint64_t size : {1ull, 7ull, 8ull, 1000ull, 1005ull}) {
    const auto v = copy_and_check(size, size);
    EXPECT_EQ(v.status, core::VerifyStatus::passed) << size << ": " << v.message;
  }
}

TEST(GpuTransferVerify, CorruptedByteFailsNamingItsOffset) {
  const auto v = copy_and_check(1005, 1005, 777);
  ASSERT_EQ(v.status, core::VerifyStatus::failed);
  EXPECT_EQ(v.message, "byte offset 777 = 0x85, expected 0x95 (1 of 126 words differ)");  // bit 4 flipped
  const auto tail = copy_and_check(1005, 1005, 1004);  // last byte of a partial word
  ASSERT_EQ(tail.status, core::VerifyStatus::failed);
  EXPECT_EQ(tail.message.rfind("byte offset 1004 ", 0), 0u) << tail.message;
}

TEST(GpuTransferVerify, ShortOrLongCopiesFail) {
  const auto none = copy_and_check(1005, 0);  // nothing copied: every word differs
  ASSERT_EQ(none.status, core::VerifyStatus::failed);
  EXPECT_EQ(none.message.rfind("byte offset 0 ", 0), 0u) << none.message;
  EXPECT_NE(none.message.find("(126 of 126 words differ)"), std::string::npos) << none.message;
  const auto short_copy = copy_and_check(1005, 1004);
  ASSERT_EQ(short_copy.status, core::VerifyStatus::failed);
  EXPECT_EQ(short_copy.message.rfind("byte offset 1004 ", 0), 0u) << short_copy.message;
  const auto overrun = copy_and_check(1005, 1006);  // one byte past size written
  ASSERT_EQ(overrun.status, core::VerifyStatus::failed);
  EXPECT_EQ(overrun.message.rfind("byte offset 1005 (past the copied size)", 0), 0u) << overrun.message;
}

}  // namespace
}  // namespace converge::micro::cuda
