#include "server/api_server.h"

#include <chrono>
#include <random>

#include "server/chat_page.h"
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

// A generation in flight: the scheduler's Job, read without blocking whenever it wakes the connection.
class CompletionPending : public HttpPending {
 public:
  CompletionPending(std::shared_ptr<Job> job, CompletionResult result, bool chat, bool stream, bool usage, int timeout_s)
      : job_(std::move(job)), result_(std::move(result)), chat_(chat), stream_(stream), usage_(usage), timeout_s_(timeout_s) {}

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
    if (stream_ && !piece.empty()) {
      p.data = sse(completion_chunk(result_, chat_, piece, "", first_));
      first_ = false;
    } else {
      result_.text += piece;
    }
    if (more) return p;
    p.done = true;
    result_.completion_tokens = job_->n_generated();
    result_.finish_reason = job_->finish_reason();
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
    if (timed_out_) p.data += sse(api_error(504, timeout, "timeout", "timeout").body());
    if (result_.finish_reason == "error") p.data += sse(api_error(500, job_->error_message(), "server_error").body());
    p.data += sse(completion_chunk(result_, chat_, "", timed_out_ ? "length" : result_.finish_reason, first_));
    if (usage_) {
      json u = completion_chunk(result_, chat_, "", "", false);
      u["choices"] = json::array();
      u["usage"] = usage_json(result_);
      p.data += sse(u);
    }
    p.data += "data: [DONE]\n\n";
    return p;
  }

 private:
  std::shared_ptr<Job> job_;
  CompletionResult result_;
  bool chat_, stream_, usage_;
  int timeout_s_;
  bool first_ = true;
  std::atomic<bool> timed_out_{false};
};

}  // namespace

ApiServer::ApiServer(Engine& engine, std::unique_ptr<Scheduler> scheduler, const ServerOptions& opts)
    : engine_(engine), opts_(opts), scheduler_(std::move(scheduler)) {
  for (const std::string& t : engine_.tokenizer().vocab().tokens) max_piece_bytes_ = std::max(max_piece_bytes_, t.size());
  max_piece_bytes_ = std::max<size_t>(max_piece_bytes_, 8);  // byte fallback and <unk> cover at most 4 bytes
  // /health is answered on the I/O thread: a probe gets its answer even while every handler thread works.
  auto quick = [this](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (r.method != "GET" || r.path != "/health") return std::nullopt;
    return with_cors(handle(r));  // the /health branch: no lock, no allocation beyond its few bytes
  };
  http_ = std::make_unique<HttpServer>([this](const HttpRequest& r) { return with_cors(handle(r)); }, quick, opts_.http);
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
  if (chat) {
    Result<std::string> r = render_chat(opts_.chat_template, cr.messages, bos_text);
    if (!r.is_ok()) return error_response(request_error(r.status()));
    text = r.value();
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
  std::vector<int32_t> prompt = tok.encode(text, !has_bos, chat && opts_.chat_template != ChatTemplate::kPlain);
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
    for (const std::string& s : chat_stop_strings(opts_.chat_template)) go.stop_strings.push_back(s);
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
  res.pending =
      std::make_shared<CompletionPending>(scheduler_->submit(std::move(prompt), go), std::move(result), chat, cr.stream, cr.include_usage, timeout_s);
  res.streamed = cr.stream;
  if (cr.stream) {
    res.content_type = "text/event-stream";
    res.headers.push_back({"Cache-Control", "no-cache"});
  }
  return res;
}

}  // namespace pocket
