// Host side of the NCCL benchmarks, no device and no MPI: the dtype table, the input pattern
// (the MPI benchmarks' own) and the expected values, where a reduction's sums stop being exact,
// the exact check with a corrupted element, the one-GPU-per-rank rule, the shared parameters,
// and every registered NCCL benchmark skipping with the device's reason on a machine without one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "collectives/mpi/mpi_common.hpp"
#include "collectives/nccl/nccl_common.hpp"
#include "collectives/nccl/nccl_data.hpp"
#include "core/cuda/cuda_runtime.hpp"
#include "core/harness.hpp"

namespace converge::collectives::nccl {
namespace {

const Dtype kAll[] = {Dtype::f32, Dtype::f64, Dtype::i32, Dtype::f16, Dtype::bf16};

TEST(NcclHost, DtypeTable) {
  struct Row {
    const char* name;
    Dtype t;
    std::uint64_t bytes;
    ncclDataType_t nccl;
    double exact;
  };
  const Row rows[] = {{"float", Dtype::f32, 4, ncclFloat32, 16777216.0},
                      {"double", Dtype::f64, 8, ncclFloat64, 9007199254740992.0},
                      {"int", Dtype::i32, 4, ncclInt32, 2147483647.0},
                      {"half", Dtype::f16, 2, ncclFloat16, 2048.0},
                      {"bfloat16", Dtype::bf16, 2, ncclBfloat16, 256.0}};
  for (const Row& r : rows) {
    EXPECT_EQ(dtype_from(r.name), r.t);
    EXPECT_STREQ(dtype_name(r.t), r.name);
    EXPECT_EQ(dtype_bytes(r.t), r.bytes) << r.name;
    EXPECT_EQ(nccl_type(r.t), r.nccl) << r.name;
    EXPECT_EQ(exact_integer_limit(r.t), r.exact) << r.name;
    // The limit is exact and so is every integer below it; the one above is not (float types).
    HostData d(r.t, 1);
    d.set(0, r.exact);
    EXPECT_EQ(d.get(0), r.exact) << r.name;
    if (r.t != Dtype::i32 && r.t != Dtype::f64) {
      d.set(0, r.exact + 1);
      EXPECT_NE(d.get(0), r.exact + 1) << r.name;
    }
  }
  EXPECT_THROW(dtype_from("float16"), std::invalid_argument);
}

TEST(NcclHost, PatternIsTheMpiBenchmarksPattern) {
  for (int r = 0; r < 40; ++r)
    for (std::uint64_t i = 0; i < 30; ++i) EXPECT_EQ(pattern(r, i), mpi::pattern(r, i)) << r << " " << i;
}

TEST(NcclHost, PatternSumIsTheSumOverRanks) {
  for (int n = 1; n <= 60; ++n) {
    double bound = 0;
    for (std::uint64_t i = 0; i < 21; ++i) {
      double s = 0;
      for (int r = 0; r < n; ++r) s += pattern(r, i);
      EXPECT_EQ(pattern_sum(n, i), s) << n << " " << i;
      bound = std::max(bound, s);
    }
    EXPECT_EQ(pattern_sum_bound(n), bound) << n;
  }
}

// The expected outputs against a host simulation of each collective from its definition (NCCL's
// documentation), with every rank's input as the benchmarks fill it: element j = pattern(r, j).
TEST(NcclHost, ExpectedOutputsAreTheCollectivesDefinitions) {
  auto input = [](int r, std::uint64_t elems) {
    std::vector<double> v(elems);
    for (std::uint64_t j = 0; j < elems; ++j) v[j] = pattern(r, j);
    return v;
  };
  for (int n : {1, 2, 3, 4, 7, 14, 30}) {
    for (std::uint64_t c : {1u, 3u, 8u, 20u}) {
      for (int r = 0; r < n; ++r) {
        std::vector<double> sum(c, 0), gathered, scattered(c, 0), exchanged;
        for (int s = 0; s < n; ++s) {
          const auto in = input(s, c), whole = input(s, c * std::uint64_t(n));
          for (std::uint64_t i = 0; i < c; ++i) sum[i] += in[i];
          gathered.insert(gathered.end(), in.begin(), in.end());                  // block s from rank s
          for (std::uint64_t i = 0; i < c; ++i) scattered[i] += whole[r * c + i];  // block r of the sum
          exchanged.insert(exchanged.end(), whole.begin() + long(r * c), whole.begin() + long((r + 1) * c));
        }
        const auto from_prev = input((r + n - 1) % n, c), root = input(0, c);
        for (std::uint64_t i = 0; i < c; ++i) {
          EXPECT_EQ(expect::sum(n, i), sum[i]) << n << " " << c << " " << r << " " << i;
          EXPECT_EQ(expect::broadcast(0, i), root[i]);
          EXPECT_EQ(expect::reduce_scatter(n, r, c, i), scattered[i]) << n << " " << c << " " << r << " " << i;
          EXPECT_EQ(expect::sendrecv(n, r, i), from_prev[i]) << n << " " << r << " " << i;
        }
        for (std::uint64_t i = 0; i < c * std::uint64_t(n); ++i) {
          EXPECT_EQ(expect::allgather(c, i), gathered[i]) << n << " " << c << " " << r << " " << i;
          EXPECT_EQ(expect::alltoall(r, c, i), exchanged[i]) << n << " " << c << " " << r << " " << i;
        }
      }
    }
  }
}

// A sum over n ranks is checked exactly only while every partial sum is an exact integer.
TEST(NcclHost, ReductionExactness) {
  for (Dtype t : kAll)
    for (int n = 1; n <= 200; ++n)
      EXPECT_EQ(reduction_exactness_problem(t, n).empty(), pattern_sum_bound(n) <= exact_integer_limit(t))
          << dtype_name(t) << " " << n;
  EXPECT_EQ(reduction_exactness_problem(Dtype::bf16, 21), "");  // sums reach 253
  const std::string p = reduction_exactness_problem(Dtype::bf16, 22);  // 268
  EXPECT_NE(p.find("22 ranks reach 268, past 256"), std::string::npos) << p;
  EXPECT_NE(p.find("bfloat16"), std::string::npos) << p;
  EXPECT_EQ(reduction_exactness_problem(Dtype::f16, 100), "");
  EXPECT_NE(reduction_exactness_problem(Dtype::f16, 200), "");
  EXPECT_EQ(reduction_exactness_problem(Dtype::f32, 100000), "");
}

TEST(NcclHost, FillAndReadBackEveryDtype) {
  for (Dtype t : kAll) {
    HostData d(t, 20);
    EXPECT_EQ(d.bytes(), 20 * dtype_bytes(t));
    fill_sentinel(d);
    fill_pattern(d, 3, 5, 4, 9);  // elements 4..8 = pattern(3, 5..9)
    for (std::uint64_t i = 0; i < 20; ++i) {
      if (i >= 4 && i < 9) {
        EXPECT_EQ(d.get(i), pattern(3, 5 + i - 4)) << dtype_name(t) << " " << i;
        continue;
      }
      // The sentinel equals no expected value: NaN in the float types, -1 in int.
      const double v = d.get(i);
      EXPECT_TRUE(t == Dtype::i32 ? v == -1 : std::isnan(v)) << dtype_name(t) << " " << v;
    }
    fill_value(d, 7);
    EXPECT_EQ(d.get(19), 7);
  }
}

TEST(NcclHost, CheckFindsTheCorruptedElement) {
  for (Dtype t : kAll) {
    HostData d(t, 101);
    fill_pattern(d, 2);
    auto expected = [](std::uint64_t i) { return pattern(2, i); };
    double got = 0;
    EXPECT_FALSE(first_mismatch(d, 0, d.count(), expected, &got)) << dtype_name(t);
    corrupt_one(d, d.count());
    const auto bad = first_mismatch(d, 0, d.count(), expected, &got);
    ASSERT_TRUE(bad) << dtype_name(t);
    EXPECT_EQ(*bad, 50u);
    EXPECT_EQ(got, pattern(2, 50) + 1) << dtype_name(t);
    // An offset view compares from `first`.
    const auto later = first_mismatch(d, 40, 20, [](std::uint64_t i) { return pattern(2, 40 + i); }, &got);
    ASSERT_TRUE(later);
    EXPECT_EQ(*later, 10u);
  }
  // bfloat16 256 + 1 rounds back to 256: the fault goes the other way, still visible.
  HostData b(Dtype::bf16, 3);
  fill_value(b, 256);
  corrupt_one(b, 3);
  EXPECT_EQ(b.get(1), 255);
  HostData empty(Dtype::f32, 0);
  corrupt_one(empty, 0);  // nothing received, nothing to corrupt
}

TEST(NcclHost, OneGpuPerRank) {
  std::vector<RankDevice> ok = {{0, "n1", "GPU-a", 2}, {1, "n1", "GPU-b", 2}, {2, "n2", "GPU-c", 1}};
  EXPECT_EQ(shared_gpu_problem(ok), "");
  // Per-rank CUDA_VISIBLE_DEVICES: one device visible to each, all distinct: fine.
  std::vector<RankDevice> own = {{0, "n1", "GPU-a", 1}, {1, "n1", "GPU-b", 1}, {2, "n1", "GPU-c", 1}};
  EXPECT_EQ(shared_gpu_problem(own), "");
  std::vector<RankDevice> twice = {{0, "n1", "GPU-a", 2}, {1, "n1", "GPU-b", 2}, {2, "n1", "GPU-a", 2}};
  const std::string p = shared_gpu_problem(twice);
  EXPECT_NE(p.find("NCCL needs one GPU per rank: ranks 0 and 2 on host n1 both use GPU-a"), std::string::npos) << p;
  EXPECT_NE(p.find("2 CUDA devices visible to rank 2"), std::string::npos) << p;
}

TEST(NcclHost, SharedParametersAndMetrics) {
  std::vector<std::string> names;
  for (const auto& p : nccl_params("doc")) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"size", "dtype", "in_place", "iterations", "check_every", "device"}));
  const auto dtype = nccl_params("doc")[1];
  EXPECT_EQ(dtype.choices, (std::vector<std::string>{"float", "double", "int", "half", "bfloat16"}));
  for (const std::string& c : dtype.choices) EXPECT_NO_THROW(dtype_from(c));
  EXPECT_EQ(auto_iterations(8), 1000);
  EXPECT_EQ(auto_iterations(8192), 1000);
  EXPECT_EQ(auto_iterations(8193), 100);
  std::vector<std::string> metrics;
  for (const auto& m : nccl_metrics()) metrics.push_back(m.name + " " + m.unit);
  EXPECT_EQ(metrics, (std::vector<std::string>{"latency s", "algbw B/s", "busbw B/s"}));
  EXPECT_EQ(bus_factor_formula(Collective::allreduce), "2(n-1)/n");
  EXPECT_EQ(bus_factor_formula(Collective::allgather), "(n-1)/n");
  EXPECT_EQ(bus_factor_formula(Collective::reduce_scatter), "(n-1)/n");
  EXPECT_EQ(bus_factor_formula(Collective::alltoall), "(n-1)/n");
  EXPECT_EQ(bus_factor_formula(Collective::bcast), "1");
  EXPECT_EQ(bus_factor_formula(Collective::reduce), "1");
  EXPECT_NE(nccl_version().find("2."), std::string::npos) << nccl_version();
}

const char* const kIds[] = {"collectives.nccl.allreduce", "collectives.nccl.allgather",
                            "collectives.nccl.reduce_scatter", "collectives.nccl.broadcast",
                            "collectives.nccl.reduce", "collectives.nccl.alltoall", "collectives.nccl.sendrecv"};

TEST(NcclHost, EveryBenchmarkIsRegistered) {
  std::set<std::string> nccl;
  for (const auto& s : core::Registry::instance().all())
    if (s.backend == "nccl") nccl.insert(s.id);
  EXPECT_EQ(nccl, std::set<std::string>(std::begin(kIds), std::end(kIds)));
  for (const char* id : kIds) {
    const auto* s = core::Registry::instance().find(id);
    ASSERT_NE(s, nullptr) << id;
    EXPECT_EQ(s->family, "collectives");
    EXPECT_EQ(s->params.size(), 6u) << id;
    EXPECT_EQ(s->metrics.size(), 3u) << id;
  }
}

// Without a device, every benchmark says so (before anything else); with one but outside the
// MPI worker, it says it needs the worker's ranks. Never ok, never failed.
TEST(NcclHost, EveryBenchmarkSkipsWithTheReason) {
  const auto avail = core::cuda::device_availability();
  core::RepetitionPolicy policy;
  policy.warmup = 0;
  policy.min_reps = 1;
  policy.min_time_s = 0;
  core::Context ctx;  // no group: a single process, not the MPI worker
  for (const char* id : kIds) {
    const auto* s = core::Registry::instance().find(id);
    ASSERT_NE(s, nullptr) << id;
    const core::Result r = core::run_instance(*s, {{"size", "1K"}}, policy, ctx);
    EXPECT_EQ(r.status, core::Status::skipped) << id << ": " << r.reason;
    if (avail.count == 0) {
      EXPECT_EQ(r.reason, avail.reason) << id;
    } else {
      EXPECT_NE(r.reason.find("needs the MPI worker's ranks"), std::string::npos) << id << ": " << r.reason;
    }
    EXPECT_EQ(r.notes.count("nccl_version"), 1u) << id;
  }
}

}  // namespace
}  // namespace converge::collectives::nccl
