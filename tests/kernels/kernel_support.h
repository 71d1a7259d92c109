// Helpers shared by the kernel tests.
#pragma once

#include <vector>

#include "kernels/kernel_table.h"

namespace pocket::test {

// Every kernel table this CPU can run, the reference first.
inline std::vector<const KernelTable*> kernel_tables() {
  const KernelTable* t[8];
  const int n = available_kernel_tables(t, 8);
  return std::vector<const KernelTable*>(t, t + n);
}

}  // namespace pocket::test
