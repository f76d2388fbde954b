#include "core/placement.hpp"

#include <unistd.h>

#include <cstdlib>

namespace converge::core {

namespace {

bool read_int(const char* name, int& out) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return false;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < 0) return false;
  out = static_cast<int>(x);
  return true;
}

}  // namespace

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

Placement detect_placement() {
  Placement p;
  // name of the launcher, then its (rank, size, local rank) variables
  struct Scheme {
    const char *source, *rank, *size, *local;
  };
  static const Scheme schemes[] = {
      {"openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {"pmix", "PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK"},
      {"mvapich", "MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK"},
      {"pmi", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"},
      {"slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
  };
  p.source = "none";
  for (const auto& s : schemes) {
    if (!read_int(s.rank, p.rank)) continue;
    p.source = s.source;
    if (!read_int(s.size, p.size)) p.size = p.rank + 1;
    if (!read_int(s.local, p.local_rank)) p.local_rank = 0;
    break;
  }
  const char* node = std::getenv("SLURMD_NODENAME");
  p.node = node != nullptr && *node != '\0' ? node : hostname();
  return p;
}

}  // namespace converge::core
