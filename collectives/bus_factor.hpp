#pragma once
// The work model of a collective, shared by the MPI and NCCL backends so that their figures
// compare directly: what "size" means per collective, the bytes algbw counts, and nccl-tests'
// bus-bandwidth factor (nccl-tests PERFORMANCE.md). Pure functions, unit-tested.
#include <cstdint>
#include <string_view>

namespace converge::collectives {

enum class Collective { allreduce, reduce, bcast, allgather, alltoall, reduce_scatter, gather, scatter, barrier };

constexpr std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::allreduce: return "allreduce";
    case Collective::reduce: return "reduce";
    case Collective::bcast: return "bcast";
    case Collective::allgather: return "allgather";
    case Collective::alltoall: return "alltoall";
    case Collective::reduce_scatter: return "reduce_scatter";
    case Collective::gather: return "gather";
    case Collective::scatter: return "scatter";
    case Collective::barrier: return "barrier";
  }
  return "?";
}

/// busbw = algbw x this factor, n = ranks (nccl-tests): allreduce 2(n-1)/n (each rank sends
/// and receives 2(n-1)/n of the data in a ring); allgather, reduce_scatter, alltoall (n-1)/n
/// (and gather, scatter, which move the same (n-1)/n of the total through the root); bcast and
/// reduce 1. Barrier moves no data: 0.
constexpr double bus_factor(Collective c, int n) {
  if (n < 1) return 0;
  switch (c) {
    case Collective::allreduce: return 2.0 * (n - 1) / n;
    case Collective::allgather:
    case Collective::reduce_scatter:
    case Collective::alltoall:
    case Collective::gather:
    case Collective::scatter: return double(n - 1) / n;
    case Collective::bcast:
    case Collective::reduce: return 1.0;
    case Collective::barrier: return 0.0;
  }
  return 0;
}

/// Elements each rank sends for a collective whose `size` parameter is `size_bytes`, with
/// nccl-tests' meaning of size: allreduce, reduce, bcast: the buffer; allgather, gather: the
/// total gathered (each rank sends size/n); reduce_scatter, scatter: the total before
/// scattering (each rank ends with size/n); alltoall: each rank's whole send buffer (size/n
/// to each peer). Sizes are rounded down to whole elements per rank (at least one).
constexpr std::uint64_t elements_per_rank(Collective c, std::uint64_t size_bytes, std::uint64_t elem_bytes, int n) {
  const std::uint64_t total = size_bytes / elem_bytes;
  std::uint64_t e = total;
  switch (c) {
    case Collective::allgather:
    case Collective::gather:
    case Collective::reduce_scatter:
    case Collective::scatter:
    case Collective::alltoall: e = total / std::uint64_t(n); break;
    default: break;
  }
  return e > 0 ? e : 1;
}

/// The bytes algbw divides by time for one operation: the collective's size as nccl-tests
/// counts it, after rounding to whole elements per rank.
constexpr double algbw_bytes(Collective c, std::uint64_t elems_per_rank, std::uint64_t elem_bytes, int n) {
  const double per_rank = double(elems_per_rank * elem_bytes);
  switch (c) {
    case Collective::allgather:
    case Collective::gather:
    case Collective::reduce_scatter:
    case Collective::scatter:
    case Collective::alltoall: return per_rank * n;
    case Collective::barrier: return 0;
    default: return per_rank;
  }
}

}  // namespace converge::collectives
