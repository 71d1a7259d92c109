// pocket chat: an interactive chat in the terminal over the server's own pieces: the model's chat
// template (Jinja or a hand-written family), the history of the conversation, streaming, and the
// same sampler. Ctrl-C stops the reply being written (the program goes on); Ctrl-D or /quit ends.
// Commands: /reset (forget the conversation), /save FILE (the messages as JSON), /help.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>

#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "commands.h"
#include "engine/engine.h"

namespace pocket::cli {
namespace {

std::atomic<bool> g_interrupt{false};
void on_sigint(int) { g_interrupt = true; }

struct ChatArgs {
  std::string model, system, chat_template;
  EngineOptions engine;
  GenerateOptions gen;
  int64_t seed = -1;
};

int chat(ChatArgs a) {
  auto engine_r = Engine::load(a.model, a.engine);
  if (!engine_r) return fail(engine_r.status());
  Engine& engine = *engine_r.value();
  const Tokenizer& tok = engine.tokenizer();
  std::optional<ChatTemplate> family;
  if (!a.chat_template.empty()) {
    auto t = chat_template_from_name(a.chat_template);
    if (!t) return fail(t.status());
    family = t.value();
  }
  auto special = [&](int32_t id) { return id >= 0 ? tok.token_to_piece(id, true) : std::string(); };
  const std::string jinja = engine.model().file().get_string_or("tokenizer.chat_template", "");
  auto f = ChatFormatter::create(jinja, family, special(tok.vocab().bos), special(tok.vocab().eos));
  if (!f) {
    std::fprintf(stderr, "pocket chat: warning: %s; using the hand-written template\n", f.status().message().c_str());
    f = ChatFormatter::create("", detect_chat_template(jinja), special(tok.vocab().bos), special(tok.vocab().eos));
  }
  const ChatFormatter fmt = std::move(f).value();
  // Ctrl-C sets a flag the streaming callback reads; no SA_RESTART, so it also ends a pending read.
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  std::fprintf(stderr, "pocket chat: %s, template: %s. /help for commands, Ctrl-C stops a reply, Ctrl-D quits.\n", a.model.c_str(),
               fmt.describe().c_str());
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  auto reset = [&] {
    messages = nlohmann::ordered_json::array();
    if (!a.system.empty()) messages.push_back({{"role", "system"}, {"content", a.system}});
  };
  reset();
  uint64_t seed = a.seed >= 0 ? (uint64_t)a.seed : std::random_device{}();
  std::string line;
  while (true) {
    std::printf("> ");
    std::fflush(stdout);
    g_interrupt = false;
    if (!std::getline(std::cin, line)) {
      if (g_interrupt && !std::cin.eof()) {  // Ctrl-C at the prompt: a fresh prompt
        std::cin.clear();
        std::printf("\n");
        continue;
      }
      std::printf("\n");
      return 0;
    }
    if (line.empty()) continue;
    if (line == "/quit" || line == "/exit") return 0;
    if (line == "/help") {
      std::printf("/reset: forget the conversation  /save FILE: write the messages as JSON  /quit: leave\n");
      continue;
    }
    if (line == "/reset") {
      reset();
      std::printf("(conversation cleared)\n");
      continue;
    }
    if (line.rfind("/save", 0) == 0) {
      const std::string path = line.size() > 6 ? line.substr(6) : "";
      std::ofstream out(path);
      if (path.empty() || !(out << messages.dump(2) << "\n")) {
        std::printf("(cannot write '%s')\n", path.c_str());
        continue;
      }
      std::printf("(saved %zu messages to %s)\n", messages.size(), path.c_str());
      continue;
    }
    if (line[0] == '/') {
      std::printf("(unknown command %s: /help lists them)\n", line.c_str());
      continue;
    }
    messages.push_back({{"role", "user"}, {"content", line}});
    auto prompt = fmt.render(messages, nlohmann::ordered_json());
    if (!prompt) {
      std::printf("(template: %s)\n", prompt.status().message().c_str());
      messages.erase(messages.size() - 1);
      continue;
    }
    const std::string bos = special(tok.vocab().bos);
    const bool has_bos = !bos.empty() && prompt.value().rfind(bos, 0) == 0;
    std::vector<int32_t> ids = tok.encode(prompt.value(), !has_bos, fmt.uses_markers());
    GenerateOptions go = a.gen;
    go.sampling.seed = seed++;
    if (go.ignore_eos) go.stop_on_bos = false;
    for (const std::string& s : fmt.stop_strings()) go.stop_strings.push_back(s);
    const int room = engine.n_ctx() - (int)ids.size();
    if (room <= 1) {
      std::printf("(the conversation fills the context of %d tokens: /reset)\n", engine.n_ctx());
      messages.erase(messages.size() - 1);
      continue;
    }
    if (go.n_predict < 0 || go.n_predict > room) go.n_predict = room;
    std::string reply;
    auto r = engine.generate_tokens(ids, go, [&](const std::string& t) {
      if (g_interrupt) return false;
      reply += t;
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    if (!r) {
      std::printf("\n(error: %s)\n", r.status().message().c_str());
    } else if (r.value().stop_reason == FinishReason::kCallback) {
      std::printf(" [stopped]\n");
    } else {
      std::printf("\n");
    }
    messages.push_back({{"role", "assistant"}, {"content", reply}});
  }
}

}  // namespace

Runner register_chat(CLI::App& app) {
  auto a = std::make_shared<ChatArgs>();
  a->gen.n_predict = 256;
  auto* sub = app.add_subcommand("chat", "interactive chat in the terminal (the model's chat template, history, streaming)");
  sub->add_option("-m,--model", a->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  sub->add_option("--system", a->system, "a system message at the start of the conversation");
  sub->add_option("--chat-template", a->chat_template, "plain, llama2, llama3, chatml, zephyr, phi3, gemma (default: the file's own)");
  sub->add_option("-n,--n-predict", a->gen.n_predict, "tokens per reply at most (-1: until the context is full)")->check(CLI::Range(-1, 1 << 20));
  sub->add_option("-c,--ctx", a->engine.n_ctx, "context size in tokens (0: the model's, at most 4096)")->check(CLI::Range(0, 1 << 20));
  sub->add_option("-t,--threads", a->engine.n_threads, "threads")->check(CLI::Range(1, 256));
  sub->add_option("--temp", a->gen.sampling.temperature, "temperature (0: greedy)")->check(CLI::Range(0.0f, 100.0f));
  sub->add_option("--top-k", a->gen.sampling.top_k, "top-k (0: off)")->check(CLI::Range(0, 1 << 24));
  sub->add_option("--top-p", a->gen.sampling.top_p, "top-p (1: off)")->check(CLI::Range(0.0f, 1.0f));
  sub->add_option("--repeat-penalty", a->gen.sampling.repeat_penalty, "repetition penalty (1: off)")->check(CLI::Range(0.0f, 100.0f));
  sub->add_flag("--ignore-eos", a->gen.ignore_eos, "never end a reply with the end token (write -n tokens; for tests and benchmarks)");
  sub->add_option("-s,--seed", a->seed, "random seed of the first reply (-1: random)")->check(CLI::Range((int64_t)-1, (int64_t)UINT32_MAX));
  return [a] { return chat(*a); };
}

}  // namespace pocket::cli
