// Constrained decoding: a grammar compiled against a vocabulary, and the matcher a sequence samples
// through. The matcher is a pushdown automaton over code points whose stacks are interned (shared
// tails, one id each), so a grammar state is a small sorted set of stack ids, itself interned; code
// point and byte transitions are memoised per state. Which tokens may come next is then a walk of
// the token's bytes through cached transitions (one token), or of the vocabulary's byte trie pruned
// at the first dead byte (every token: the mask, cached per state). UTF-8 sequences split across
// tokens are carried in the state.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pocket/status.h"
#include "sampling/gbnf.h"

namespace pocket {

// The vocabulary as the grammar sees it: each token's bytes; control tokens never match text.
struct GrammarVocab {
  std::vector<std::string> bytes;   // token id -> the text it stands for
  std::vector<bool> control;        // never allowed (BOS, chat markers, ...)
  std::vector<int32_t> end_tokens;  // allowed exactly when the grammar is complete (EOS, EOT)
  // The byte trie over every non-control, non-empty token (built once per vocabulary), laid out in
  // depth-first order: a node's subtree is [its index, end), so a walk is one pass over the array that
  // jumps past a dead node's subtree. Node 0 is the root (depth 0).
  struct TrieNode {
    int32_t end = 0;                     // one past the last node of this subtree
    int32_t tok_begin = 0, tok_end = 0;  // tokens whose bytes end here: trie_tokens[tok_begin, tok_end)
    uint16_t depth = 0;
    uint8_t byte = 0;
  };
  std::vector<TrieNode> trie;
  std::vector<int32_t> trie_tokens;
  size_t max_depth = 0;
  static std::shared_ptr<const GrammarVocab> build(std::vector<std::string> bytes, std::vector<bool> control, std::vector<int32_t> end_tokens);
};

class Grammar {
 public:
  // text: GBNF; errors name the line/column or the rule (field "grammar").
  static Result<std::shared_ptr<Grammar>> compile(const std::string& text, std::shared_ptr<const GrammarVocab> vocab);
  const GrammarVocab& vocab() const { return *vocab_; }
  const std::string& source() const { return source_; }

  // The state before any token; kDead for a state from which nothing can follow.
  static constexpr int32_t kDead = -1;
  int32_t initial_state();
  // The state after `token`, or kDead when the grammar does not allow it there.
  int32_t advance(int32_t state, int32_t token);
  bool allows(int32_t state, int32_t token) { return advance(state, token) != kDead; }
  // One flag per token id: allowed next (cached per state). A state limit reached while building it
  // gives an all-zero mask and *error.
  std::shared_ptr<const std::vector<uint8_t>> mask(int32_t state, std::string* error = nullptr);
  bool mask_cached(int32_t state);  // mask(state) would be a lookup, not a walk
  bool complete(int32_t state);     // the end token is allowed

  // Counters for the benchmark and the tests.
  struct Stats {
    size_t stacks = 0, states = 0, byte_states = 0, masks_built = 0;
  };
  Stats stats();

 private:
  struct Elem {
    enum : uint8_t { kEnd, kChars, kRule } type;
    uint32_t index;
  };
  struct ByteState {
    int32_t gstate;
    uint8_t n_pending = 0, n_needed = 0;
    uint8_t pending[4] = {};
  };
  Grammar() = default;
  int32_t node(uint32_t pos, int32_t parent);
  void closure(int32_t stack, std::vector<int32_t>* tops, bool* accepting, int depth);
  const std::vector<int32_t>& successors(int32_t stack, bool* accepting);
  int32_t intern_state(std::vector<int32_t> tops, bool accepting);
  int32_t cp_step(int32_t gstate, uint32_t cp);
  int32_t intern_byte_state(const ByteState& b);
  int32_t byte_step(int32_t bstate, uint8_t byte);
  // byte_step through the dense table when the transition is known (the mask walk's inner loop).
  int32_t byte_step_fast(int32_t bstate, uint8_t byte) {
    if ((size_t)bstate < byte_next_.size() && byte_next_[(size_t)bstate]) {
      const int32_t r = (*byte_next_[(size_t)bstate])[byte];
      if (r != kUnknown) return r;
    }
    return byte_step(bstate, byte);
  }
  int32_t token_step(int32_t bstate, int32_t token);
  void check_growth() const;

  std::string source_;
  std::shared_ptr<const GrammarVocab> vocab_;
  std::vector<Elem> elems_;                  // alternatives laid out flat, each ended by kEnd
  std::vector<std::vector<uint32_t>> alts_;  // rule -> first element of each alternative
  std::vector<CharClass> classes_;
  uint32_t root_ = 0;

  std::mutex mu_;                                    // the caches below are shared by every sequence using this grammar
  std::vector<std::pair<uint32_t, int32_t>> nodes_;  // stack id -> (element, parent stack); id 0 is the empty stack
  std::unordered_map<uint64_t, int32_t> node_ids_;
  struct Successors {
    bool known = false, accepting = false;
    std::vector<int32_t> tops;
  };
  std::vector<Successors> succ_;  // stack id -> the closure after its top character matched
  struct State {
    std::vector<int32_t> tops;  // stacks whose top is a character class, sorted
    bool accepting = false;
    bool non_ascii = false;              // some top accepts a code point >= 0x80 (a token may end inside one)
    std::array<uint64_t, 2> ascii = {};  // bit c: some top accepts ASCII code point c (else c is dead here)
  };
  std::vector<State> states_;
  std::unordered_map<std::string, int32_t> state_ids_;
  std::unordered_map<uint64_t, int32_t> cp_next_;
  std::vector<ByteState> bstates_;
  std::unordered_map<std::string, int32_t> bstate_ids_;
  static constexpr int32_t kUnknown = -2;
  std::vector<std::unique_ptr<std::array<int32_t, 256>>> byte_next_;  // byte state -> next per byte
  std::unordered_map<int32_t, std::shared_ptr<const std::vector<uint8_t>>> masks_;
  int32_t initial_ = -2;
  size_t masks_built_ = 0;
};

// One sequence's position in a grammar.
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<Grammar> g) : g_(std::move(g)), state_(g_->initial_state()) {}
  bool allows(int32_t token) const { return g_->allows(state_, token); }
  // One flag per token id: allowed here (all zero when nothing is; then *error says why when a limit
  // was the cause).
  std::shared_ptr<const std::vector<uint8_t>> allowed(std::string* error = nullptr) const { return g_->mask(state_, error); }
  bool mask_cached() const { return g_->mask_cached(state_); }
  // Moves past a chosen token; an error when the grammar does not allow it (the caller checked).
  Status accept(int32_t token);
  bool complete() const { return g_->complete(state_); }
  void reset() { state_ = g_->initial_state(); }

 private:
  std::shared_ptr<Grammar> g_;
  int32_t state_;
};

}  // namespace pocket
