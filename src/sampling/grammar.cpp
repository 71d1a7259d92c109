#include "sampling/grammar.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace pocket {

namespace {

// Bounds on what one grammar may intern: a grammar and a model that keep opening new states (deep
// nesting, long free strings in a recursive rule) end the generation with an error instead of
// taking the machine's memory.
constexpr size_t kMaxStacks = 4'000'000, kMaxStates = 100'000, kMaxMasks = 256;
constexpr int kMaxClosureDepth = 2000;

struct GrammarLimit : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string state_key(const std::vector<int32_t>& tops, bool accepting) {
  std::string k(tops.size() * sizeof(int32_t) + 1, '\0');
  if (!tops.empty()) std::memcpy(k.data(), tops.data(), tops.size() * sizeof(int32_t));
  k.back() = accepting ? 1 : 0;
  return k;
}

int utf8_length(uint8_t lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

}  // namespace

std::shared_ptr<const GrammarVocab> GrammarVocab::build(std::vector<std::string> bytes, std::vector<bool> control, std::vector<int32_t> end_tokens) {
  auto v = std::make_shared<GrammarVocab>();
  v->bytes = std::move(bytes);
  v->control = std::move(control);
  v->control.resize(v->bytes.size(), false);
  v->end_tokens = std::move(end_tokens);
  v->trie.emplace_back();  // the root
  std::unordered_map<uint64_t, int32_t> child;
  for (size_t t = 0; t < v->bytes.size(); ++t) {
    if (v->control[t] || v->bytes[t].empty()) continue;
    if (std::find(v->end_tokens.begin(), v->end_tokens.end(), (int32_t)t) != v->end_tokens.end()) continue;
    int32_t n = 0;
    for (unsigned char b : v->bytes[t]) {
      const uint64_t key = ((uint64_t)n << 8) | b;
      auto it = child.find(key);
      if (it == child.end()) {
        const int32_t id = (int32_t)v->trie.size();
        v->trie.emplace_back();
        v->trie.back().byte = b;
        v->trie.back().next_sibling = v->trie[(size_t)n].first_child;
        v->trie[(size_t)n].first_child = id;
        it = child.emplace(key, id).first;
      }
      n = it->second;
    }
    v->trie[(size_t)n].tokens.push_back((int32_t)t);
  }
  return v;
}

Result<std::shared_ptr<Grammar>> Grammar::compile(const std::string& text, std::shared_ptr<const GrammarVocab> vocab) {
  auto rules = parse_gbnf(text);
  if (!rules) return rules.status();
  const GrammarRules& r = rules.value();
  std::shared_ptr<Grammar> g(new Grammar());
  g->source_ = text;
  g->vocab_ = std::move(vocab);
  g->classes_ = r.classes;
  g->root_ = r.root;
  g->alts_.resize(r.alternatives.size());
  for (size_t rule = 0; rule < r.alternatives.size(); ++rule) {
    for (const auto& alt : r.alternatives[rule]) {
      g->alts_[rule].push_back((uint32_t)g->elems_.size());
      for (const GrammarSymbol& s : alt) g->elems_.push_back({s.is_rule ? Elem::kRule : Elem::kChars, s.index});
      g->elems_.push_back({Elem::kEnd, 0});
    }
  }
  g->nodes_.push_back({0, 0});  // the empty stack: the grammar is complete
  g->succ_.emplace_back();
  std::lock_guard<std::mutex> lock(g->mu_);
  try {
    std::vector<int32_t> tops;
    bool accepting = false;
    for (uint32_t a : g->alts_[g->root_]) g->closure(g->node(a, 0), &tops, &accepting, 0);
    const int32_t s = g->intern_state(std::move(tops), accepting);
    ByteState b;
    b.gstate = s;
    g->initial_ = g->intern_byte_state(b);
  } catch (const GrammarLimit& e) { return Status(ErrorCode::kInvalidArgument, std::string("grammar: ") + e.what(), "grammar"); }
  return g;
}

void Grammar::check_growth() const {
  if (nodes_.size() > kMaxStacks) throw GrammarLimit("more than " + std::to_string(kMaxStacks) + " parser stacks (nesting too deep?)");
  if (states_.size() > kMaxStates || bstates_.size() > kMaxStates) throw GrammarLimit("more than " + std::to_string(kMaxStates) + " parser states");
}

int32_t Grammar::node(uint32_t pos, int32_t parent) {
  const uint64_t key = ((uint64_t)pos << 32) | (uint32_t)parent;
  auto it = node_ids_.find(key);
  if (it != node_ids_.end()) return it->second;
  check_growth();
  const int32_t id = (int32_t)nodes_.size();
  nodes_.push_back({pos, parent});
  succ_.emplace_back();
  node_ids_.emplace(key, id);
  return id;
}

void Grammar::closure(int32_t stack, std::vector<int32_t>* tops, bool* accepting, int depth) {
  if (depth > kMaxClosureDepth) throw GrammarLimit("rules nest deeper than " + std::to_string(kMaxClosureDepth) + " without a character");
  if (stack == 0) {
    *accepting = true;
    return;
  }
  const auto [pos, parent] = nodes_[(size_t)stack];
  const Elem e = elems_[pos];
  if (e.type == Elem::kEnd) return closure(parent, tops, accepting, depth + 1);
  if (e.type == Elem::kChars) {
    tops->push_back(stack);
    return;
  }
  const int32_t cont = node(pos + 1, parent);
  for (uint32_t a : alts_[e.index]) closure(node(a, cont), tops, accepting, depth + 1);
}

const std::vector<int32_t>& Grammar::successors(int32_t stack, bool* accepting) {
  if (!succ_[(size_t)stack].known) {
    std::vector<int32_t> tops;
    bool acc = false;
    const auto [pos, parent] = nodes_[(size_t)stack];
    closure(node(pos + 1, parent), &tops, &acc, 0);
    Successors& s = succ_[(size_t)stack];  // node() may have grown succ_: take the reference after
    s.tops = std::move(tops);
    s.accepting = acc;
    s.known = true;
  }
  *accepting = succ_[(size_t)stack].accepting;
  return succ_[(size_t)stack].tops;
}

int32_t Grammar::intern_state(std::vector<int32_t> tops, bool accepting) {
  std::sort(tops.begin(), tops.end());
  tops.erase(std::unique(tops.begin(), tops.end()), tops.end());
  const std::string key = state_key(tops, accepting);
  auto it = state_ids_.find(key);
  if (it != state_ids_.end()) return it->second;
  check_growth();
  State s;
  s.accepting = accepting;
  for (int32_t t : tops) s.non_ascii = s.non_ascii || classes_[elems_[nodes_[(size_t)t].first].index].matches_non_ascii();
  s.tops = std::move(tops);
  const int32_t id = (int32_t)states_.size();
  states_.push_back(std::move(s));
  state_ids_.emplace(key, id);
  return id;
}

int32_t Grammar::cp_step(int32_t gstate, uint32_t cp) {
  const uint64_t key = ((uint64_t)gstate << 21) | cp;
  auto it = cp_next_.find(key);
  if (it != cp_next_.end()) return it->second;
  std::vector<int32_t> next;
  bool accepting = false;
  const std::vector<int32_t> tops = states_[(size_t)gstate].tops;  // copied: interning below may grow states_
  for (int32_t s : tops) {
    if (!classes_[elems_[nodes_[(size_t)s].first].index].matches(cp)) continue;
    bool acc = false;
    const std::vector<int32_t>& succ = successors(s, &acc);
    next.insert(next.end(), succ.begin(), succ.end());
    accepting = accepting || acc;
  }
  const int32_t r = next.empty() && !accepting ? kDead : intern_state(std::move(next), accepting);
  cp_next_.emplace(key, r);
  return r;
}

int32_t Grammar::intern_byte_state(const ByteState& b) {
  std::string key(reinterpret_cast<const char*>(&b.gstate), sizeof b.gstate);
  key += (char)b.n_pending;
  key += (char)b.n_needed;
  key.append(reinterpret_cast<const char*>(b.pending), b.n_pending);
  auto it = bstate_ids_.find(key);
  if (it != bstate_ids_.end()) return it->second;
  check_growth();
  const int32_t id = (int32_t)bstates_.size();
  bstates_.push_back(b);
  bstate_ids_.emplace(key, id);
  return id;
}

int32_t Grammar::byte_step(int32_t bstate, uint8_t byte) {
  // A dense table of 256 next states per byte state (kUnknown until computed): the trie walk of a
  // mask does one lookup per trie node.
  if ((size_t)bstate >= byte_next_.size()) byte_next_.resize((size_t)bstate + 1);
  auto& table = byte_next_[(size_t)bstate];
  if (!table) {
    table = std::make_unique<std::array<int32_t, 256>>();
    table->fill(kUnknown);
  }
  if ((*table)[byte] != kUnknown) return (*table)[byte];
  ByteState b = bstates_[(size_t)bstate];
  int32_t r = kDead;
  if (b.n_needed == 0) {
    if (byte < 0x80) {
      const int32_t g = cp_step(b.gstate, byte);
      if (g != kDead) r = intern_byte_state(ByteState{g});
    } else if (const int n = utf8_length(byte); n > 0 && states_[(size_t)b.gstate].non_ascii) {
      b.n_pending = 1;
      b.n_needed = (uint8_t)(n - 1);
      b.pending[0] = byte;
      r = intern_byte_state(b);
    }
  } else if ((byte & 0xC0) == 0x80) {
    b.pending[b.n_pending++] = byte;
    if (--b.n_needed > 0) {
      r = intern_byte_state(b);
    } else {
      const uint8_t lead = b.pending[0];
      uint32_t cp = b.n_pending == 2 ? (lead & 0x1F) : b.n_pending == 3 ? (lead & 0x0F) : (lead & 0x07);
      for (int k = 1; k < b.n_pending; ++k) cp = (cp << 6) | (b.pending[k] & 0x3F);
      const bool overlong = (b.n_pending == 3 && cp < 0x800) || (b.n_pending == 4 && (cp < 0x10000 || cp > 0x10FFFF));
      if (!overlong && !(cp >= 0xD800 && cp < 0xE000)) {
        const int32_t g = cp_step(b.gstate, cp);
        if (g != kDead) r = intern_byte_state(ByteState{g});
      }
    }
  }
  byte_next_[(size_t)bstate]->at(byte) = r;  // (re-indexed: interning above may have grown byte_next_)
  return r;
}

int32_t Grammar::token_step(int32_t bstate, int32_t token) {
  for (unsigned char c : vocab_->bytes[(size_t)token]) {
    bstate = byte_step(bstate, c);
    if (bstate == kDead) return kDead;
  }
  return bstate;
}

int32_t Grammar::initial_state() { return initial_; }

bool Grammar::complete(int32_t state) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state < 0) return false;
  const ByteState& b = bstates_[(size_t)state];
  return b.n_needed == 0 && states_[(size_t)b.gstate].accepting;
}

int32_t Grammar::advance(int32_t state, int32_t token) {
  if (state < 0 || token < 0 || (size_t)token >= vocab_->bytes.size()) return kDead;
  const bool is_end = std::find(vocab_->end_tokens.begin(), vocab_->end_tokens.end(), token) != vocab_->end_tokens.end();
  if (is_end) return complete(state) ? state : kDead;
  if (vocab_->control[(size_t)token] || vocab_->bytes[(size_t)token].empty()) return kDead;
  std::lock_guard<std::mutex> lock(mu_);
  try {
    return token_step(state, token);
  } catch (const GrammarLimit&) {
    return kDead;  // the mask reports the limit
  }
}

std::shared_ptr<const std::vector<uint8_t>> Grammar::mask(int32_t state, std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = masks_.find(state);
  if (it != masks_.end()) return it->second;
  auto m = std::make_shared<std::vector<uint8_t>>(vocab_->bytes.size(), 0);
  if (state < 0) return m;
  try {
    const ByteState& b = bstates_[(size_t)state];
    if (b.n_needed == 0 && states_[(size_t)b.gstate].accepting)
      for (int32_t t : vocab_->end_tokens) (*m)[(size_t)t] = 1;
    std::vector<std::pair<int32_t, int32_t>> todo{{0, state}};  // (trie node, byte state)
    while (!todo.empty()) {
      const auto [n, bs] = todo.back();
      todo.pop_back();
      for (int32_t c = vocab_->trie[(size_t)n].first_child; c >= 0; c = vocab_->trie[(size_t)c].next_sibling) {
        const int32_t next = byte_step(bs, vocab_->trie[(size_t)c].byte);
        if (next == kDead) continue;
        for (int32_t t : vocab_->trie[(size_t)c].tokens) (*m)[(size_t)t] = 1;
        todo.push_back({c, next});
      }
    }
  } catch (const GrammarLimit& e) {
    if (error) *error = std::string("grammar: ") + e.what();
    return std::make_shared<std::vector<uint8_t>>(vocab_->bytes.size(), 0);
  }
  if (masks_.size() >= kMaxMasks) masks_.clear();
  masks_.emplace(state, m);
  ++masks_built_;
  return m;
}

Grammar::Stats Grammar::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return {nodes_.size(), states_.size(), bstates_.size(), masks_built_};
}

bool GrammarMatcher::mask(float* logits, int32_t n_vocab, std::string* error) const {
  const auto m = g_->mask(state_, error);
  bool any = false;
  const int32_t n = std::min<int32_t>(n_vocab, (int32_t)m->size());
  for (int32_t i = 0; i < n; ++i) {
    if ((*m)[(size_t)i])
      any = true;
    else
      logits[i] = -INFINITY;
  }
  for (int32_t i = n; i < n_vocab; ++i) logits[i] = -INFINITY;
  return any;
}

Status GrammarMatcher::accept(int32_t token) {
  const int32_t next = g_->advance(state_, token);
  if (next == Grammar::kDead)
    return Status(ErrorCode::kInvalidArgument, "grammar: token " + std::to_string(token) + " is not allowed here", "grammar");
  state_ = next;
  return Status::ok();
}

}  // namespace pocket
