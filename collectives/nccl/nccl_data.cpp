#include "collectives/nccl/nccl_data.hpp"

// The CUDA headers' half and bfloat16 conversions work in host code (round to nearest even).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

namespace converge::collectives::nccl {

Dtype dtype_from(const std::string& name) {
  if (name == "float") return Dtype::f32;
  if (name == "double") return Dtype::f64;
  if (name == "int") return Dtype::i32;
  if (name == "half") return Dtype::f16;
  if (name == "bfloat16") return Dtype::bf16;
  throw std::invalid_argument("dtype must be float, double, int, half or bfloat16, not " + name);
}

const char* dtype_name(Dtype t) {
  switch (t) {
    case Dtype::f32: return "float";
    case Dtype::f64: return "double";
    case Dtype::i32: return "int";
    case Dtype::f16: return "half";
    case Dtype::bf16: return "bfloat16";
  }
  return "?";
}

std::uint64_t dtype_bytes(Dtype t) {
  switch (t) {
    case Dtype::f64: return 8;
    case Dtype::f16:
    case Dtype::bf16: return 2;
    default: return 4;
  }
}

double exact_integer_limit(Dtype t) {
  switch (t) {
    case Dtype::f32: return 16777216.0;           // 24-bit significand
    case Dtype::f64: return 9007199254740992.0;   // 53-bit significand
    case Dtype::i32: return 2147483647.0;
    case Dtype::f16: return 2048.0;               // 11-bit significand
    case Dtype::bf16: return 256.0;               // 8-bit significand
  }
  return 0;
}

std::string reduction_exactness_problem(Dtype t, int n) {
  const double bound = pattern_sum_bound(n);
  if (bound <= exact_integer_limit(t)) return "";
  return fmt::format("sums of the input pattern over {} ranks reach {}, past {} (every integer up to it is exact in "
                     "{}, not beyond): the exact check is impossible; use dtype float or fewer ranks",
                     n, bound, exact_integer_limit(t), dtype_name(t));
}

double HostData::get(std::uint64_t i) const {
  const unsigned char* p = bytes_.data() + i * dtype_bytes(t_);
  switch (t_) {
    case Dtype::f32: return double(*reinterpret_cast<const float*>(p));
    case Dtype::f64: return *reinterpret_cast<const double*>(p);
    case Dtype::i32: return double(*reinterpret_cast<const std::int32_t*>(p));
    case Dtype::f16: return double(__half2float(*reinterpret_cast<const __half*>(p)));
    case Dtype::bf16: return double(__bfloat162float(*reinterpret_cast<const __nv_bfloat16*>(p)));
  }
  return 0;
}

void HostData::set(std::uint64_t i, double v) {
  unsigned char* p = bytes_.data() + i * dtype_bytes(t_);
  switch (t_) {
    case Dtype::f32: *reinterpret_cast<float*>(p) = float(v); break;
    case Dtype::f64: *reinterpret_cast<double*>(p) = v; break;
    case Dtype::i32: *reinterpret_cast<std::int32_t*>(p) = std::int32_t(v); break;
    case Dtype::f16: *reinterpret_cast<__half*>(p) = __float2half_rn(float(v)); break;
    case Dtype::bf16: *reinterpret_cast<__nv_bfloat16*>(p) = __float2bfloat16_rn(float(v)); break;
  }
}

void fill_pattern(HostData& d, int rank, std::uint64_t first, std::uint64_t begin, std::uint64_t end) {
  end = std::min(end, d.count());
  for (std::uint64_t i = begin; i < end; ++i) d.set(i, pattern(rank, first + (i - begin)));
}

void fill_value(HostData& d, double value) {
  for (std::uint64_t i = 0; i < d.count(); ++i) d.set(i, value);
}

void fill_sentinel(HostData& d, std::uint64_t begin, std::uint64_t end) {
  end = std::min(end, d.count());
  if (begin >= end) return;
  const std::uint64_t eb = dtype_bytes(d.dtype());
  std::memset(static_cast<unsigned char*>(d.data()) + begin * eb, 0xFF, std::size_t((end - begin) * eb));
}

void corrupt_one(HostData& d, std::uint64_t count) {
  if (count == 0) return;
  const double v = d.get(count / 2);
  d.set(count / 2, v + 1);
  if (d.get(count / 2) == v) d.set(count / 2, v - 1);  // v + 1 rounded back to v (bfloat16 256)
}

std::string shared_gpu_problem(const std::vector<RankDevice>& ranks) {
  // Device counts per host say nothing on their own: a launcher may give each rank its own
  // CUDA_VISIBLE_DEVICES. Two ranks on one physical GPU (one UUID) is what NCCL rejects.
  std::map<std::string, const RankDevice*> by_uuid;
  for (const auto& r : ranks) {
    const auto [it, fresh] = by_uuid.emplace(r.uuid, &r);
    if (!fresh)
      return fmt::format("NCCL needs one GPU per rank: ranks {} and {} on host {} both use {} ({} CUDA device{} visible "
                         "to rank {}); launch at most one rank per visible GPU, or give each rank its own `device`",
                         it->second->rank, r.rank, r.host, r.uuid, r.visible, r.visible == 1 ? "" : "s", r.rank);
  }
  return "";
}

}  // namespace converge::collectives::nccl
