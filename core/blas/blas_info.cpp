// What the linked OpenBLAS is and which kernels it picked for this CPU. The corename matters
// more than the version: a DYNAMIC_ARCH OpenBLAS that does not recognise a CPU (newer than the
// library, or CPUID masked by a hypervisor) silently falls back to SSE-era kernels.
#include "core/blas/blas_info.hpp"

#include <sstream>
#include <string>

// Declared here rather than taken from cblas.h: netlib's and other vendors' cblas.h lack them,
// and these are the only OpenBLAS extensions used. The build links OpenBLAS (BLA_VENDOR).
extern "C" {
char* openblas_get_config(void);
char* openblas_get_corename(void);
int openblas_get_num_threads(void);
}

namespace converge::core::blas {
namespace {

// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64" -> "0.3.21".
std::string version_from_config(const std::string& config) {
  std::istringstream in(config);
  std::string word;
  while (in >> word)
    if (word == "OpenBLAS" && in >> word) return word;
  return {};
}

std::string safe(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace

BlasInventory blas_inventory() {
  BlasInventory b;
  b.library = "OpenBLAS";
  b.config = safe(openblas_get_config());
  // Trailing blanks appear in some builds' config strings; keep the stored string clean.
  while (!b.config.empty() && (b.config.back() == ' ' || b.config.back() == '\n'))
    b.config.pop_back();
  b.version = version_from_config(b.config);
  b.corename = safe(openblas_get_corename());
  b.threads = openblas_get_num_threads();
  return b;
}

void fill_inventory(Inventory& inv) { inv.blas = blas_inventory(); }

}  // namespace converge::core::blas
