/* chat.c: a chat loop over the model's template, streaming each reply; the cache keeps the conversation,
 * so each turn evaluates only its new tokens. Ctrl-C (SIGINT) cancels the reply being generated.
 *   chat MODEL.gguf [MAX_REPLY_TOKENS]      (reads user turns from stdin, one per line)
 * Base models without a template (stories15M) use the "plain" family: the text continues. */
#include <pocket/pocket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pocket_session* g_session = NULL;

static void on_sigint(int sig) {
  (void)sig;
  if (g_session) pocket_session_cancel(g_session); /* any thread (or a signal handler): sets a flag */
}

static bool print_text(const char* text, size_t len, void* user) {
  size_t* total = (size_t*)user;
  *total += len;
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  return true;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf [MAX_REPLY_TOKENS]\n", argv[0]);
    return 2;
  }
  pocket_model* model = NULL;
  if (pocket_model_load(argv[1], NULL, &model) != POCKET_OK) {
    fprintf(stderr, "chat: %s\n", pocket_last_error());
    return 1;
  }
  pocket_model_info info = {.size = sizeof info};
  pocket_model_get_info(model, &info);
  fprintf(stderr, "chat: %s (%s, %s), template %s\n", argv[1], info.architecture, info.weight_type, info.chat_family);

  pocket_session* session = NULL;
  if (pocket_session_new(model, NULL, &session) != POCKET_OK) {
    fprintf(stderr, "chat: %s\n", pocket_last_error());
    pocket_model_free(model);
    return 1;
  }
  g_session = session;
  signal(SIGINT, on_sigint);

  const char* stops[8];
  size_t n_stops = 0;
  pocket_chat_stop_strings(model, NULL, stops, 8, &n_stops);
  pocket_sampling_params sampling = pocket_sampling_default_params();
  sampling.temperature = 0.0f;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = argc > 2 ? atoi(argv[2]) : 128;
  gp.sampling = &sampling;
  gp.stop_strings = stops;
  gp.n_stop_strings = n_stops;
  gp.parse_special = true;

  char line[4096];
  int rc = 0;
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '\0') continue;
    /* Each turn renders only the new user message (plus the assistant header); the earlier turns are in
     * the session already. The first turn starts the template (BOS, system). */
    pocket_chat_message msg = {"user", line};
    char prompt[8192];
    size_t n = 0;
    if (pocket_chat_apply(model, NULL, &msg, 1, prompt, sizeof prompt, &n) != POCKET_OK) {
      fprintf(stderr, "chat: %s\n", pocket_last_error());
      rc = 1;
      break;
    }
    /* A rendered template may begin with the BOS text; after the first turn it must not repeat. */
    gp.add_special = pocket_session_n_tokens(session) == 0;
    size_t printed = 0;
    pocket_generate_stats stats = {.size = sizeof stats};
    if (pocket_generate(session, prompt, &gp, print_text, &printed, &stats) != POCKET_OK) {
      fprintf(stderr, "\nchat: %s\n", pocket_last_error());
      rc = 1;
      break;
    }
    printf("\n");
    fflush(stdout);
    fprintf(stderr, "[%d tokens reused, %d new, %d generated, stop: %s]\n", stats.n_reused, stats.n_prompt - stats.n_reused, stats.n_generated,
            stats.finish_reason);
  }
  g_session = NULL;
  pocket_session_free(session);
  pocket_model_free(model);
  return rc;
}
