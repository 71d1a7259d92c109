// Helpers for the C API tests: RAII holders for the handles and the stories15M files.
#pragma once

#include <memory>
#include <string>

#include "pocket/pocket.h"
#include "test_support.h"

namespace pocket::test {

struct ModelFree {
  void operator()(pocket_model* m) const { pocket_model_free(m); }
};
struct SessionFree {
  void operator()(pocket_session* s) const { pocket_session_free(s); }
};
using ModelPtr = std::unique_ptr<pocket_model, ModelFree>;
using SessionPtr = std::unique_ptr<pocket_session, SessionFree>;

inline std::string f32_model() { return shared("golden/stories15M-f32.llamacpp.gguf"); }
inline std::string q4_model() { return shared("golden/stories15M-q4_0.llamacpp.gguf"); }

inline ModelPtr load_model(const std::string& path) {
  pocket_model* m = nullptr;
  if (pocket_model_load(path.c_str(), nullptr, &m) != POCKET_OK) return nullptr;
  return ModelPtr(m);
}

inline SessionPtr new_session(pocket_model* m, int n_ctx = 256) {
  pocket_session_params p = pocket_session_default_params();
  p.n_ctx = n_ctx;
  p.n_threads = 1;
  pocket_session* s = nullptr;
  if (pocket_session_new(m, &p, &s) != POCKET_OK) return nullptr;
  return SessionPtr(s);
}

inline bool append_text(const char* text, size_t len, void* user) {
  static_cast<std::string*>(user)->append(text, len);
  return true;
}

// Greedy text of n tokens after prompt, through pocket_generate.
inline std::string greedy(pocket_session* s, const char* prompt, int n, pocket_generate_stats* stats = nullptr) {
  pocket_sampling_params sp = pocket_sampling_default_params();
  sp.temperature = 0;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = n;
  gp.sampling = &sp;
  std::string out;
  if (pocket_generate(s, prompt, &gp, append_text, &out, stats) != POCKET_OK) return "<error: " + std::string(pocket_last_error()) + ">";
  return out;
}

}  // namespace pocket::test
