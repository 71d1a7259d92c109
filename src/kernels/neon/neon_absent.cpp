// Non-aarch64 builds: no NEON tables.
#include "kernels/kernel_table.h"

namespace pocket {
const KernelTable* neon_kernels() { return nullptr; }
const KernelTable* neon_dotprod_kernels() { return nullptr; }
}  // namespace pocket
