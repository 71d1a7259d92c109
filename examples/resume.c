/* resume.c: a prompt cache across processes. The first run evaluates the prompt and saves the session
 * (history, KV cache, logits); a later process loads it and continues without reading the prompt again.
 *   resume MODEL.gguf save STATE "PROMPT"
 *   resume MODEL.gguf load STATE [N_PREDICT]     (greedy: the text equals `simple MODEL PROMPT N`) */
#include <pocket/pocket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool print_text(const char* text, size_t len, void* user) {
  (void)user;
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  return true;
}

int main(int argc, char** argv) {
  if (argc < 4 || (strcmp(argv[2], "save") != 0 && strcmp(argv[2], "load") != 0) || (strcmp(argv[2], "save") == 0 && argc < 5)) {
    fprintf(stderr, "usage: %s MODEL.gguf save STATE PROMPT | %s MODEL.gguf load STATE [N_PREDICT]\n", argv[0], argv[0]);
    return 2;
  }
  pocket_model* model = NULL;
  pocket_session* session = NULL;
  pocket_session_params sp = pocket_session_default_params();
  sp.n_threads = 1;
  if (pocket_model_load(argv[1], NULL, &model) != POCKET_OK || pocket_session_new(model, &sp, &session) != POCKET_OK) {
    fprintf(stderr, "resume: %s\n", pocket_last_error());
    pocket_model_free(model);
    return 1;
  }
  int rc = 0;
  if (strcmp(argv[2], "save") == 0) {
    /* Tokenize the prompt as generation would (BOS first) and evaluate it. */
    size_t n = 0;
    pocket_tokenize(model, argv[4], strlen(argv[4]), true, false, NULL, 0, &n); /* the size needed */
    pocket_token* ids = malloc((n ? n : 1) * sizeof *ids);
    if (pocket_tokenize(model, argv[4], strlen(argv[4]), true, false, ids, n, &n) != POCKET_OK ||
        pocket_session_decode(session, ids, n) != POCKET_OK || pocket_session_save(session, argv[3]) != POCKET_OK) {
      fprintf(stderr, "resume: %s\n", pocket_last_error());
      rc = 1;
    } else {
      fprintf(stderr, "resume: %zu prompt tokens saved to %s\n", n, argv[3]);
    }
    free(ids);
  } else {
    pocket_sampling_params sampling = pocket_sampling_default_params();
    sampling.temperature = 0.0f;
    pocket_generate_params gp = pocket_generate_default_params();
    gp.n_predict = argc > 4 ? atoi(argv[4]) : 64;
    gp.sampling = &sampling;
    pocket_generate_stats stats = {.size = sizeof stats};
    if (pocket_session_load(session, argv[3]) != POCKET_OK || pocket_generate(session, NULL, &gp, print_text, NULL, &stats) != POCKET_OK) {
      fprintf(stderr, "resume: %s\n", pocket_last_error());
      rc = 1;
    } else {
      printf("\n");
      fprintf(stderr, "resume: %d tokens loaded (%d evaluated again), %d generated\n", stats.n_prompt, stats.n_prompt - stats.n_reused,
              stats.n_generated);
    }
  }
  pocket_session_free(session);
  pocket_model_free(model);
  return rc;
}
