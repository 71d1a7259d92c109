// `pocket serve` on a loopback port: OpenAI shapes, streaming, the same tokens as `pocket run`,
// every malformed request's error, 16 concurrent clients, cancellation on disconnect, API keys.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <unistd.h>

#include "e2e/server_process.h"
#include "test_support.h"

namespace pocket {
namespace {

using nlohmann::json;

class Server : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess("-m " + model15m() + " --parallel 4 -t 2"); }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << server_->log();
    delete server_;
  }
  static ServerProcess* server_;
};
ServerProcess* Server::server_ = nullptr;

TEST_F(Server, StartsAndServesHealthModelsMetricsAndThePage) {
  ASSERT_GT(server_->port(), 0) << server_->log();
  auto c = server_->client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(json::parse(h->body)["status"], "ok");
  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(m->body)["data"][0]["id"], "stories15M-f32.llamacpp.gguf");
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<title>PocketLLM chat</title>"), std::string::npos);
  auto met = c.Get("/metrics");
  ASSERT_TRUE(met);
  for (const char* k : {"pocket_tokens_per_second", "pocket_queue_length", "pocket_kv_blocks_in_use", "pocket_kv_blocks_total 64"})
    EXPECT_NE(met->body.find(k), std::string::npos) << k;
}

TEST_F(Server, CompletionsGiveTheSameTokensAsPocketRun) {
  auto c = server_->client();
  for (const char* temp : {"0", "0.8"}) {
    const auto run =
        test::run_command(test::cli() + " run -m " + model15m() + " -p 'Once upon a time' -n 40 --temp " + temp + " --seed 42 --no-display-prompt");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::string want = run.out;
    if (!want.empty() && want.back() == '\n') want.pop_back();  // run ends its output with a newline
    int status = 0;
    const json r =
        post(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 40}, {"temperature", std::stod(temp)}, {"seed", 42}}, &status);
    ASSERT_EQ(status, 200) << r.dump();
    EXPECT_EQ(r["object"], "text_completion");
    EXPECT_EQ(r["choices"][0]["text"].get<std::string>(), want) << "temperature " << temp;
    EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(r["usage"]["completion_tokens"], 40);
    EXPECT_EQ(r["usage"]["prompt_tokens"], 5);  // BOS + 4
    EXPECT_EQ(r["usage"]["total_tokens"], 45);
  }
}

TEST_F(Server, StreamedChunksAddUpToTheReply) {
  auto c = server_->client();
  const json req = {{"messages", {{{"role", "user"}, {"content", "The little dog"}}}}, {"max_tokens", 24}, {"temperature", 0}};
  int status = 0;
  const json whole = post(c, "/v1/chat/completions", req, &status);
  ASSERT_EQ(status, 200) << whole.dump();
  EXPECT_EQ(whole["object"], "chat.completion");
  EXPECT_EQ(whole["choices"][0]["message"]["role"], "assistant");
  json sreq = req;
  sreq["stream"] = true;
  sreq["stream_options"] = {{"include_usage", true}};
  std::string body;
  auto r = c.Post("/v1/chat/completions", sreq.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  body = r->body;
  std::string text, finish;
  int chunks = 0, usage_tokens = -1;
  bool done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos) << "every event ends with a blank line";
    const std::string ev = body.substr(pos, end - pos);
    pos = end + 2;
    ASSERT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    if (ev == "data: [DONE]") {
      done = true;
      continue;
    }
    ASSERT_FALSE(done) << "nothing after [DONE]";
    const json j = json::parse(ev.substr(6));
    EXPECT_EQ(j["object"], "chat.completion.chunk");
    if (j.contains("usage")) {
      usage_tokens = j["usage"]["completion_tokens"].get<int>();
      continue;
    }
    if (chunks++ == 0) { EXPECT_EQ(j["choices"][0]["delta"]["role"], "assistant"); }
    if (j["choices"][0]["delta"].contains("content")) text += j["choices"][0]["delta"]["content"].get<std::string>();
    if (!j["choices"][0]["finish_reason"].is_null()) finish = j["choices"][0]["finish_reason"];
  }
  EXPECT_TRUE(done);
  EXPECT_GT(chunks, 5) << "streamed in pieces, not at once";
  EXPECT_EQ(text, whole["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(finish, "length");
  EXPECT_EQ(usage_tokens, 24);
}

TEST_F(Server, StopStringsEndTheReply) {
  auto c = server_->client();
  int status = 0;
  const json r = post(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 60}, {"temperature", 0}, {"stop", {"Lily"}}}, &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(r["choices"][0]["text"], ", there was a little girl named ");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
}

struct BadRequest {
  const char* what;
  std::string path, body;
  int status;
  const char* message;
};

TEST_F(Server, MalformedRequestsGetOpenAiErrors) {
  auto c = server_->client();
  const std::string chat = "/v1/chat/completions", comp = "/v1/completions";
  const std::vector<BadRequest> cases = {
      {"not JSON", comp, "{\"prompt\": ", 400, "not valid JSON"},
      {"JSON array", comp, "[1, 2]", 400, "must be a JSON object"},
      {"no prompt", comp, "{}", 400, "prompt: is required"},
      {"prompt a number", comp, R"({"prompt": 5})", 400, "prompt: must be a string"},
      {"no messages", chat, "{}", 400, "messages: is required"},
      {"messages empty", chat, R"({"messages": []})", 400, "non-empty array"},
      {"message not an object", chat, R"({"messages": ["hi"]})", 400, "messages[0]: must be an object"},
      {"unknown role", chat, R"({"messages": [{"role": "robot", "content": "hi"}]})", 400,
       "messages[0].role: must be system, developer, user, assistant or tool"},
      {"content a number", chat, R"({"messages": [{"role": "user", "content": 3}]})", 400, "messages[0].content"},
      {"max_tokens a string", comp, R"({"prompt": "a", "max_tokens": "ten"})", 400, "max_tokens: must be an integer"},
      {"max_tokens zero", comp, R"({"prompt": "a", "max_tokens": 0})", 400, "max_tokens: must be in"},
      {"max_tokens 10^9", comp, R"({"prompt": "a", "max_tokens": 1000000000})", 400, "exceed the context of 256"},
      {"temperature a string", comp, R"({"prompt": "a", "temperature": "hot"})", 400, "temperature: must be a number"},
      {"temperature 5", comp, R"({"prompt": "a", "temperature": 5})", 400, "temperature: must be in"},
      {"top_p 2", comp, R"({"prompt": "a", "top_p": 2})", 400, "top_p: must be in"},
      {"top_p 0 (the sampler's own check)", comp, R"({"prompt": "a", "top_p": 0})", 400, "top_p must be in (0, 1]"},
      {"seed a float", comp, R"({"prompt": "a", "seed": 1.5})", 400, "seed: must be an integer"},
      {"five stop strings", comp, R"({"prompt": "a", "stop": ["a","b","c","d","e"]})", 400, "stop: must be"},
      {"n = 2", comp, R"({"prompt": "a", "n": 2})", 400, "only n = 1"},
      {"stream a string", comp, R"({"prompt": "a", "stream": "yes"})", 400, "stream: must be true or false"},
      {"content part type a number", chat, R"({"messages": [{"role": "user", "content": [{"type": 5, "text": "hi"}]}]})", 400, "only text parts"},
      {"include_usage a number", comp, R"({"prompt": "a", "stream_options": {"include_usage": 1}})", 400,
       "stream_options.include_usage: must be true or false"},
      {"stream_options a string", comp, R"({"prompt": "a", "stream_options": "usage"})", 400, "stream_options: must be an object"},
      {"unknown model", comp, R"({"prompt": "a", "model": "gpt-9"})", 404, "The model 'gpt-9' does not exist"},
      {"prompt longer than the context", comp, json({{"prompt", std::string(3000, 'a') + " once upon a time"}}).dump(), 400,
       "but the context is 256"},
      {"unknown route", "/v1/frobnicate", "{}", 404, "no route POST /v1/frobnicate"},
      {"an unknown field", comp, R"({"prompt": "a", "frobnicate": 1})", 400, "frobnicate: unknown parameter for /v1/completions"},
      {"a tool without its function", chat, R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]})", 400,
       "tools[0]: must be"},
      {"a named tool choice that is not a tool", chat,
       R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f"}}],
           "tool_choice": {"type": "function", "function": {"name": "g"}}})",
       400, "tool_choice.function.name: 'g' is not one of the tools"},
      {"a tool message without tool_call_id", chat, R"({"messages": [{"role": "tool", "content": "42"}]})", 400, "messages[0].tool_call_id"},
      {"logprobs true on completions", comp, R"({"prompt": "a", "logprobs": true})", 400, "logprobs: must be an integer in [0, 5]"},
      {"top_logprobs 21", chat, R"({"messages": [{"role": "user", "content": "hi"}], "logprobs": true, "top_logprobs": 21})", 400,
       "top_logprobs: must be an integer in [0, 20]"},
      {"an unknown response_format", chat, R"({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "xml_please"}})", 400,
       "response_format.type: must be text, json_object or json_schema"},
      {"a schema keyword we do not handle", chat,
       R"({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x",
           "schema": {"type": "object", "properties": {"id": {"type": "string", "pattern": "^a"}}}}}})",
       400, "properties.id.pattern"},
      {"a grammar that does not parse", comp, R"({"prompt": "a", "grammar": "root ::= missing"})", 400, "rule 'missing' is used but not defined"},
      {"top_k -1", comp, R"({"prompt": "a", "top_k": -1})", 400, "top_k: must be in [0, 16777216]"},
      {"repeat_penalty 0 (the sampler's own check)", comp, R"({"prompt": "a", "repeat_penalty": 0})", 400, "repeat_penalty must be > 0"},
  };
  for (const BadRequest& b : cases) {
    auto r = c.Post(b.path.c_str(), b.body, "application/json");
    ASSERT_TRUE(r) << b.what;
    EXPECT_EQ(r->status, b.status) << b.what << ": " << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << b.what << ": " << r->body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(b.message), std::string::npos) << b.what << ": " << r->body;
    EXPECT_TRUE(j["error"]["type"].is_string()) << b.what;
  }
  // An oversized body (2 MiB; the limit is 1 MiB) is refused with 413 before it is parsed.
  auto big = c.Post(comp.c_str(), "{\"prompt\": \"" + std::string(2 << 20, 'a') + "\"}", "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("request body larger than"), std::string::npos);
  // The server is still fine afterwards.
  int status = 0;
  post(c, comp, {{"prompt", "Once"}, {"max_tokens", 2}}, &status);
  EXPECT_EQ(status, 200);
}

// Fields we do not implement are accepted when they ask for nothing (clients send such defaults), and
// llama.cpp's sampling extensions are read: top_k 1 is greedy whatever the temperature.
TEST_F(Server, NeutralValuesAndSamplingExtensionsAreAccepted) {
  auto c = server_->client();
  int status = 0;
  const json neutral = post(c, "/v1/chat/completions",
                            {{"messages", {{{"role", "user"}, {"content", "Tom"}}}},
                             {"max_tokens", 4},
                             {"logprobs", false},
                             {"tools", json::array()},
                             {"tool_choice", "none"},
                             {"response_format", {{"type", "text"}}},
                             {"logit_bias", json::object()},
                             {"user", "u-1"},
                             {"n", 1},
                             {"top_logprobs", nullptr}},
                            &status);
  EXPECT_EQ(status, 200) << neutral.dump();
  const json greedy = post(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}}, &status);
  ASSERT_EQ(status, 200) << greedy.dump();
  const json top1 =
      post(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 1.5}, {"top_k", 1}, {"seed", 7}}, &status);
  ASSERT_EQ(status, 200) << top1.dump();
  EXPECT_EQ(top1["choices"][0]["text"], greedy["choices"][0]["text"]);
}

TEST_F(Server, SixteenClientsTimesEightRequests) {
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      auto c = server_->client();
      for (int k = 0; k < 8; ++k) {
        int status = 0;
        const bool chat = (i + k) % 2 == 0;
        const json body = chat ? json{{"messages", {{{"role", "user"}, {"content", "Tom and Sue"}}}}, {"max_tokens", 12}, {"stream", k % 3 == 0}}
                               : json{{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"seed", i * 8 + k}};
        if (k % 3 == 0 && chat) {
          auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
          (r && r->status == 200 && r->body.find("data: [DONE]") != std::string::npos) ? ++ok : ++bad;
          continue;
        }
        const json r = post(c, chat ? "/v1/chat/completions" : "/v1/completions", body, &status);
        (status == 200 && r["usage"]["completion_tokens"].get<int>() > 0) ? ++ok : ++bad;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 128);
  EXPECT_EQ(bad.load(), 0);
  auto c = server_->client();
  const std::string m = c.Get("/metrics")->body;
  EXPECT_NE(m.find("pocket_active_sequences 0"), std::string::npos) << m;
  EXPECT_NE(m.find("pocket_queue_length 0"), std::string::npos) << m;
}

TEST_F(Server, ADisconnectedStreamIsCancelled) {
  auto c = server_->client();
  const json req = {{"prompt", "Once upon a time"}, {"max_tokens", 240}, {"stream", true}, {"temperature", 0.9}};
  int chunks = 0;
  auto r = c.Post("/v1/completions", httplib::Headers{}, req.dump(), "application/json");  // warm-up: the full stream works
  ASSERT_TRUE(r);
  auto before = c.Get("/metrics")->body;
  auto generated = [](const std::string& m) {
    std::smatch s;
    std::regex_search(m, s, std::regex("pocket_generated_tokens_total ([0-9.]+)"));
    return std::stod(s[1]);
  };
  const double g0 = generated(before);
  // Read two chunks, then hang up.
  httplib::Client c2("127.0.0.1", server_->port());
  httplib::Request hr;
  hr.method = "POST";
  hr.path = "/v1/completions";
  hr.body = req.dump();
  hr.set_header("Content-Type", "application/json");
  hr.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 2; };
  auto res = c2.send(hr);
  EXPECT_FALSE(res) << "the client aborted";
  // The sequence is freed within a moment, long before 240 tokens.
  std::string m;
  for (int i = 0; i < 50; ++i) {
    m = c.Get("/metrics")->body;
    if (m.find("pocket_active_sequences 0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(m.find("pocket_active_sequences 0"), std::string::npos) << m;
  EXPECT_LT(generated(m) - g0, 240.0) << "cancelled before the end";
}

TEST_F(Server, AConversationReusesItsPromptPrefix) {
  auto c = server_->client();
  auto reused = [&] {
    std::smatch s;
    const std::string m = c.Get("/metrics")->body;
    std::regex_search(m, s, std::regex("pocket_prompt_tokens_reused_total ([0-9.]+)"));
    return std::stod(s[1]);
  };
  json msgs = {{{"role", "user"}, {"content", "Once upon a time there was a girl called Mia who liked red apples."}}};
  int status = 0;
  const json a = post(c, "/v1/chat/completions", {{"messages", msgs}, {"max_tokens", 8}, {"temperature", 0}}, &status);
  ASSERT_EQ(status, 200);
  const double r0 = reused();
  msgs.push_back({{"role", "assistant"}, {"content", a["choices"][0]["message"]["content"]}});
  msgs.push_back({{"role", "user"}, {"content", "Then she ate one."}});
  post(c, "/v1/chat/completions", {{"messages", msgs}, {"max_tokens", 8}, {"temperature", 0}}, &status);
  ASSERT_EQ(status, 200);
  EXPECT_GE(reused() - r0, (double)a["usage"]["prompt_tokens"].get<int>() - 1) << "the first turn's prompt was not read again";
}

TEST(ServerAuth, ApiKeyIsRequiredWhenSet) {
  ServerProcess s("-m " + test::shared("golden/stories260K-f32.llamacpp.gguf") + " --parallel 1 --api-key s3cret");
  ASSERT_GT(s.port(), 0) << s.log();
  auto c = s.client();
  const std::string body = R"({"prompt": "Once", "max_tokens": 2})";
  auto no = c.Post("/v1/completions", body, "application/json");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->status, 401);
  EXPECT_NE(no->body.find("authentication_error"), std::string::npos);
  auto wrong = c.Post("/v1/completions", httplib::Headers{{"Authorization", "Bearer nope"}}, body, "application/json");
  EXPECT_EQ(wrong->status, 401);
  auto yes = c.Post("/v1/completions", httplib::Headers{{"Authorization", "Bearer s3cret"}}, body, "application/json");
  EXPECT_EQ(yes->status, 200) << yes->body;
  EXPECT_EQ(c.Get("/health")->status, 200) << "health needs no key";
  EXPECT_EQ(s.stop(), 0) << s.log();
}

TEST(ServerCli, BadFlagsAndBusyPorts) {
  const auto r = test::run_command(test::cli() + " serve -m " + model15m() + " --chat-template jinja9");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown template 'jinja9'"), std::string::npos) << r.err;
  ServerProcess s("-m " + test::shared("golden/stories260K-f32.llamacpp.gguf") + " --parallel 1");
  ASSERT_GT(s.port(), 0);
  const auto busy =
      test::run_command(test::cli() + " serve -m " + test::shared("golden/stories260K-f32.llamacpp.gguf") + " --port " + std::to_string(s.port()));
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.err.find("cannot listen"), std::string::npos) << busy.err;
  const auto par = test::run_command(test::cli() + " serve -m " + model15m() + " --parallel 0");
  EXPECT_EQ(par.exit_code, 2);
}

}  // namespace
}  // namespace pocket
