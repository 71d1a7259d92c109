// Helpers shared by the kernel tests.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/kernel_table.h"

namespace pocket::test {

// Every kernel table this CPU can run, the reference first.
inline std::vector<const KernelTable*> kernel_tables() {
  const KernelTable* t[8];
  const int n = available_kernel_tables(t, 8);
  return std::vector<const KernelTable*>(t, t + n);
}

// n values from N(0, scale^2).
inline std::vector<float> random_vec(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v((size_t)n);
  for (float& x : v) x = d(rng);
  return v;
}

}  // namespace pocket::test
