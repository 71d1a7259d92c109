// pocket tokenize: text -> token ids and pieces (or ids -> text with --from-ids) with the tokenizer of a
// GGUF file, a Hugging Face tokenizer.json, or a directory holding one. --split-nul tokenizes each
// NUL-separated document of a file onto its own line of ids (the corpus comparison,
// tests/tokenizers/compare_corpus.mjs).
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "commands.h"
#include "convert/hf_vocab.h"
#include "format/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace pocket::cli {
namespace {

bool is_hf_tokenizer(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
}

Result<std::unique_ptr<Tokenizer>> open_tokenizer(const std::string& path) {
  if (is_hf_tokenizer(path)) {
    POCKET_ASSIGN_OR_RETURN(Vocab v, load_hf_vocab(path));
    return Tokenizer::create(std::move(v));
  }
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
  POCKET_ASSIGN_OR_RETURN(Vocab v, read_vocab(*f));
  return Tokenizer::create(std::move(v));
}

std::string ids_line(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ' ';
    s += std::to_string(ids[i]);
  }
  return s;
}

// JSON string of arbitrary bytes: invalid UTF-8 (a byte token's piece) is shown as \u00XX per byte.
std::string quoted(const std::string& bytes) { return nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

Runner register_tokenize(CLI::App& app) {
  struct Args {
    std::string model, text, file, from_ids, from_ids_file, out;
    bool ids_only = false, json = false, no_bos = false, no_parse_special = false, split_nul = false, special = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand("tokenize", "text -> token ids and pieces (or --from-ids: ids -> text)");
  sub->add_option("-m,--model", a->model, "GGUF file, tokenizer.json, or a directory holding tokenizer.json")->required()->check(CLI::ExistingPath);
  sub->add_option("text", a->text, "text to tokenize");
  sub->add_option("-f,--file", a->file, "read the text from a file")->check(CLI::ExistingFile);
  sub->add_option("--from-ids", a->from_ids, "decode these token ids (comma or space separated) to text");
  sub->add_option("--from-ids-file", a->from_ids_file, "decode each line of ids of a file; the texts come out NUL-separated")
      ->check(CLI::ExistingFile);
  sub->add_flag("--ids", a->ids_only, "print the ids only, space separated on one line");
  sub->add_flag("--json", a->json, "print {\"ids\": [...], \"pieces\": [...]}");
  sub->add_flag("--no-bos", a->no_bos, "do not add the BOS/EOS tokens the vocabulary asks for");
  sub->add_flag("--no-parse-special", a->no_parse_special, "control-token texts (e.g. <|im_start|>) stay plain text");
  sub->add_flag("--special", a->special, "--from-ids: render control tokens");
  sub->add_flag("--split-nul", a->split_nul, "the input holds NUL-separated documents: one line of ids per document");
  sub->add_option("-o,--output", a->out, "write to a file instead of stdout");
  return [a] {
    const int inputs = (a->text.empty() ? 0 : 1) + (a->file.empty() ? 0 : 1) + (a->from_ids.empty() ? 0 : 1) + (a->from_ids_file.empty() ? 0 : 1);
    if (inputs != 1) return fail("give exactly one of TEXT, -f/--file, --from-ids and --from-ids-file");
    if (a->split_nul && a->file.empty()) return fail("--split-nul reads documents from -f/--file");
    if (a->ids_only && a->json) return fail("--ids and --json exclude each other");
    auto tok = open_tokenizer(a->model);
    if (!tok) return fail(tok.status());
    const Tokenizer& t = *tok.value();
    std::ofstream file_out;
    if (!a->out.empty()) {
      file_out.open(a->out, std::ios::binary);
      if (!file_out) return fail(a->out + ": cannot open for writing");
    }
    std::ostream& out = a->out.empty() ? std::cout : file_out;
    if (!a->from_ids.empty()) {
      auto ids = parse_ids(a->from_ids, "--from-ids", t.vocab().n_tokens());
      if (!ids) return fail(ids.status());
      out << t.decode(ids.value(), a->special);
      if (a->out.empty()) out << '\n';
      return 0;
    }
    if (!a->from_ids_file.empty()) {
      auto r = read_text_file(a->from_ids_file);
      if (!r) return fail(r.status());
      const std::string& lines = r.value();
      size_t line_no = 0;
      for (size_t start = 0; start < lines.size(); ++line_no) {
        size_t end = lines.find('\n', start);
        if (end == std::string::npos) end = lines.size();
        const std::string line = lines.substr(start, end - start);
        std::vector<int32_t> ids;
        if (line.find_first_not_of(" \t\r") != std::string::npos) {
          auto p = parse_ids(line, a->from_ids_file + ":" + std::to_string(line_no + 1), t.vocab().n_tokens());
          if (!p) return fail(p.status());
          ids = std::move(p.value());
        }
        if (line_no) out << '\0';
        out << t.decode(ids, a->special);
        start = end + 1;
      }
      return out ? 0 : fail("write failed");
    }
    std::string text = a->text;
    if (!a->file.empty()) {
      auto r = read_text_file(a->file);
      if (!r) return fail(r.status());
      text = std::move(r.value());
    }
    const bool add_special = !a->no_bos, parse_special = !a->no_parse_special;
    size_t n_tokens = 0;
    if (a->split_nul) {
      size_t start = 0, docs = 0;
      while (start <= text.size()) {
        size_t end = text.find('\0', start);
        if (end == std::string::npos) end = text.size();
        if (end == text.size() && start == end && docs > 0) break;  // a trailing NUL ends the last document
        const std::vector<int32_t> ids = t.encode(text.substr(start, end - start), add_special, parse_special);
        out << ids_line(ids) << '\n';
        n_tokens += ids.size();
        ++docs;
        start = end + 1;
      }
      std::fprintf(stderr, "%zu documents, %zu tokens\n", docs, n_tokens);
      return out ? 0 : fail("write failed");
    }
    const std::vector<int32_t> ids = t.encode(text, add_special, parse_special);
    if (a->ids_only) {
      out << ids_line(ids) << '\n';
    } else if (a->json) {
      nlohmann::json pieces = nlohmann::json::array();
      for (int32_t id : ids) pieces.push_back(t.token_to_piece(id, true));
      out << "{\"ids\": " << nlohmann::json(ids).dump() << ", \"pieces\": " << pieces.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          << "}\n";
    } else {
      for (int32_t id : ids) out << id << '\t' << quoted(t.token_to_piece(id, true)) << '\n';
    }
    std::fprintf(stderr, "%zu tokens\n", ids.size());
    return out ? 0 : fail("write failed");
  };
}

}  // namespace pocket::cli
