#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstdlib>

#include "tokenizer/bpe_bytes.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode_text.h"
#include "tokenizer/utf8.h"

namespace pocket {

Tokenizer::Tokenizer(Vocab v) : vocab_(std::move(v)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(Vocab vocab) {
  std::unique_ptr<Tokenizer> t(new Tokenizer(std::move(vocab)));
  if (t->vocab_.kind == TokenizerKind::kBpe) { POCKET_ASSIGN_OR_RETURN(t->pre_, PreTokenizer::create(t->vocab_.pre)); }
  for (int32_t i = 0; i < t->vocab_.n_tokens(); ++i) {
    const TokenAttr a = t->vocab_.attrs[(size_t)i];
    const std::string& text = t->vocab_.tokens[(size_t)i];
    if (text.empty()) continue;
    if (a == TokenAttr::kControl || a == TokenAttr::kUserDefined || a == TokenAttr::kUnknown) t->all_texts_.add(text, i);
    if (a == TokenAttr::kUserDefined) t->user_texts_.add(text, i);
  }
  return t;
}

void Tokenizer::TokenTexts::add(const std::string& text, int32_t token) {
  if (!id.emplace(text, token).second) return;  // the lowest id of a repeated text wins
  std::vector<size_t>& lens = lengths[(unsigned char)text[0]];
  if (std::find(lens.begin(), lens.end(), text.size()) != lens.end()) return;
  lens.insert(std::upper_bound(lens.begin(), lens.end(), text.size(), std::greater<size_t>()), text.size());
}

namespace {
struct Fragment {
  bool is_token;
  int32_t token;
  std::string text;
};
}  // namespace

std::vector<int32_t> Tokenizer::encode(const std::string& raw, bool add_special, bool parse_special) const {
  const std::string text = utf8_replace_invalid(raw);
  // Split out token texts (leftmost, then longest), leaving plain-text fragments between them.
  const TokenTexts& texts = parse_special ? all_texts_ : user_texts_;
  std::vector<Fragment> frags;
  size_t plain = 0;  // start of the current plain fragment
  std::string key;
  for (size_t pos = 0; pos < text.size();) {
    int32_t hit = -1;
    size_t hit_len = 0;
    for (size_t len : texts.lengths[(unsigned char)text[pos]]) {
      if (len > text.size() - pos) continue;
      key.assign(text, pos, len);
      auto it = texts.id.find(key);
      if (it != texts.id.end()) {
        hit = it->second;
        hit_len = len;
        break;
      }
    }
    if (hit < 0) {
      ++pos;
      continue;
    }
    if (pos > plain) frags.push_back({false, -1, text.substr(plain, pos - plain)});
    frags.push_back({true, hit, {}});
    pos += hit_len;
    plain = pos;
  }
  if (plain < text.size()) frags.push_back({false, -1, text.substr(plain)});

  std::vector<int32_t> out;
  if (add_special && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  bool prev_special = true;  // SentencePiece prefixes a space to the first fragment and to any after a special token
  for (const Fragment& f : frags) {
    if (f.is_token) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    encode_fragment(vocab_.nfc ? utf8_nfc(f.text) : f.text, prev_special, &out);
    prev_special = false;
  }
  if (add_special && vocab_.add_eos && vocab_.eos >= 0) out.push_back(vocab_.eos);
  return out;
}

void Tokenizer::encode_fragment(const std::string& text, bool first_or_after_special, std::vector<int32_t>* out) const {
  if (vocab_.kind == TokenizerKind::kSpm) {
    spm_encode(vocab_.add_space_prefix && first_or_after_special ? " " + text : text, out);
  } else {
    bpe_encode(text, out);
  }
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  if (id < 0 || id >= vocab_.n_tokens()) return {};
  const std::string& t = vocab_.tokens[(size_t)id];
  switch (vocab_.attrs[(size_t)id]) {
    case TokenAttr::kControl: return special ? t : std::string();
    case TokenAttr::kUnknown:  // its text when control tokens are rendered; else U+2585 for SentencePiece, as llama.cpp shows it
      return special || vocab_.kind != TokenizerKind::kSpm ? t : "\xe2\x96\x85";
    case TokenAttr::kUserDefined:
      if (vocab_.kind == TokenizerKind::kSpm) break;  // SentencePiece-style added tokens ("▁▁") decode their U+2581 as spaces, as HF does
      return t;
    case TokenAttr::kUnused: return {};
    case TokenAttr::kByte:
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0) return std::string(1, (char)std::strtol(t.substr(3, 2).c_str(), nullptr, 16));
      return t;
    default: break;
  }
  if (vocab_.kind == TokenizerKind::kBpe) return bpe_bytes_decode(t);
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    if (i + 2 < t.size() && t.compare(i, 3, "\xe2\x96\x81") == 0) {
      out += ' ';
      i += 2;
    } else {
      out += t[i];
    }
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool special) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string piece = token_to_piece(ids[i], special);
    const bool after_start = i == 0 || ids[i - 1] == vocab_.bos;
    if (vocab_.kind == TokenizerKind::kSpm && vocab_.add_space_prefix && after_start && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    out += piece;
  }
  return out;
}

std::string StreamDecoder::push(int32_t prev, int32_t id) {
  std::string piece = tok_.token_to_piece(id);
  const Vocab& v = tok_.vocab();
  if (v.kind == TokenizerKind::kSpm && v.add_space_prefix && (prev < 0 || prev == v.bos) && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  pending_ += piece;
  // Emit everything up to the last incomplete UTF-8 sequence.
  size_t cut = pending_.size();
  for (size_t back = 1; back <= 3 && back <= pending_.size(); ++back) {
    const unsigned char c = (unsigned char)pending_[pending_.size() - back];
    if ((c & 0xc0) == 0x80) continue;  // continuation byte: keep looking for the lead
    if (utf8_len(c) > back) cut = pending_.size() - back;
    break;
  }
  std::string out = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace pocket
