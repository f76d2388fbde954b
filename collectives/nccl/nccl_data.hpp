#pragma once
// Host side of the NCCL benchmarks' data: the element types, the input pattern (the MPI
// benchmarks' pattern(rank, i), so both backends move the same values), host staging buffers,
// and the exact comparison. No NCCL and no device here: unit-tested on any machine.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace converge::collectives::nccl {

enum class Dtype { f32, f64, i32, f16, bf16 };

/// "float", "double", "int", "half", "bfloat16" (the `dtype` parameter's values).
Dtype dtype_from(const std::string& name);
const char* dtype_name(Dtype t);
std::uint64_t dtype_bytes(Dtype t);
/// The largest N such that every integer in [0, N] is exact in the type: 2^24 (float),
/// 2^53 (double), 2^31-1 (int), 2^11 (half), 2^8 (bfloat16).
double exact_integer_limit(Dtype t);

/// Element i of rank r's input: small integers 1..19, exact in every dtype. The same formula
/// as collectives/mpi/mpi_common.hpp's pattern (a unit test holds them equal).
constexpr double pattern(int rank, std::uint64_t i) { return double(rank % 13 + 1 + int(i % 7)); }

/// sum over ranks r < n of pattern(r, i), in O(1): sum_r (r % 13 + 1) + n (i % 7).
constexpr double pattern_sum(int n, std::uint64_t i) {
  const int full = n / 13, rest = n % 13;
  return double(full * 91 + rest * (rest + 1) / 2) + double(n) * double(i % 7);
}
/// The largest pattern_sum(n, i) over i (i % 7 == 6): every partial sum of a reduction over n
/// ranks lies in [0, this], so the sum is exact in any order when this <= exact_integer_limit.
constexpr double pattern_sum_bound(int n) { return pattern_sum(n, 6); }

/// Expected output element i of rank `rank` among n ranks, given inputs pattern(rank, j):
/// the collectives' definitions, unit-tested against a host simulation of each. `count`: the
/// elements per rank's block (allgather, reduce_scatter) or per peer (alltoall).
namespace expect {
/// allreduce, and reduce at its root: the sum over ranks.
constexpr double sum(int n, std::uint64_t i) { return pattern_sum(n, i); }
/// broadcast: the root's input.
constexpr double broadcast(int root, std::uint64_t i) { return pattern(root, i); }
/// allgather: block b comes from rank b.
constexpr double allgather(std::uint64_t count, std::uint64_t i) { return pattern(int(i / count), i % count); }
/// reduce_scatter: block `rank` of the sum.
constexpr double reduce_scatter(int n, int rank, std::uint64_t count, std::uint64_t i) {
  return pattern_sum(n, std::uint64_t(rank) * count + i);
}
/// alltoall: block p comes from rank p, which sent its block `rank`.
constexpr double alltoall(int rank, std::uint64_t count, std::uint64_t i) {
  return pattern(int(i / count), std::uint64_t(rank) * count + i % count);
}
/// sendrecv ring: from rank - 1 (mod n).
constexpr double sendrecv(int n, int rank, std::uint64_t i) { return pattern((rank - 1 + n) % n, i); }
}  // namespace expect

/// Why an exact check of a sum over n ranks is impossible in `t` ("" when it is possible).
std::string reduction_exactness_problem(Dtype t, int n);

/// `count` elements of a dtype in host memory (staging for the device buffers).
class HostData {
 public:
  HostData() = default;
  HostData(Dtype t, std::uint64_t count) : t_(t), count_(count), bytes_(std::size_t(count * dtype_bytes(t))) {}
  void* data() { return bytes_.data(); }
  const void* data() const { return bytes_.data(); }
  std::uint64_t count() const { return count_; }
  std::size_t bytes() const { return bytes_.size(); }
  Dtype dtype() const { return t_; }
  /// Element i as a double (half and bfloat16 widened exactly).
  double get(std::uint64_t i) const;
  /// Sets element i to `v`, rounded to the nearest value of the dtype.
  void set(std::uint64_t i, double v);

 private:
  Dtype t_ = Dtype::f32;
  std::uint64_t count_ = 0;
  std::vector<unsigned char> bytes_;
};

/// Elements [begin, end) = pattern(rank, first + (i - begin)).
void fill_pattern(HostData& d, int rank, std::uint64_t first = 0, std::uint64_t begin = 0,
                  std::uint64_t end = UINT64_MAX);
/// Every element = `value`.
void fill_value(HostData& d, double value);
/// Elements [begin, end) = the sentinel: every byte 0xFF (NaN in the floating-point types, -1 in
/// int), which no expected value equals; the same bytes cudaMemset(0xFF) writes on the device.
void fill_sentinel(HostData& d, std::uint64_t begin = 0, std::uint64_t end = UINT64_MAX);
/// Adds 1 to element count/2 of the first `count` (subtracts 1 where v + 1 rounds back to v):
/// the test-only fault.
void corrupt_one(HostData& d, std::uint64_t count);

/// The first i < count with d.get(first + i) != expected(i) exactly; `got` receives the value.
template <typename Expected>
std::optional<std::uint64_t> first_mismatch(const HostData& d, std::uint64_t first, std::uint64_t count,
                                            Expected&& expected, double* got) {
  for (std::uint64_t i = 0; i < count; ++i) {
    const double v = d.get(first + i);
    if (v != expected(i)) {
      if (got) *got = v;
      return i;
    }
  }
  return std::nullopt;
}

/// Where one rank's GPU is, as every rank learns it before NCCL starts.
struct RankDevice {
  int rank = 0;
  std::string host;
  std::string uuid;  ///< of the device the rank chose
  int visible = 0;   ///< CUDA devices visible to the rank
};

/// Why these ranks cannot form a NCCL communicator with one GPU each ("" when they can): two
/// ranks on one GPU (one UUID; NCCL rejects a GPU used twice in a communicator), as happens with
/// more ranks on a node than GPUs visible there. The same text on every rank, which all have
/// the same list.
std::string shared_gpu_problem(const std::vector<RankDevice>& ranks);

}  // namespace converge::collectives::nccl
