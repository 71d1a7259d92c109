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
  // A linked trie first (children as sibling lists), then laid out depth first.
  struct Linked {
    int32_t first_child = -1, next_sibling = -1;
    uint8_t byte = 0;
    std::vector<int32_t> tokens;
  };
  std::vector<Linked> linked(1);
  std::unordered_map<uint64_t, int32_t> child;
  for (size_t t = 0; t < v->bytes.size(); ++t) {
    if (v->control[t] || v->bytes[t].empty()) continue;
    if (std::find(v->end_tokens.begin(), v->end_tokens.end(), (int32_t)t) != v->end_tokens.end()) continue;
    int32_t n = 0;
    for (unsigned char b : v->bytes[t]) {
      const uint64_t key = ((uint64_t)n << 8) | b;
      auto it = child.find(key);
      if (it == child.end()) {
        const int32_t id = (int32_t)linked.size();
        linked.emplace_back();
        linked.back().byte = b;
        linked.back().next_sibling = linked[(size_t)n].first_child;
        linked[(size_t)n].first_child = id;
        it = child.emplace(key, id).first;
      }
      n = it->second;
    }
    linked[(size_t)n].tokens.push_back((int32_t)t);
  }
  v->trie.reserve(linked.size());
  std::vector<std::pair<int32_t, int32_t>> todo{{0, -1}};  // (linked node, its parent's flat index)
  std::vector<int32_t> parent_of;
  while (!todo.empty()) {
    const auto [n, parent] = todo.back();
    todo.pop_back();
    const int32_t flat = (int32_t)v->trie.size();
    GrammarVocab::TrieNode node;
    node.byte = linked[(size_t)n].byte;
    node.depth = parent < 0 ? 0 : (uint16_t)std::min<int>(v->trie[(size_t)parent].depth + 1, 65535);
    node.tok_begin = (int32_t)v->trie_tokens.size();
    v->trie_tokens.insert(v->trie_tokens.end(), linked[(size_t)n].tokens.begin(), linked[(size_t)n].tokens.end());
    node.tok_end = (int32_t)v->trie_tokens.size();
    v->trie.push_back(node);
    parent_of.push_back(parent);
    v->max_depth = std::max<size_t>(v->max_depth, node.depth);
    for (int32_t c = linked[(size_t)n].first_child; c >= 0; c = linked[(size_t)c].next_sibling) todo.push_back({c, flat});
  }
  // Subtree ends: a node's subtree ends where the next node at its depth or shallower begins.
  for (size_t i = v->trie.size(); i-- > 0;) v->trie[i].end = (int32_t)i + 1;
  for (size_t i = v->trie.size(); i-- > 1;) {
    const int32_t p = parent_of[i];
    v->trie[(size_t)p].end = std::max(v->trie[(size_t)p].end, v->trie[i].end);
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
  for (int32_t t : tops) {
    const CharClass& cc = classes_[elems_[nodes_[(size_t)t].first].index];
    s.non_ascii = s.non_ascii || cc.matches_non_ascii();
    std::array<uint64_t, 2> bits = {};
    for (const auto& [lo, hi] : cc.ranges)
      for (uint32_t c = lo; c <= std::min<uint32_t>(hi, 127); ++c) bits[c >> 6] |= uint64_t(1) << (c & 63);
    if (cc.negated) bits = {~bits[0], ~bits[1]};
    s.ascii[0] |= bits[0];
    s.ascii[1] |= bits[1];
  }
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
      // No top accepts it: dead without a transition (most bytes from most states).
      const bool possible = (states_[(size_t)b.gstate].ascii[byte >> 6] >> (byte & 63)) & 1;
      const int32_t g = possible ? cp_step(b.gstate, byte) : kDead;
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
    // One pass over the depth-first trie: the byte state at each depth of the current path; a dead
    // node's subtree is skipped whole.
    const std::vector<GrammarVocab::TrieNode>& trie = vocab_->trie;
    std::vector<int32_t> at_depth(vocab_->max_depth + 1);
    at_depth[0] = state;
    for (size_t i = 1; i < trie.size();) {
      const GrammarVocab::TrieNode& nd = trie[i];
      const int32_t next = byte_step_fast(at_depth[nd.depth - 1u], nd.byte);
      if (next == kDead) {
        i = (size_t)nd.end;
        continue;
      }
      at_depth[nd.depth] = next;
      for (int32_t k = nd.tok_begin; k < nd.tok_end; ++k) (*m)[(size_t)vocab_->trie_tokens[(size_t)k]] = 1;
      ++i;
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

bool Grammar::mask_cached(int32_t state) {
  std::lock_guard<std::mutex> lock(mu_);
  return state < 0 || masks_.count(state) > 0;
}

Grammar::Stats Grammar::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return {nodes_.size(), states_.size(), bstates_.size(), masks_built_};
}

Status GrammarMatcher::accept(int32_t token) {
  const int32_t next = g_->advance(state_, token);
  if (next == Grammar::kDead)
    return Status(ErrorCode::kInvalidArgument, "grammar: token " + std::to_string(token) + " is not allowed here", "grammar");
  state_ = next;
  return Status::ok();
}

}  // namespace pocket
