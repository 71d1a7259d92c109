// The server's request parser and validator (/v1/completions and /v1/chat/completions bodies), and
// the response builders on whatever it accepts.
#include "server/openai_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (bool chat : {false, true}) {
    pocket::CompletionRequest r;
    pocket::ApiError e;
    if (pocket::parse_completion_request(body, chat, &r, &e)) {
      pocket::CompletionResult res;
      res.text = r.prompt;
      (void)pocket::to_json_text(pocket::completion_response(res, chat));
      (void)pocket::to_json_text(pocket::completion_chunk(res, chat, r.prompt, "", true));
    } else {
      (void)pocket::to_json_text(e.body());
    }
  }
  return 0;
}
