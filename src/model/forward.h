// The forward pass of a Llama-family decoder over a batch.
#pragma once

#include <functional>
#include <vector>

#include "kernels/kernel_choice.h"
#include "kernels/kernel_table.h"
#include "kv/kv_cache.h"
#include "model/batch.h"
#include "model/model_weights.h"
#include "model/scratch.h"
#include "runtime/thread_pool.h"

namespace pocket {

// Hook: sees every named intermediate ("blk.3.attn_out", "result_norm", ...) of every entry; used to
// debug against other engines and by quantization calibration, which reads the input of every linear
// layer (blk.L.attn_norm, attn_out, ffn_norm, ffn_act).
using ActivationHook = std::function<void(const std::string& name, int entry, const float* data, int64_t n)>;

struct ForwardOptions {
  const KernelTable* kernels = nullptr;  // nullptr: kernels()
  // Decode variant per weight type and row width; nullptr: kernel_choice(table), measured once per
  // process. Tests pass forced_kernel_choice(...) to compare the variants (their logits are identical).
  const KernelChoice* kernel_choice = nullptr;
  const ActivationHook* hook = nullptr;
  // Replaces the output head (same width): logits rows then have head->rows entries. A speculative
  // draft computes logits only for a subset of the vocabulary this way.
  const Matrix* head = nullptr;
};

// Runs the batch. Each sequence's entries must continue it: positions seq_len(seq), seq_len(seq)+1, ...
// logits receives n_logits() rows of n_vocab floats, in batch order of the entries that want them.
Status forward(const Model& model, const Batch& batch, KvCache& kv, Scratch& scratch, ThreadPool& pool, std::vector<float>* logits,
               const ForwardOptions& opts = {});

}  // namespace pocket
