// Flags for speculative decoding, shared by `pocket run` and `pocket bench`.
#include "commands.h"

namespace pocket::cli {

void add_draft_flags(CLI::App* sub, DraftFlags* f) {
  sub->add_option("--draft", f->spec.model, "speculative decoding with this draft model (same vocabulary)")->check(CLI::ExistingFile);
  sub->add_flag("--lookup", f->spec.lookup, "speculative decoding with prompt-lookup drafts (n-grams of the context)");
  sub->add_option("--lookup-ngram", f->spec.lookup_ngram, "longest n-gram prompt lookup matches")->check(CLI::Range(1, 16));
  sub->add_option("--self-draft-layers", f->spec.self_layers, "draft with the target's first N layers and its output head")
      ->check(CLI::Range(1, 1 << 16));
  sub->add_option("--self-draft-type", f->spec.self_type, "draft with a copy of the target quantized to this type (q4_0, q8_0, ...)");
  sub->add_option("--draft-vocab", f->spec.vocab, "model drafts: draft among the N most frequent tokens only (a smaller draft head)")
      ->check(CLI::Range(0, 1 << 24));
  sub->add_option("--draft-vocab-text", f->spec.vocab_text,
                  "text whose token frequencies rank --draft-vocab (default N 4096; without it: token id order)")
      ->check(CLI::ExistingFile);
  sub->add_option("--draft-max", f->opts.draft_max, "draft tokens per verification at most")->check(CLI::Range(1, 32));
  sub->add_option("--draft-p-min", f->opts.p_min, "stop drafting when the draft's top probability is below this")->check(CLI::Range(0.0f, 0.99f));
  sub->add_flag("--no-adaptive", f->no_adaptive, "always draft --draft-max tokens (no adaptive length, never switches off)");
}

}  // namespace pocket::cli
