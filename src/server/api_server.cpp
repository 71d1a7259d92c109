#include "server/api_server.h"

#include <chrono>
#include <random>

#include "sampling/json_schema.h"
#include "server/chat_page.h"
#include "server/tool_calls.h"
#include "server/openai_api.h"
#include "server/scheduler.h"

namespace pocket {

using nlohmann::json;

namespace {

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = to_json_text(body);
  return r;
}

HttpResponse error_response(const ApiError& e) { return json_response(e.status, e.body()); }

ApiError api_error(int status, const std::string& message, const std::string& type = "invalid_request_error", const std::string& code = "") {
  ApiError e;
  e.status = status;
  e.message = message;
  e.type = type;
  e.code = code;
  return e;
}

HttpResponse model_not_found(const std::string& name, const std::string& served) {
  return error_response(
      api_error(404, "The model '" + name + "' does not exist (this server has '" + served + "')", "invalid_request_error", "model_not_found"));
}

std::string sse(const json& j) { return "data: " + to_json_text(j) + "\n\n"; }

std::string request_id(bool chat) {
  static std::atomic<uint64_t> counter{0};
  return std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string((uint64_t)std::chrono::system_clock::now().time_since_epoch().count()) + "-" +
         std::to_string(counter++);
}

// "Bearer <key>" with the scheme in any case (RFC 7235), the key compared in constant time: how long a
// wrong key takes to refuse says nothing about how much of it was right.
bool bearer_matches(const std::string& authorization, const std::string& key) {
  if (authorization.size() < 7 || !header_equals_ci(authorization.substr(0, 6), "bearer") || authorization[6] != ' ') return false;
  size_t i = 7;
  while (i < authorization.size() && authorization[i] == ' ') ++i;
  const std::string given = authorization.substr(i);
  unsigned diff = given.size() == key.size() ? 0u : 1u;
  for (size_t j = 0; j < key.size(); ++j) diff |= (unsigned char)key[j] ^ (unsigned char)(j < given.size() ? given[j] : 0);
  return diff == 0;
}

// What a request asked for beyond text: tool calls to find, log-probabilities to report.
struct ReplyShape {
  bool tools = false;   // tools offered (tool_choice auto, required or named)
  bool forced = false;  // required or named: the grammar makes the whole reply a call
  ToolFormat format = ToolFormat::kGeneric;
  bool logprobs = false;
};

// A generation in flight: the scheduler's Job, read without blocking whenever it wakes the connection.
class CompletionPending : public HttpPending {
 public:
  CompletionPending(std::shared_ptr<Job> job, CompletionResult result, bool chat, bool stream, bool usage, int timeout_s, ReplyShape shape,
                    const Tokenizer& tok)
      : job_(std::move(job)), result_(std::move(result)), chat_(chat), stream_(stream), usage_(usage), timeout_s_(timeout_s), shape_(shape),
        tok_(tok) {
    result_.want_logprobs = shape.logprobs;
    decided_ = !shape.tools ? -1 : shape.forced ? 1 : 0;  // -1 text, 1 a tool call, 0 not known yet
  }

  void start(std::function<void()> wake) override { job_->set_notify(std::move(wake)); }

  void abort(HttpAbort why) override {
    if (why == HttpAbort::kTimeout) timed_out_ = true;
    job_->cancel();
  }

  HttpPoll poll() override {
    HttpPoll p;
    // All the text there is now, and whether more can come: next() hands over the last text with true
    // even when the job has ended, so read until it says nothing more is waiting.
    std::string piece, text;
    bool more;
    while ((more = job_->next(&text, 0)) && !text.empty()) piece += text;
    std::vector<TokenLogprobJson> lps = take_logprobs(!more);
    if (decided_ == 0) {  // tool_choice auto: hold the reply until it shows whether it is a call
      held_ += piece;
      piece.clear();
      const int started = tool_call_started(shape_.format, held_);
      if (started != 0 || !more) {
        decided_ = started == 1 ? 1 : -1;
        if (decided_ == -1) piece.swap(held_);
      }
    }
    if (decided_ == 1) {
      calls_text_ += piece + held_;
      held_.clear();
      piece.clear();
      if (stream_) {
        const nlohmann::json deltas = call_deltas(scan_tool_calls(calls_text_));
        if (!deltas.empty() || !lps.empty()) {
          p.data = sse(completion_chunk(result_, chat_, "", "", first_, &lps, deltas.empty() ? nullptr : &deltas));
          first_ = false;
        }
      }
    } else if (stream_ && (!piece.empty() || !lps.empty())) {
      p.data = sse(completion_chunk(result_, chat_, piece, "", first_, &lps));
      first_ = false;
    } else {
      result_.text += piece;
    }
    if (!stream_) result_.logprobs.insert(result_.logprobs.end(), lps.begin(), lps.end());
    if (more) return p;
    p.done = true;
    result_.completion_tokens = job_->n_generated();
    result_.finish_reason = job_->finish_reason();
    if (decided_ == 1) finish_calls();
    const std::string timeout = "request timed out after " + std::to_string(timeout_s_) + " s (the server's --timeout)";
    if (!stream_) {
      if (timed_out_)
        p.reply = error_response(api_error(504, timeout, "timeout", "timeout"));
      else if (result_.finish_reason == "error")
        p.reply = error_response(api_error(500, job_->error_message(), "server_error"));
      else
        p.reply = json_response(200, completion_response(result_, chat_));
      return p;
    }
    if (decided_ == 1 && result_.tool_calls.empty() && !calls_text_.empty())  // no complete call: what there was, as text
      p.data += sse(completion_chunk(result_, chat_, calls_text_, "", first_)), first_ = false;
    if (timed_out_) p.data += sse(api_error(504, timeout, "timeout", "timeout").body());
    if (result_.finish_reason == "error") p.data += sse(api_error(500, job_->error_message(), "server_error").body());
    p.data += sse(completion_chunk(result_, chat_, "", timed_out_ ? "length" : result_.finish_reason, first_));
    if (usage_) {
      nlohmann::json u = completion_chunk(result_, chat_, "", "", false);
      u["choices"] = nlohmann::json::array();
      u["usage"] = usage_json(result_);
      p.data += sse(u);
    }
    p.data += "data: [DONE]\n\n";
    return p;
  }

 private:
  std::vector<TokenLogprobJson> take_logprobs(bool all) {
    (void)all;
    std::vector<TokenLogprobJson> out;
    if (!shape_.logprobs) return out;
    std::vector<TokenLogprob> raw;
    job_->take_logprobs(&raw);
    for (const TokenLogprob& t : raw) {
      TokenLogprobJson j;
      j.token = tok_.token_to_piece(t.id);
      j.logprob = t.logprob;
      for (const auto& [id, lp] : t.top) j.top.push_back({tok_.token_to_piece(id), lp});
      out.push_back(std::move(j));
    }
    return out;
  }

  std::string call_id(size_t i) const { return "call_" + result_.id.substr(result_.id.find('-') + 1) + "_" + std::to_string(i); }

  // OpenAI's streamed tool calls: the first delta of a call has its id, type and name (arguments ""),
  // the next ones fragments of the arguments text.
  nlohmann::json call_deltas(const std::vector<ScannedCall>& calls) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < calls.size(); ++i) {
      if (!calls[i].name_done) break;
      if (i >= sent_.size()) {
        sent_.push_back(0);
        out.push_back({{"index", i}, {"id", call_id(i)}, {"type", "function"}, {"function", {{"name", calls[i].name}, {"arguments", ""}}}});
      }
      if (calls[i].arguments.size() > sent_[i]) {
        out.push_back({{"index", i}, {"function", {{"arguments", calls[i].arguments.substr(sent_[i])}}}});
        sent_[i] = calls[i].arguments.size();
      }
    }
    return out;
  }

  void finish_calls() {
    for (const ScannedCall& c : scan_tool_calls(calls_text_)) {
      if (!c.done || nlohmann::json::parse(c.arguments, nullptr, false).is_discarded()) continue;
      result_.tool_calls.push_back({call_id(result_.tool_calls.size()), c.name, c.arguments});
    }
    if (!result_.tool_calls.empty()) {
      if (result_.finish_reason == "stop") result_.finish_reason = "tool_calls";
    } else if (!stream_) {
      result_.text += calls_text_;  // not a complete call after all (cut by max_tokens): the text as it is
    }
  }

  std::shared_ptr<Job> job_;
  CompletionResult result_;
  bool chat_, stream_, usage_;
  int timeout_s_;
  ReplyShape shape_;
  const Tokenizer& tok_;
  bool first_ = true;
  int decided_ = -1;
  std::string held_, calls_text_;
  std::vector<size_t> sent_;  // per streamed call: bytes of its arguments sent
  std::atomic<bool> timed_out_{false};
};

}  // namespace

ApiServer::ApiServer(Engine& engine, std::unique_ptr<Scheduler> scheduler, const ServerOptions& opts)
    : engine_(engine), opts_(opts), scheduler_(std::move(scheduler)) {
  if (!opts_.chat) {
    const Vocab& v = engine_.tokenizer().vocab();
    auto special = [&](int32_t id) { return id >= 0 ? engine_.tokenizer().token_to_piece(id, true) : std::string(); };
    auto f = ChatFormatter::create("", opts_.chat_template, special(v.bos), special(v.eos));
    opts_.chat = std::make_shared<const ChatFormatter>(std::move(f).value());
  }
  for (const std::string& t : engine_.tokenizer().vocab().tokens) max_piece_bytes_ = std::max(max_piece_bytes_, t.size());
  max_piece_bytes_ = std::max<size_t>(max_piece_bytes_, 8);  // byte fallback and <unk> cover at most 4 bytes
  // /health is answered on the I/O thread: a probe gets its answer even while every handler thread works.
  auto quick = [this](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (r.method != "GET" || r.path != "/health") return std::nullopt;
    return with_cors(handle(r));  // the /health branch: no lock, no allocation beyond its few bytes
  };
  http_ = std::make_unique<HttpServer>([this](const HttpRequest& r) { return with_cors(handle(r)); }, quick, opts_.http);
}

namespace {

std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = ((uint8_t)bytes[i] << 16) | ((uint8_t)bytes[i + 1] << 8) | (uint8_t)bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    const uint32_t v = ((uint8_t)bytes[i] << 16) | (i + 1 < bytes.size() ? (uint8_t)bytes[i + 1] << 8 : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

// /v1/embeddings: input a string, strings, token ids or lists of them; mean-pooled final-norm hidden
// states, L2-normalised (as OpenAI's are); encoding_format float or base64 (little-endian float32).
HttpResponse ApiServer::embeddings(const HttpRequest& req) {
  const json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error_response(api_error(400, "request body must be a JSON object"));
  const int64_t d = engine_.model().config().n_embd;
  std::string format = "float";
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "input" || k == "user") continue;
    if (k == "model") {
      if (!it.value().is_string()) return error_response(api_error(400, "model: must be a string"));
      if (it.value() != opts_.model_id) return model_not_found(it.value().get<std::string>(), opts_.model_id);
    } else if (k == "encoding_format") {
      if (it.value() != "float" && it.value() != "base64") return error_response(api_error(400, "encoding_format: must be float or base64"));
      format = it.value().get<std::string>();
    } else if (k == "dimensions") {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() != d)
        return error_response(api_error(400, "dimensions: this model's embeddings have " + std::to_string(d) + " dimensions only"));
    } else {
      ApiError e = api_error(400, k + ": unknown parameter for /v1/embeddings");
      e.param = k;
      return error_response(e);
    }
  }
  if (!j.contains("input")) return error_response(api_error(400, "input: is required"));
  const json& in = j["input"];
  std::vector<std::vector<int32_t>> inputs;
  const Tokenizer& tok = engine_.tokenizer();
  auto ids_of = [&](const json& a, std::vector<int32_t>* out) {
    for (const json& x : a) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= tok.vocab().n_tokens()) return false;
      out->push_back((int32_t)x.get<int64_t>());
    }
    return true;
  };
  if (in.is_string()) {
    inputs.push_back(tok.encode(in.get<std::string>(), true, false));
  } else if (in.is_array() && !in.empty() && in[0].is_number_integer()) {
    inputs.emplace_back();
    if (!ids_of(in, &inputs.back())) return error_response(api_error(400, "input: token ids must be integers in the vocabulary"));
  } else if (in.is_array() && !in.empty() && in.size() <= 256) {
    for (const json& x : in) {
      inputs.emplace_back();
      if (x.is_string())
        inputs.back() = tok.encode(x.get<std::string>(), true, false);
      else if (!x.is_array() || !ids_of(x, &inputs.back()))
        return error_response(api_error(400, "input: must be a string, an array of strings, token ids, or arrays of token ids"));
    }
  } else {
    return error_response(api_error(400, "input: must be a non-empty string or array (at most 256 inputs)"));
  }
  std::lock_guard<std::mutex> lk(embed_mu_);
  if (!embed_engine_) {  // a second cache over the same weights: embeddings never wait for generations
    EngineOptions eo = engine_.options();
    eo.n_parallel = 0;
    eo.n_ctx = engine_.n_ctx();
    auto e = Engine::create(engine_.shared_model(), eo, engine_.shared_tokenizer());
    if (!e) return error_response(api_error(500, e.status().message(), "server_error"));
    embed_engine_ = std::move(e).value();
  }
  json data = json::array();
  int64_t n_tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) return error_response(api_error(400, "input[" + std::to_string(i) + "]: is empty"));
    if ((int)inputs[i].size() > embed_engine_->n_ctx())
      return error_response(api_error(400,
                                      "input[" + std::to_string(i) + "]: " + std::to_string(inputs[i].size()) + " tokens exceed the context of " +
                                          std::to_string(embed_engine_->n_ctx()),
                                      "invalid_request_error", "context_length_exceeded"));
    std::vector<float> v;
    const Status st = embed_engine_->embed(inputs[i], true, true, &v);
    if (!st.is_ok()) return error_response(api_error(500, st.message(), "server_error"));
    n_tokens += (int64_t)inputs[i].size();
    json e = {{"object", "embedding"}, {"index", i}};
    if (format == "base64")
      e["embedding"] = base64(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
    else
      e["embedding"] = v;
    data.push_back(e);
  }
  return json_response(
      200, {{"object", "list"}, {"data", data}, {"model", opts_.model_id}, {"usage", {{"prompt_tokens", n_tokens}, {"total_tokens", n_tokens}}}});
}

Result<std::shared_ptr<Grammar>> ApiServer::grammar_for(const std::string& gbnf) {
  std::lock_guard<std::mutex> lk(grammar_mu_);
  for (auto it = grammars_.begin(); it != grammars_.end(); ++it) {
    if (it->first != gbnf) continue;
    grammars_.splice(grammars_.begin(), grammars_, it);
    return it->second;
  }
  auto g = engine_.compile_grammar(gbnf);
  if (!g) return g.status();
  grammars_.emplace_front(gbnf, g.value());
  if (grammars_.size() > 16) grammars_.pop_back();
  return g.value();
}

ApiServer::~ApiServer() {
  stop();
  scheduler_.reset();  // ends running jobs while the HTTP side still exists
  http_.reset();
}

int ApiServer::bind(const std::string& host, int port, std::string* error) { return http_->bind(host, port, error); }
void ApiServer::listen() { http_->run(); }
void ApiServer::stop() {
  if (http_) http_->stop();
}

HttpResponse ApiServer::handle(const HttpRequest& req) {
  HttpResponse res;
  const std::string& p = req.path;
  const bool v1 = p.rfind("/v1/", 0) == 0;
  if (req.method == "OPTIONS") {  // CORS preflight: answered before the key check (browsers send no credentials)
    res.status = 204;
    res.headers = {{"Allow", "GET, POST, OPTIONS"}};
    if (!opts_.cors_origin.empty()) {
      res.headers.push_back({"Access-Control-Allow-Methods", "GET, POST, OPTIONS"});
      res.headers.push_back({"Access-Control-Allow-Headers", "Authorization, Content-Type"});
      res.headers.push_back({"Access-Control-Max-Age", "600"});
    }
  } else if ((v1 || (p == "/metrics" && !opts_.metrics_public)) && !opts_.api_key.empty() &&
             !bearer_matches(req.header("Authorization"), opts_.api_key)) {
    res = error_response(api_error(401, "missing or wrong API key (Authorization: Bearer ...)", "authentication_error", "invalid_api_key"));
  } else if (p == "/v1/completions" || p == "/v1/chat/completions") {
    if (req.method == "POST") {
      res = completion(req, p == "/v1/chat/completions");
    } else {
      res = error_response(api_error(405, req.method + " " + p + ": use POST"));
      res.headers.push_back({"Allow", "POST, OPTIONS"});
    }
  } else if (p == "/v1/embeddings") {
    if (req.method == "POST") {
      res = embeddings(req);
    } else {
      res = error_response(api_error(405, req.method + " " + p + ": use POST"));
      res.headers.push_back({"Allow", "POST, OPTIONS"});
    }
  } else if (p == "/" || p == "/health" || p == "/metrics" || p == "/v1/models" || p.rfind("/v1/models/", 0) == 0) {
    if (req.method != "GET") {
      res = error_response(api_error(405, req.method + " " + p + ": use GET"));
      res.headers.push_back({"Allow", "GET, OPTIONS"});
    } else if (p == "/") {
      res.content_type = "text/html; charset=utf-8";
      res.body = kChatPageHtml;
    } else if (p == "/health") {  // reached from the quick handler, on the I/O thread
      res = json_response(200, {{"status", "ok"}, {"model", opts_.model_id}});
    } else if (p == "/metrics") {
      res = metrics();
    } else {
      const json m = {{"id", opts_.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "pocket"}};
      if (p == "/v1/models")
        res = json_response(200, {{"object", "list"}, {"data", json::array({m})}});
      else if (p.substr(11) == opts_.model_id)
        res = json_response(200, m);
      else
        res = model_not_found(p.substr(11), opts_.model_id);
    }
  } else {
    res = error_response(api_error(404, "no route " + req.method + " " + p, "invalid_request_error", "not_found"));
  }
  return res;
}

HttpResponse ApiServer::with_cors(HttpResponse res) const {
  if (!opts_.cors_origin.empty()) {
    res.headers.push_back({"Access-Control-Allow-Origin", opts_.cors_origin});
    if (opts_.cors_origin != "*") res.headers.push_back({"Vary", "Origin"});
  }
  return res;
}

HttpResponse ApiServer::metrics() const {
  const SchedulerMetrics m = scheduler_->metrics();
  const HttpStats& h = http_->stats();
  std::string t;
  auto line = [&](const char* name, const char* type, const char* help, double v) {
    t += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    t += std::string(name) + " " + json(v).dump() + "\n";
  };
  line("pocket_requests_total", "counter", "requests accepted", (double)m.requests);
  line("pocket_requests_cancelled_total", "counter", "requests cancelled (client gone, timeout) before their end", (double)m.cancelled);
  line("pocket_tokens_after_cancel_total", "counter", "tokens generated by cancelled requests after the cancel was seen",
       (double)m.tokens_after_cancel);
  line("pocket_prompt_tokens_total", "counter", "prompt tokens of admitted requests", (double)m.prompt_tokens);
  line("pocket_prompt_tokens_reused_total", "counter", "prompt tokens whose KV was reused from an earlier request", (double)m.reused_tokens);
  line("pocket_generated_tokens_total", "counter", "tokens generated by finished requests", (double)m.generated_tokens);
  line("pocket_draft_tokens_total", "counter", "speculative decoding: draft tokens proposed (finished requests)", (double)m.draft_tokens);
  line("pocket_draft_accepted_total", "counter", "speculative decoding: draft tokens accepted (finished requests)", (double)m.draft_accepted);
  line("pocket_tokens_per_second", "gauge", "generated tokens per second over the last 5 s", m.recent_tps);
  line("pocket_queue_length", "gauge", "requests waiting for a sequence", m.queued);
  line("pocket_active_sequences", "gauge", "sequences generating", m.active);
  line("pocket_parallel_sequences", "gauge", "sequences (--parallel)", m.n_parallel);
  line("pocket_kv_blocks_in_use", "gauge", "paged KV cache blocks in use", m.kv_blocks_used);
  line("pocket_kv_blocks_total", "gauge", "paged KV cache blocks", m.kv_blocks_total);
  line("pocket_http_connections_open", "gauge", "open client connections", (double)h.open);
  line("pocket_http_connections_idle", "gauge", "connections waiting for a request", (double)h.idle);
  line("pocket_http_connections_total", "counter", "connections accepted", (double)h.accepted);
  line("pocket_http_requests_total", "counter", "HTTP requests read in full", (double)h.requests);
  line("pocket_http_timeouts_total", "counter", "requests past a deadline (408 headers or body, 504 whole request)", (double)h.timeouts);
  line("pocket_http_refused_total", "counter", "requests refused by the HTTP layer (400, 413, 431, 503)", (double)h.refused);
  line("pocket_http_idle_closed_total", "counter", "idle connections closed to make room (idle cap)", (double)h.idle_closed);
  line("pocket_http_disconnects_total", "counter", "clients gone while their reply was pending", (double)h.disconnects);
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(t);
  return r;
}

HttpResponse ApiServer::completion(const HttpRequest& req, bool chat) {
  CompletionRequest cr;
  ApiError err;
  if (!parse_completion_request(req.body, chat, &cr, &err)) return error_response(err);
  if (!cr.model.empty() && cr.model != opts_.model_id) return model_not_found(cr.model, opts_.model_id);
  const Tokenizer& tok = engine_.tokenizer();
  const int32_t bos = tok.vocab().bos;
  const std::string bos_text = bos >= 0 ? tok.token_to_piece(bos, true) : "";
  std::string text = cr.prompt;
  const ChatFormatter& fmt = *opts_.chat;
  if (chat) {
    const nlohmann::ordered_json tools = cr.tool_choice == "none" ? nlohmann::ordered_json() : cr.tools;
    Result<std::string> r = fmt.render(cr.messages_json, tools);
    if (!r.is_ok()) return error_response(request_error(r.status()));
    text = r.value();
  }
  // Constrained output: a JSON object or schema, a grammar, or a forced tool call.
  std::string gbnf;
  std::string gparam = "grammar";
  if (cr.response_format == "json_object") {
    gbnf = json_object_gbnf();
  } else if (cr.response_format == "json_schema") {
    auto g = json_schema_to_gbnf(cr.json_schema);
    gparam = "response_format.json_schema.schema";
    if (!g) return error_response(api_error(400, gparam + ": " + g.status().message()));
    gbnf = g.value();
  } else if (!cr.grammar.empty()) {
    gbnf = cr.grammar;
  } else if (cr.tool_choice == "required" || cr.tool_choice == "function") {
    auto g = tool_call_grammar(fmt.tool_format(), cr.tools, cr.tool_choice_name, cr.parallel_tool_calls);
    gparam = "tools";
    if (!g) return error_response(api_error(400, g.status().message()));
    gbnf = g.value();
  }
  std::shared_ptr<Grammar> grammar;
  if (!gbnf.empty()) {
    auto g = grammar_for(gbnf);
    if (!g) {
      ApiError e = api_error(400, gparam + ": " + g.status().message());
      e.param = gparam;
      return error_response(e);
    }
    grammar = g.value();
  }
  const int n_ctx = engine_.n_ctx();
  // No token covers more text than the longest piece: a prompt longer than n_ctx of them cannot fit, and is
  // refused before it is tokenized (so tokenizing costs at most a context's worth).
  if (text.size() > (size_t)n_ctx * max_piece_bytes_)
    return error_response(api_error(400,
                                    "prompt of " + std::to_string(text.size()) + " bytes is longer than the context of " + std::to_string(n_ctx) +
                                        " tokens can hold (the server's --ctx)",
                                    "invalid_request_error", "context_length_exceeded"));
  // Templates that write BOS themselves get no second one; control markers become their tokens in chats.
  const bool has_bos = !bos_text.empty() && text.rfind(bos_text, 0) == 0;
  std::vector<int32_t> prompt = tok.encode(text, !has_bos, chat && fmt.uses_markers());
  GenerateOptions go;
  go.sampling.temperature = (float)cr.temperature;
  go.sampling.top_p = (float)cr.top_p;
  if (cr.top_k >= 0) go.sampling.top_k = cr.top_k;
  if (cr.min_p >= 0) go.sampling.min_p = (float)cr.min_p;
  if (cr.repeat_penalty >= 0) go.sampling.repeat_penalty = (float)cr.repeat_penalty;
  go.sampling.presence_penalty = (float)cr.presence_penalty;
  go.sampling.frequency_penalty = (float)cr.frequency_penalty;
  go.sampling.seed = cr.seed >= 0 ? (uint64_t)cr.seed : std::random_device{}();
  go.stop_strings = cr.stop;
  if (chat)
    for (const std::string& s : fmt.stop_strings()) go.stop_strings.push_back(s);
  go.sampling.grammar = grammar;
  go.logprobs = cr.logprobs ? cr.top_logprobs : -1;
  ReplyShape shape;
  shape.tools =
      chat && cr.tool_choice != "none" && !cr.tools.empty() && !grammar ? true : cr.tool_choice == "required" || cr.tool_choice == "function";
  shape.forced = cr.tool_choice == "required" || cr.tool_choice == "function";
  shape.format = fmt.tool_format();
  shape.logprobs = cr.logprobs;
  // The checks every generation passes (sampling parameters, prompt ids and length), as Engine::generate.
  const Status valid = Sequence::check(engine_, prompt, go);
  if (!valid.is_ok()) {
    ApiError e = request_error(valid);  // the library names its fields: param and message get the request's names
    if (valid.code() == ErrorCode::kOutOfRange) e.code = "context_length_exceeded";
    return error_response(e);
  }
  // Tokens that can follow the prompt: one per free position, plus the one the last position's logits give.
  const int room = n_ctx - (int)prompt.size() + 1;
  if (cr.max_tokens > room)
    return error_response(api_error(400,
                                    "max_tokens " + std::to_string(cr.max_tokens) + " + prompt " + std::to_string(prompt.size()) +
                                        " tokens exceed the context of " + std::to_string(n_ctx),
                                    "invalid_request_error", "context_length_exceeded"));
  go.n_predict = cr.max_tokens > 0 ? cr.max_tokens : chat ? room : std::min(16, room);
  if (scheduler_->metrics().queued >= opts_.max_queue) {
    HttpResponse busy = error_response(api_error(
        503, "server busy: " + std::to_string(opts_.max_queue) + " requests waiting (the server's --max-queue)", "server_error", "server_busy"));
    busy.headers.push_back({"Retry-After", "1"});
    return busy;
  }
  CompletionResult result;
  result.id = request_id(chat);
  result.model = opts_.model_id;
  result.created = (int64_t)std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  result.prompt_tokens = (int)prompt.size();
  HttpResponse res;
  const int timeout_s = (int)std::chrono::duration_cast<std::chrono::seconds>(opts_.http.request_timeout).count();
  res.pending = std::make_shared<CompletionPending>(scheduler_->submit(std::move(prompt), go), std::move(result), chat, cr.stream, cr.include_usage,
                                                    timeout_s, shape, tok);
  res.streamed = cr.stream;
  if (cr.stream) {
    res.content_type = "text/event-stream";
    res.headers.push_back({"Cache-Control", "no-cache"});
  }
  return res;
}

}  // namespace pocket
