// Non-x86 builds: no AVX2 table.
#include "kernels/kernel_table.h"

namespace pocket {
const KernelTable* avx2_kernels() { return nullptr; }
}  // namespace pocket
