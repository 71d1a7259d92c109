// Builds without the AVX-512 table.
#include "kernels/kernel_table.h"

namespace pocket {
const KernelTable* avx512_kernels() { return nullptr; }
}  // namespace pocket
