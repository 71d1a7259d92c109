#include "quantize/gptq.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>
#include <vector>

namespace pocket {
namespace {

// In-place lower Cholesky factor of a symmetric n x n matrix (row-major); false if not positive definite.
bool cholesky_lower(std::vector<double>& a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = a[(size_t)(j * n + j)];
    for (int64_t k = 0; k < j; ++k) d -= a[(size_t)(j * n + k)] * a[(size_t)(j * n + k)];
    if (!(d > 0.0)) return false;
    const double ljj = std::sqrt(d);
    a[(size_t)(j * n + j)] = ljj;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[(size_t)(i * n + j)];
      const double* ri = &a[(size_t)(i * n)];
      const double* rj = &a[(size_t)(j * n)];
      for (int64_t k = 0; k < j; ++k) s -= ri[k] * rj[k];
      a[(size_t)(i * n + j)] = s / ljj;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) a[(size_t)(i * n + j)] = 0.0;
  return true;
}

// The inverse of H = L L^T from its lower factor: H^-1 = L^-T L^-1.
std::vector<double> inverse_from_cholesky(const std::vector<double>& l, int64_t n) {
  std::vector<double> li((size_t)(n * n), 0.0);  // L^-1, lower
  for (int64_t j = 0; j < n; ++j) {
    li[(size_t)(j * n + j)] = 1.0 / l[(size_t)(j * n + j)];
    for (int64_t i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (int64_t k = j; k < i; ++k) s -= l[(size_t)(i * n + k)] * li[(size_t)(k * n + j)];
      li[(size_t)(i * n + j)] = s / l[(size_t)(i * n + i)];
    }
  }
  std::vector<double> inv((size_t)(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int64_t k = i; k < n; ++k) s += li[(size_t)(k * n + i)] * li[(size_t)(k * n + j)];
      inv[(size_t)(i * n + j)] = s;
      inv[(size_t)(j * n + i)] = s;
    }
  }
  return inv;
}

// Group parameters: the clipping ratio that minimizes the H-diagonal-weighted rounding error.
GroupParams search_params(const GroupCodec& codec, const float* w, int64_t len, const double* hdiag, int grid) {
  GroupParams best = codec.params(w, len);
  if (grid <= 0) return best;
  double best_err = -1.0;
  for (int i = 0; i <= grid; ++i) {
    const float c = 1.0f - 0.5f * (float)i / (float)grid;
    const GroupParams p = codec.params(w, len, c);
    double e = 0.0;
    for (int64_t j = 0; j < len; ++j) {
      const double d = (double)codec.dequantize(codec.quantize(w[j], p), p) - (double)w[j];
      e += hdiag[j] * d * d;
    }
    if (best_err < 0.0 || e < best_err) {
      best_err = e;
      best = p;
    }
  }
  return best;
}

}  // namespace

double output_error(const float* w, const float* q, int64_t rows, int64_t cols, const double* h) {
  double total = 0.0;
  std::vector<double> d((size_t)cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) d[(size_t)c] = (double)w[r * cols + c] - (double)q[r * cols + c];
    for (int64_t i = 0; i < cols; ++i) {
      if (d[(size_t)i] == 0.0) continue;
      double t = 0.0;
      const double* hi = h + i * cols;
      for (int64_t j = 0; j < cols; ++j) t += hi[j] * d[(size_t)j];
      total += d[(size_t)i] * t;
    }
  }
  return total;
}

Status gptq_quantize(const GroupCodec& codec, const float* w, int64_t rows, const double* h, const GptqOptions& opts, void* dst) {
  const int64_t n = codec.cols(), g = codec.group();
  // Column order; columns no calibration input ever reached ("dead") are quantized as zero.
  std::vector<int64_t> perm((size_t)n);
  std::iota(perm.begin(), perm.end(), 0);
  if (opts.act_order) std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return h[a * n + a] > h[b * n + b]; });
  std::vector<double> hp((size_t)(n * n));
  std::vector<bool> dead((size_t)n, false);
  double mean_diag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    dead[(size_t)i] = !(h[i * n + i] > 0.0);
    mean_diag += dead[(size_t)i] ? 1.0 : h[i * n + i];
  }
  mean_diag /= (double)n;
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) {
      const int64_t i = perm[(size_t)a], j = perm[(size_t)b];
      hp[(size_t)(a * n + b)] = (dead[(size_t)i] || dead[(size_t)j]) ? (i == j ? 1.0 : 0.0) : h[i * n + j];
    }
  // U: upper Cholesky factor of H^-1 (H^-1 = U^T U); more damping if H is numerically singular.
  std::vector<double> u;
  double damp = opts.damp;
  for (int attempt = 0;; ++attempt) {
    std::vector<double> a = hp;
    for (int64_t i = 0; i < n; ++i) a[(size_t)(i * n + i)] += damp * mean_diag;
    if (cholesky_lower(a, n)) {
      std::vector<double> inv = inverse_from_cholesky(a, n);
      if (cholesky_lower(inv, n)) {
        u.assign((size_t)(n * n), 0.0);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = i; j < n; ++j) u[(size_t)(i * n + j)] = inv[(size_t)(j * n + i)];
        break;
      }
    }
    if (attempt == 6) return error(ErrorCode::kUnsupported, "GPTQ: the calibration Hessian stays singular after damping");
    damp *= 10.0;
  }

  const int64_t n_groups = codec.n_groups();
  const int64_t block = std::max<int64_t>(1, (std::max<int64_t>(opts.block, g) + g - 1) / g) * g;
  std::vector<double> wp((size_t)(rows * n));  // working weights, permuted columns
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t a = 0; a < n; ++a) {
      const int64_t i = perm[(size_t)a];
      wp[(size_t)(r * n + a)] = dead[(size_t)i] ? 0.0 : (double)w[r * n + i];
    }
  std::vector<GroupParams> params((size_t)(rows * n_groups));
  std::vector<double> hdiag((size_t)n);  // in original column order
  for (int64_t i = 0; i < n; ++i) hdiag[(size_t)i] = dead[(size_t)i] ? 0.0 : h[i * n + i];
  if (opts.act_order) {  // static groups from the original weights
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < n_groups; ++k)
        params[(size_t)(r * n_groups + k)] = search_params(codec, w + r * n + k * g, codec.group_len(k), &hdiag[(size_t)(k * g)], opts.clip_grid);
  }
  std::vector<int> q((size_t)(rows * n));
  // Rows are independent given U: each thread takes a range of rows with its own error buffer.
  auto run_rows = [&](int64_t r0, int64_t r1) {
    std::vector<double> err((size_t)block);
    std::vector<float> tmp((size_t)g);
    for (int64_t r = r0; r < r1; ++r) {
      double* wr = &wp[(size_t)(r * n)];
      for (int64_t i1 = 0; i1 < n; i1 += block) {
        const int64_t i2 = std::min(n, i1 + block);
        for (int64_t a = i1; a < i2; ++a) {
          const int64_t i = perm[(size_t)a];
          if (!opts.act_order && a % g == 0) {  // group parameters from the weights as updated so far
            const int64_t len = codec.group_len(a / g);
            for (int64_t k = 0; k < len; ++k) tmp[(size_t)k] = (float)wr[a + k];
            params[(size_t)(r * n_groups + a / g)] = search_params(codec, tmp.data(), len, &hdiag[(size_t)a], opts.clip_grid);
          }
          const GroupParams& gp = params[(size_t)(r * n_groups + i / g)];
          const int code = codec.quantize((float)wr[a], gp);
          q[(size_t)(r * n + i)] = code;
          const double e = (wr[a] - (double)codec.dequantize(code, gp)) / u[(size_t)(a * n + a)];
          err[(size_t)(a - i1)] = e;
          const double* ua = &u[(size_t)(a * n)];
          for (int64_t b = a + 1; b < i2; ++b) wr[b] -= e * ua[b];
        }
        // Lazy batch: the block's errors reach the later columns in one pass.
        for (int64_t a = i1; a < i2; ++a) {
          const double e = err[(size_t)(a - i1)];
          if (e == 0.0) continue;
          const double* ua = &u[(size_t)(a * n)];
          for (int64_t b = i2; b < n; ++b) wr[b] -= e * ua[b];
        }
      }
    }
  };
  const int n_threads = (int)std::clamp<int64_t>(opts.n_threads, 1, std::max<int64_t>(1, rows));
  std::vector<std::thread> threads;
  for (int t = 1; t < n_threads; ++t) threads.emplace_back(run_rows, rows * t / n_threads, rows * (t + 1) / n_threads);
  run_rows(0, rows / n_threads);
  for (std::thread& t : threads) t.join();
  const size_t rb = row_bytes(traits(codec.type()), n);
  for (int64_t r = 0; r < rows; ++r)
    codec.encode_row(&q[(size_t)(r * n)], &params[(size_t)(r * n_groups)], static_cast<uint8_t*>(dst) + (size_t)r * rb);
  return Status::ok();
}

}  // namespace pocket
