// Drafters propose the tokens a target model is likely to generate next; speculative decoding
// (speculative.h) verifies them with one batched forward pass of the target.
//   ModelDrafter        a small model with the same vocabulary (a separate GGUF, a more strongly
//                       quantized copy of the target, or the target's first layers + its output head)
//   PromptLookupDrafter n-gram lookup in the context (prompt + generated text): free, no model
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/sequence.h"
#include "dtype/tensor_type.h"

namespace pocket {

class Drafter {
 public:
  virtual ~Drafter() = default;
  virtual std::string name() const = 0;
  // Sampling parameters of the generation (the draft samples with the same temperature and
  // truncation, without penalties) and whether to stop drafting when the draft's top probability
  // falls below p_min (0: never).
  virtual void configure(const SamplingParams& sp, float p_min) {}
  // Proposes up to max_tokens tokens to follow context (prompt + generated so far; its last token has
  // not been evaluated by the target yet). May propose fewer, or none.
  virtual Status propose(const std::vector<int32_t>& context, int max_tokens, Draft* out) = 0;
  // Whether drafting costs time comparable to a forward pass (false for lookup).
  virtual bool costly() const { return true; }
};

class ModelDrafter final : public Drafter {
 public:
  // The draft's vocabulary must equal the target's, token for token (clear error naming both files).
  static Result<std::unique_ptr<ModelDrafter>> create(std::unique_ptr<Engine> draft, const Engine& target, std::string label);
  std::string name() const override { return label_; }
  void configure(const SamplingParams& sp, float p_min) override;
  Status propose(const std::vector<int32_t>& context, int max_tokens, Draft* out) override;
  Engine& engine() { return *draft_; }
  // Drafts only among these token ids: the draft's output head shrinks to their rows, so a draft step
  // reads far fewer bytes (the head is most of a small model). Verification keeps the output exact:
  // greedy output is unchanged and speculative sampling stays exact (q simply has a smaller support).
  Status set_vocab_subset(std::vector<int32_t> ids);

 private:
  ModelDrafter(std::unique_ptr<Engine> draft, std::string label) : draft_(std::move(draft)), label_(std::move(label)) {}
  std::unique_ptr<Engine> draft_;
  std::string label_;
  std::unique_ptr<Sampler> sampler_;
  SamplingParams sp_;
  float p_min_ = 0.0f;
  std::vector<int32_t> cached_;  // tokens whose keys and values the draft's cache holds
  std::vector<int32_t> subset_;  // local -> global token id; empty: the whole vocabulary
  std::vector<uint8_t> head_bytes_;
  Matrix head_;
  ForwardOptions fo_;
  std::vector<float> logits_;
  Batch batch_;
};

class PromptLookupDrafter final : public Drafter {
 public:
  // Matches the last n tokens of the context (n from max_ngram down to min_ngram) against earlier
  // text and proposes what followed the most recent match.
  PromptLookupDrafter(int max_ngram = 3, int min_ngram = 1) : max_ngram_(max_ngram), min_ngram_(min_ngram) {}
  std::string name() const override { return "prompt lookup"; }
  Status propose(const std::vector<int32_t>& context, int max_tokens, Draft* out) override;
  bool costly() const override { return false; }

 private:
  int max_ngram_, min_ngram_;
};

// Error unless the two vocabularies are identical (size and every token's text).
Status check_same_vocab(const Engine& target, const std::string& target_name, const Engine& draft, const std::string& draft_name);

// Self-drafts made from the target's own file:
// its first n_layers layers with the shared final norm and output head;
Result<std::unique_ptr<ModelDrafter>> self_draft_layers(const std::string& target_path, const Engine& target, int n_layers, const EngineOptions& eo);
// a copy of it quantized (round to nearest) to `type` in memory (quantize_tensors: the bytes `pocket
// quantize` would write), the draft owning the quantized tensors and mapping the file for the rest.
Result<std::unique_ptr<ModelDrafter>> self_draft_quantized(const std::string& target_path, const Engine& target, TensorType type,
                                                           const EngineOptions& eo);

// What to draft with (the CLI's --draft, --lookup, --self-draft-layers, --self-draft-type); at most one.
struct DraftSpec {
  std::string model;       // a draft GGUF
  bool lookup = false;     // prompt lookup
  int lookup_ngram = 3;    // longest n-gram matched
  int self_layers = 0;     // > 0: the target's first layers
  std::string self_type;   // "q4_0", "q8_0", ...: a quantized copy of the target
  int vocab = 0;           // model drafts: draft among this many tokens only (0: all)
  std::string vocab_text;  // ... the most frequent in this text (else the lowest ids: merge order)
  bool any() const { return !model.empty() || lookup || self_layers > 0 || !self_type.empty(); }
};

// The n token ids most frequent in text (ties and the rest by id, i.e. the tokenizer's merge order),
// always including BOS/EOS/EOT.
std::vector<int32_t> rank_vocabulary(const Tokenizer& tok, const std::string& text, int n);

// The drafter the spec asks for, sharing the target's threads; nullptr when it asks for none.
Result<std::unique_ptr<Drafter>> make_drafter(const DraftSpec& spec, const std::string& target_path, const Engine& target, EngineOptions eo);

}  // namespace pocket
