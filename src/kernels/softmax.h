// Scores -> softmax weights in place: subtract the max, exponentiate, sum in double, multiply by
// 1/sum. The reference attention's order, shared by every scalar attention path.
#pragma once

#include <cmath>

namespace pocket {

inline void softmax_inplace(float* sc, int n) {
  float mx = -INFINITY;
  for (int p = 0; p < n; ++p) mx = sc[p] > mx ? sc[p] : mx;
  double sum = 0.0;
  for (int p = 0; p < n; ++p) {
    sc[p] = std::exp(sc[p] - mx);
    sum += sc[p];
  }
  const float inv = (float)(1.0 / sum);
  for (int p = 0; p < n; ++p) sc[p] *= inv;
}

}  // namespace pocket
