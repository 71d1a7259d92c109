// SentencePiece-style tokenization: start from UTF-8 characters and repeatedly merge the adjacent
// pair whose concatenation is the highest-scoring vocabulary piece; pieces that are not in the
// vocabulary fall back to <0xXX> byte tokens.
#include <queue>

#include "tokenizer/bpe_merge.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace pocket {
namespace {

struct Symbol {
  int prev, next;
  const char* text;
  size_t n;
};

struct Bigram {
  int left, right;
  float score;
  size_t size;
};

struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);  // best score first, then leftmost
  }
};

class SpmSession {
 public:
  SpmSession(const Vocab& v, std::vector<int32_t>* out) : v_(v), out_(out) {}

  void run(const std::string& text) {
    for (size_t off = 0; off < text.size();) {
      const size_t n = utf8_char_len(text.data(), text.size(), off);
      syms_.push_back({(int)syms_.size() - 1, (int)syms_.size() + 1, text.data() + off, n});
      off += n;
    }
    if (syms_.empty()) return;
    syms_.back().next = -1;
    for (int i = 1; i < (int)syms_.size(); ++i) try_add(i - 1, i);
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& l = syms_[(size_t)b.left];
      Symbol& r = syms_[(size_t)b.right];
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) syms_[(size_t)r.next].prev = b.left;
      try_add(l.prev, b.left);
      try_add(b.left, l.next);
    }
    for (int i = 0; i != -1; i = syms_[(size_t)i].next) resegment(syms_[(size_t)i].text, syms_[(size_t)i].n);
  }

 private:
  void try_add(int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string s(syms_[(size_t)left].text, syms_[(size_t)left].n + syms_[(size_t)right].n);
    const int32_t id = v_.find(s);
    if (id < 0 || (size_t)id >= v_.scores.size()) return;
    queue_.push({left, right, v_.scores[(size_t)id], s.size()});
  }

  // A final symbol is either a merge result (always a vocabulary piece) or a single character,
  // which falls back to its <0xXX> byte tokens when it is not a piece itself.
  void resegment(const char* text, size_t n) {
    const int32_t id = v_.find(std::string(text, n));
    if (id >= 0) {
      out_->push_back(id);
      return;
    }
    for (size_t j = 0; j < n; ++j) {
      const int32_t b = v_.byte_tokens[(unsigned char)text[j]];
      if (b >= 0)
        out_->push_back(b);
      else if (v_.unk >= 0)
        out_->push_back(v_.unk);
    }
  }

  const Vocab& v_;
  std::vector<int32_t>* out_;
  std::vector<Symbol> syms_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
};

}  // namespace

void Tokenizer::spm_encode(const std::string& text, std::vector<int32_t>* out) const {
  std::string escaped;
  escaped.reserve(text.size() + 8);
  for (char c : text) {
    if (c == ' ')
      escaped += "\xe2\x96\x81";  // U+2581, SentencePiece's space
    else
      escaped += c;
  }
  if (vocab_.merge_rank.empty()) {
    SpmSession(vocab_, out).run(escaped);
    return;
  }
  // Merge-ranked vocabulary (converted from a tokenizer.json BPE): apply the merges exactly; pieces
  // that are not tokens fall back to <0xXX> bytes, else to one <unk> per run of unknowns (fuse_unk).
  bool prev_unk = false;
  for (const std::string& piece : bpe_merge(vocab_, escaped)) {
    const int32_t id = vocab_.find(piece);
    if (id >= 0) {
      out->push_back(id);
      prev_unk = false;
      continue;
    }
    for (unsigned char b : piece) {
      if (vocab_.byte_tokens[b] >= 0) {
        out->push_back(vocab_.byte_tokens[b]);
        prev_unk = false;
      } else if (vocab_.unk >= 0 && !prev_unk) {
        out->push_back(vocab_.unk);
        prev_unk = true;
        break;
      } else {
        break;
      }
    }
  }
}

}  // namespace pocket
