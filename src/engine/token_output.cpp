#include "engine/token_output.h"

#include <algorithm>

namespace pocket {

std::string StopMatcher::feed(const std::string& text, bool* stopped) {
  buf_ += text;
  size_t first = std::string::npos;
  for (const std::string& s : stops_) {
    if (s.empty()) continue;
    const size_t at = buf_.find(s);
    if (at != std::string::npos) first = std::min(first, at);
  }
  if (first != std::string::npos) {
    *stopped = true;
    std::string out = buf_.substr(0, first);
    buf_.clear();
    return out;
  }
  size_t hold = 0;  // longest suffix of buf_ that is a proper prefix of some stop string
  for (const std::string& s : stops_) {
    for (size_t k = std::min(s.size() - (s.empty() ? 0 : 1), buf_.size()); k > hold; --k) {
      if (buf_.compare(buf_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  std::string out = buf_.substr(0, buf_.size() - hold);
  buf_.erase(0, buf_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string out;
  out.swap(buf_);
  return out;
}

TokenOutput::TokenOutput(const Tokenizer& tok, const GenerateOptions& opts, const TextCallback& on_text, std::vector<int32_t>* ids,
                         int32_t last_prompt_token, int limit)
    : vocab_(tok.vocab()), stop_on_bos_(opts.stop_on_bos), on_text_(on_text), ids_(ids), prev_(last_prompt_token), limit_(limit),
      dec_(tok), stop_(opts.stop_strings) {}

bool TokenOutput::done(GenerateStats* st) const {
  if (st->n_generated < limit_) return false;
  st->stop_reason = "n_predict";
  return true;
}

bool TokenOutput::push(int32_t tok, GenerateStats* st) {
  if (vocab_.is_eog(tok)) { st->stop_reason = "eos"; return false; }
  if (stop_on_bos_ && tok == vocab_.bos) { st->stop_reason = "bos"; return false; }
  ++st->n_generated;
  if (ids_) ids_->push_back(tok);
  bool stopped = false;
  const std::string text = stop_.feed(dec_.push(prev_, tok), &stopped);
  prev_ = tok;
  if (!emit(text)) { st->stop_reason = "callback"; return false; }
  if (stopped) { st->stop_reason = "stop_string"; return false; }
  return !done(st);
}

void TokenOutput::finish(const GenerateStats& st) {
  if (st.stop_reason == "stop_string" || st.stop_reason == "callback") return;
  bool stopped = false;
  emit(stop_.feed(dec_.flush(), &stopped) + stop_.flush());
}

}  // namespace pocket
