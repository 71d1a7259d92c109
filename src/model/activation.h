// Feed-forward activations that are not in the kernel table: GeGLU (Gemma).
#pragma once

#include <cstdint>

namespace pocket {

// gate[i] = gelu_tanh(gate[i]) * up[i], with gelu evaluated as llama.cpp's CPU backend does: through a
// table of fp16 results indexed by the fp16 rounding of the input (0 below -10, the identity above 10),
// so Gemma's activations match the reference engine's bit for bit rather than to 1e-3.
void gelu_tanh_mul(float* gate, const float* up, int64_t n);

// The exact-arithmetic form, for the table's test: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
float gelu_tanh_exact(float x);

}  // namespace pocket
