// pocket logits: teacher-forced next-token logits for given token ids, every position, as raw float32
// (the comparison primitive against other engines: bench/compare_logits.mjs) and/or the top-k
// log-probabilities per position as JSON lines.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "engine/engine.h"

namespace pocket::cli {

Result<std::vector<int32_t>> parse_ids(const std::string& text, const std::string& where, int64_t n_vocab) {
  std::vector<int32_t> ids;
  std::string tok;
  std::istringstream in(text);
  auto add = [&](const std::string& t) -> Status {
    if (t.empty()) return Status::ok();
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (*end != '\0' || v < 0 || v >= n_vocab)
      return error(ErrorCode::kInvalidArgument, where + ": '" + t + "' is not a token id of this model (0.." + std::to_string(n_vocab - 1) + ")");
    ids.push_back((int32_t)v);
    return Status::ok();
  };
  char c;
  while (in.get(c)) {
    if (c == ',' || std::isspace((unsigned char)c)) {
      POCKET_RETURN_IF_ERROR(add(tok));
      tok.clear();
    } else {
      tok += c;
    }
  }
  POCKET_RETURN_IF_ERROR(add(tok));
  if (ids.empty()) return error(ErrorCode::kInvalidArgument, where + ": no token ids");
  return ids;
}

Runner register_logits(CLI::App& app) {
  struct Args {
    std::string model, ids, ids_file, out;
    int top = 0;
    EngineOptions engine;
    KvFlags kv;
  };
  auto a = std::make_shared<Args>();
  a->engine.max_batch = 512;
  CLI::App* sub = app.add_subcommand("logits", "teacher-forced next-token logits for given token ids (raw float32 and/or top-k log-probs)");
  sub->add_option("-m,--model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
  sub->add_option("--ids", a->ids, "token ids, comma or space separated (no BOS is added)");
  sub->add_option("--ids-file", a->ids_file, "file of token ids")->check(CLI::ExistingFile);
  sub->add_option("-o,--output", a->out, "write float32 logits, [positions][n_vocab] row-major");
  sub->add_option("--top", a->top, "print the top-k log-probabilities of every position as JSON lines")->check(CLI::Range(0, 1000));
  sub->add_option("-t,--threads", a->engine.n_threads, "threads")->check(CLI::Range(1, 256));
  sub->add_option("-b,--batch", a->engine.max_batch, "tokens per forward chunk")->check(CLI::Range(1, 4096));
  add_kv_flags(sub, &a->kv);
  return [a] {
    if (a->ids.empty() == a->ids_file.empty()) return fail("give exactly one of --ids and --ids-file");
    if (a->out.empty() && a->top == 0) return fail("nothing to write: give -o/--output and/or --top");
    std::string text = a->ids, where = "--ids";
    if (!a->ids_file.empty()) {
      auto t = read_text_file(a->ids_file);
      if (!t) return fail(t.status());
      text = t.value();
      where = a->ids_file;
    }
    auto model = Model::load(a->model);
    if (!model) return fail(model.status());
    auto ids = parse_ids(text, where, model.value()->config().n_vocab);
    if (!ids) return fail(ids.status());
    EngineOptions eo = a->engine;
    std::string kv_err;
    if (!apply_kv_flags(a->kv, &eo, &kv_err)) return fail(kv_err);
    eo.n_ctx = (int)ids.value().size();
    eo.kv_window = -1;
    auto e = Engine::create(std::shared_ptr<const Model>(std::move(model.value())), eo);
    if (!e) return fail(e.status());
    Batch b;
    for (size_t i = 0; i < ids.value().size(); ++i) b.add(ids.value()[i], (int32_t)i, 0, true);
    std::vector<float> logits;
    const Status st = e.value()->eval(b, &logits);
    if (!st) return fail(st);
    const int64_t nv = e.value()->model().config().n_vocab;
    if (!a->out.empty()) {
      std::ofstream f(a->out, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char*>(logits.data()), (std::streamsize)(logits.size() * sizeof(float)));
      if (!f) return fail(a->out + ": cannot write");
    }
    for (int p = 0; p < b.size() && a->top > 0; ++p) {
      const float* row = logits.data() + (size_t)p * nv;
      double mx = row[0], sum = 0;
      for (int64_t i = 1; i < nv; ++i) mx = std::max(mx, (double)row[i]);
      for (int64_t i = 0; i < nv; ++i) sum += std::exp((double)row[i] - mx);
      const double lse = mx + std::log(sum);
      std::vector<int32_t> order((size_t)nv);
      for (int64_t i = 0; i < nv; ++i) order[(size_t)i] = (int32_t)i;
      const int k = (int)std::min<int64_t>(a->top, nv);
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int32_t x, int32_t y) { return row[x] > row[y] || (row[x] == row[y] && x < y); });
      std::printf("{\"pos\":%d,\"token\":%d,\"top\":[", p, ids.value()[(size_t)p]);
      for (int j = 0; j < k; ++j) std::printf("%s[%d,%.6f]", j ? "," : "", order[(size_t)j], (double)row[order[(size_t)j]] - lse);
      std::printf("]}\n");
    }
    return 0;
  };
}

}  // namespace pocket::cli
