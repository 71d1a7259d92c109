// Byte-level BPE (GPT-2 style): words from the family's pre-tokenizer are mapped byte -> printable
// code point, then adjacent symbols are merged by lowest merge rank.
#include <queue>

#include "tokenizer/bpe_bytes.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace pocket {
namespace {

struct Symbol {
  int prev, next;
  size_t off, n;  // byte range in the encoded word
};

struct Bigram {
  int left, right;
  int32_t rank;
  size_t size;
};

struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);  // lowest rank first, then leftmost
  }
};

}  // namespace

std::vector<std::string> bpe_merge(const Vocab& v, const std::string& word) {
  std::vector<Symbol> syms;
  for (size_t off = 0; off < word.size();) {
    const size_t n = utf8_char_len(word.data(), word.size(), off);
    syms.push_back({(int)syms.size() - 1, (int)syms.size() + 1, off, n});
    off += n;
  }
  if (syms.empty()) return {};
  syms.back().next = -1;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  std::string key;
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const Symbol& a = syms[(size_t)l];
    const Symbol& b = syms[(size_t)r];
    key.assign(word, a.off, a.n).append(1, ' ').append(word, b.off, b.n);
    auto it = v.merge_rank.find(key);
    if (it == v.merge_rank.end()) return;
    queue.push({l, r, it->second, a.n + b.n});
  };
  for (int i = 1; i < (int)syms.size(); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = syms[(size_t)b.left];
    Symbol& r = syms[(size_t)b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms[(size_t)r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  std::vector<std::string> pieces;
  for (int i = 0; i != -1; i = syms[(size_t)i].next) pieces.push_back(word.substr(syms[(size_t)i].off, syms[(size_t)i].n));
  return pieces;
}

void Tokenizer::bpe_encode(const std::string& text, std::vector<int32_t>* out) const {
  for (const std::string& raw_word : pre_->split(text)) {
    const std::string word = bpe_bytes_encode(raw_word);
    if (pre_->ignore_merges()) {
      const int32_t id = vocab_.find(word);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
    }
    for (const std::string& piece : bpe_merge(vocab_, word)) {
      const int32_t id = vocab_.find(piece);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
      // Not a token: emit it character by character (every encoded byte is a token in byte-level vocabularies).
      for (size_t k = 0; k < piece.size();) {
        const size_t n = std::min(utf8_len((unsigned char)piece[k]), piece.size() - k);
        const int32_t cid = vocab_.find(piece.substr(k, n));
        if (cid >= 0)
          out->push_back(cid);
        else if (vocab_.unk >= 0)
          out->push_back(vocab_.unk);
        k += n;
      }
    }
  }
}

}  // namespace pocket
