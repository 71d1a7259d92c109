// Mean and sample standard deviation of repeated measurements (bench rows).
#pragma once

#include <cmath>
#include <vector>

namespace pocket {

// Empty → 0, 0; one value → that value, sd 0.
inline void mean_sd(const std::vector<double>& v, double* mean, double* sd) {
  double s = 0;
  for (double x : v) s += x;
  *mean = v.empty() ? 0.0 : s / (double)v.size();
  double ss = 0;
  for (double x : v) ss += (x - *mean) * (x - *mean);
  *sd = v.size() > 1 ? std::sqrt(ss / (double)(v.size() - 1)) : 0.0;
}

}  // namespace pocket
