/* simple.c: load a model, generate from a prompt, stream the text to stdout.
 *   simple MODEL.gguf "PROMPT" [N_PREDICT] [TEMPERATURE] [SEED]
 * Greedy by default (temperature 0): the text equals `pocket run -m MODEL -p PROMPT -n N --temp 0
 * --no-display-prompt` byte for byte. */
#include <pocket/pocket.h>

#include <stdio.h>
#include <stdlib.h>

static bool print_text(const char* text, size_t len, void* user) {
  (void)user;
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  return true;
}

static int fail(const char* what) {
  fprintf(stderr, "simple: %s: %s\n", what, pocket_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.gguf PROMPT [N_PREDICT] [TEMPERATURE] [SEED]\n", argv[0]);
    return 2;
  }
  pocket_model* model = NULL;
  if (pocket_model_load(argv[1], NULL, &model) != POCKET_OK) return fail("load");

  pocket_session_params sp = pocket_session_default_params();
  sp.n_threads = 1;
  pocket_session* session = NULL;
  if (pocket_session_new(model, &sp, &session) != POCKET_OK) {
    pocket_model_free(model);
    return fail("session");
  }

  pocket_sampling_params sampling = pocket_sampling_default_params();
  sampling.temperature = argc > 4 ? (float)atof(argv[4]) : 0.0f;
  sampling.seed = argc > 5 ? (uint64_t)strtoull(argv[5], NULL, 10) : 0;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = argc > 3 ? atoi(argv[3]) : 64;
  gp.sampling = &sampling;

  pocket_generate_stats stats = {.size = sizeof stats};
  const pocket_status st = pocket_generate(session, argv[2], &gp, print_text, NULL, &stats);
  printf("\n");
  if (st != POCKET_OK)
    fail("generate");
  else
    fprintf(stderr, "simple: %d prompt tokens, %d generated (%.1f tokens/s), stop: %s\n", stats.n_prompt, stats.n_generated,
            stats.generate_seconds > 0 ? stats.n_generated / stats.generate_seconds : 0.0, stats.finish_reason);
  pocket_session_free(session);
  pocket_model_free(model);
  return st == POCKET_OK ? 0 : 1;
}
