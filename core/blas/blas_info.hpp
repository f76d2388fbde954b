#pragma once
// What the linked BLAS is and which kernels it chose for this CPU.
#include "core/inventory.hpp"

namespace converge::core::blas {

/// Library, version, config string, corename (openblas_get_corename) and thread count.
BlasInventory blas_inventory();
/// Inventory probe: fills inv.blas. Executables that link BLAS register it.
void fill_inventory(Inventory& inv);

}  // namespace converge::core::blas
