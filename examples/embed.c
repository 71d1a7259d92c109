/* embed.c: an embedding per line of stdin (mean-pooled final hidden states, L2-normalized), then the
 * cosine similarity of each line with the first.
 *   embed MODEL.gguf < lines.txt */
#include <pocket/pocket.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf < lines.txt\n", argv[0]);
    return 2;
  }
  pocket_model* model = NULL;
  pocket_session* session = NULL;
  if (pocket_model_load(argv[1], NULL, &model) != POCKET_OK || pocket_session_new(model, NULL, &session) != POCKET_OK) {
    fprintf(stderr, "embed: %s\n", pocket_last_error());
    pocket_model_free(model);
    return 1;
  }
  pocket_model_info info = {.size = sizeof info};
  pocket_model_get_info(model, &info);
  const size_t d = (size_t)info.n_embd;
  float* first = calloc(d, sizeof(float));
  float* e = calloc(d, sizeof(float));
  pocket_token tokens[2048];
  char line[8192];
  int n_lines = 0, rc = 0;
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    size_t n = 0;
    if (pocket_tokenize(model, line, strlen(line), true, false, tokens, 2048, &n) != POCKET_OK ||
        pocket_session_embed(session, tokens, n, POCKET_POOLING_MEAN, true, e, d) != POCKET_OK) {
      fprintf(stderr, "embed: %s\n", pocket_last_error());
      rc = 1;
      break;
    }
    if (n_lines == 0) memcpy(first, e, d * sizeof(float));
    double dot = 0;
    for (size_t i = 0; i < d; ++i) dot += (double)first[i] * e[i];
    printf("%d\t%zu tokens\tcos(first) %.4f\t[%.4f %.4f %.4f ...]\t%s\n", n_lines, n, dot, e[0], e[1], e[2], line);
    ++n_lines;
  }
  free(first);
  free(e);
  pocket_session_free(session);
  pocket_model_free(model);
  return rc;
}
