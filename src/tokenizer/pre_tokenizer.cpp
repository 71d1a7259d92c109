#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

namespace pocket {

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  pcre2_match_data* md = nullptr;
  ~Regex() {
    if (md) pcre2_match_data_free(md);
    if (code) pcre2_code_free(code);
  }
};

namespace {

// The word-splitting expressions of each family's tokenizer.json, applied in sequence: each one
// splits every piece the previous ones produced (text between matches stays a piece of its own).
constexpr const char* kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr const char* kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct Family {
  std::vector<const char*> names;
  std::vector<const char*> regexes;
  bool ignore_merges;
};

const std::vector<Family>& families() {
  static const std::vector<Family> f = {
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "dbrx", "smaug-bpe"}, {kLlama3}, true},
      {{"qwen2", "stablelm2", "deepseek-r1-qwen"}, {kQwen2}, false},
      {{"gpt-2", "phi-2", "mpt", "olmo", "jais", "roberta-bpe", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code",
        "gigachat"},
       {kGpt2},
       false},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}, {"\\p{N}", kGpt2}, false},
      {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}, false},
      {{"deepseek-coder"},
       {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"},
       false},
      {{"default", "gpt-neox"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+"}, false},
  };
  return f;
}

}  // namespace

PreTokenizer::~PreTokenizer() = default;

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::create(const std::string& family) {
  const Family* fam = nullptr;
  for (const Family& f : families()) {
    for (const char* n : f.names) {
      if (family == n) fam = &f;
    }
  }
  if (fam == nullptr) return error(ErrorCode::kUnsupported, "tokenizer.ggml.pre: unknown pre-tokenizer '" + family + "'");
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  p->ignore_merges_ = fam->ignore_merges;
  for (const char* rx : fam->regexes) {
    auto r = std::make_unique<Regex>();
    int err = 0;
    PCRE2_SIZE off = 0;
    r->code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rx), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &off, nullptr);
    if (r->code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return error(ErrorCode::kUnsupported, std::string("pre-tokenizer regex failed to compile: ") + reinterpret_cast<char*>(msg));
    }
    pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back to the interpreter
    r->md = pcre2_match_data_create_from_pattern(r->code, nullptr);
    p->regexes_.push_back(std::move(r));
  }
  return p;
}

std::vector<std::string> PreTokenizer::split(const std::string& text) const {
  std::vector<std::string> pieces{text};
  if (text.empty()) return {};
  for (const auto& rx : regexes_) {
    std::vector<std::string> next;
    for (const std::string& piece : pieces) {
      PCRE2_SIZE start = 0, last_end = 0;
      const PCRE2_SPTR subj = reinterpret_cast<PCRE2_SPTR>(piece.data());
      while (start <= piece.size()) {
        const int rc = pcre2_match(rx->code, subj, piece.size(), start, 0, rx->md, nullptr);
        if (rc < 0) break;  // no further match (or a matching error: keep the rest whole)
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(rx->md);
        const PCRE2_SIZE ms = ov[0], me = ov[1];
        if (me == ms) {  // empty match: step past one character (no family's regex matches empty)
          start = ms + 1;
          while (start < piece.size() && (static_cast<unsigned char>(piece[start]) & 0xc0) == 0x80) ++start;
          continue;
        }
        if (ms > last_end) next.push_back(piece.substr(last_end, ms - last_end));
        next.push_back(piece.substr(ms, me - ms));
        last_end = me;
        start = me;
      }
      if (last_end < piece.size()) next.push_back(piece.substr(last_end));
    }
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace pocket
