/* pocket.h: the C API of libpocket (C11 and C++).
 *
 * Conventions
 *   - Objects are opaque handles made by *_load / *_new and released by *_free (NULL is accepted there).
 *   - Functions that can fail return a pocket_status; on failure pocket_last_error() holds a message that
 *     names the argument, file or field and the reason. Nothing in this API aborts or throws on bad input.
 *   - Option structs carry their own size: set `size = sizeof(the struct)` (the *_default_params functions
 *     do). A caller compiled against an older, shorter struct gets defaults for the fields it does not know;
 *     a struct larger than this library's is refused (POCKET_ERR_INVALID_ARGUMENT), never half-read.
 *   - Output buffers: functions that write text or tokens take (buf, capacity, &n_written). When the
 *     buffer is too small they write nothing, store the size needed in *n_written and return
 *     POCKET_ERR_BUFFER_TOO_SMALL. Text is NUL-terminated when it fits, and *n_written excludes the NUL
 *     (so capacity must be at least n + 1).
 *
 * Thread safety
 *   - A pocket_model is immutable after loading: any number of threads may use it and the sessions made
 *     from it at once (one session per thread). It must outlive its sessions, samplers and detokenizers.
 *   - A pocket_session, pocket_sampler or pocket_detokenizer is used by one thread at a time.
 *     pocket_session_cancel() is the exception: any thread may call it while another one generates.
 *   - pocket_last_error() is per thread. pocket_set_log_callback() may be called at any time; the callback
 *     may be invoked from any thread that calls into the library.
 */
#ifndef POCKET_POCKET_H
#define POCKET_POCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define POCKET_API __declspec(dllexport)
#else
#define POCKET_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version: the shared library's SONAME is libpocket.so.POCKET_ABI_VERSION. */
#define POCKET_ABI_VERSION 1

typedef int32_t pocket_token;

typedef enum pocket_status {
  POCKET_OK = 0,
  POCKET_ERR_INVALID_ARGUMENT = 1, /* a null handle, a value out of range, an option the model refuses */
  POCKET_ERR_IO = 2,               /* a file could not be opened, read, mapped or written */
  POCKET_ERR_FORMAT = 3,           /* a file violates its format (GGUF, a state file) */
  POCKET_ERR_UNSUPPORTED = 4,      /* valid, but not handled (an architecture, a tensor type) */
  POCKET_ERR_OUT_OF_RANGE = 5,     /* a token id outside the vocabulary, more tokens than the context */
  POCKET_ERR_RESOURCE_LIMIT = 6,   /* over the memory budget, out of memory */
  POCKET_ERR_BUFFER_TOO_SMALL = 7, /* the output buffer cannot hold the result (see *n_written) */
  POCKET_ERR_CANCELLED = 8,        /* a callback asked to stop */
  POCKET_ERR_INTERNAL = 9          /* a bug in the library: please report the message */
} pocket_status;

/* "0.1.0" */
POCKET_API const char* pocket_version(void);
POCKET_API int pocket_abi_version(void);
/* "ok", "invalid_argument", ... */
POCKET_API const char* pocket_status_name(pocket_status status);
/* The message of this thread's most recent call that failed ("" when the most recent call succeeded).
 * Valid until this thread's next call into the library. */
POCKET_API const char* pocket_last_error(void);

typedef enum pocket_log_level { POCKET_LOG_DEBUG = 0, POCKET_LOG_INFO = 1, POCKET_LOG_WARN = 2, POCKET_LOG_ERROR = 3 } pocket_log_level;
typedef void (*pocket_log_callback)(pocket_log_level level, const char* message, void* user);
/* Routes the library's messages (loading, kernel choice, warnings) to callback; NULL restores the default:
 * warnings and errors to stderr. */
POCKET_API void pocket_set_log_callback(pocket_log_callback callback, void* user);

/* ---- model ------------------------------------------------------------------------------------------- */

typedef struct pocket_model pocket_model;

/* Called during loading with the fraction done (0 first, 1 last); return false to cancel the load
 * (pocket_model_load then returns POCKET_ERR_CANCELLED). */
typedef bool (*pocket_progress_callback)(float progress, void* user);

typedef struct pocket_model_params {
  size_t size;
  /* Read every weight page while loading (so the first token does not wait for the disk), with progress
   * per tensor; false: pages are read on first use (progress then goes 0 -> 1). Default true. */
  bool populate;
  pocket_progress_callback progress;
  void* progress_user;
} pocket_model_params;

POCKET_API pocket_model_params pocket_model_default_params(void);
/* Maps a GGUF file (params may be NULL: defaults). */
POCKET_API pocket_status pocket_model_load(const char* path, const pocket_model_params* params, pocket_model** out);
POCKET_API void pocket_model_free(pocket_model* model);

typedef struct pocket_model_info {
  size_t size;
  /* Strings are owned by the model. */
  const char* architecture;  /* general.architecture: "llama", "qwen2", ... */
  const char* name;          /* general.name ("" when absent) */
  const char* weight_type;   /* the type of most weight bytes: "Q4_0", "Q8_0", "F16", ... */
  const char* weight_types;  /* every weight type with its tensor count: "Q4_0 x 42, F32 x 13" */
  const char* chat_template; /* tokenizer.chat_template as stored ("" when absent) */
  const char* chat_family;   /* the template family pocket renders: "llama3", "chatml", ..., "plain" */
  uint64_t n_params;         /* elements of all weight tensors */
  uint64_t weight_bytes;     /* bytes of all weight tensors */
  int32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
  int32_t sliding_window;     /* the model's own attention window (0: none) */
  pocket_token bos, eos, eot; /* -1 when the vocabulary has none */
} pocket_model_info;

/* Fills *info (set info->size first). */
POCKET_API pocket_status pocket_model_get_info(const pocket_model* model, pocket_model_info* info);
/* Any GGUF metadata value as text (numbers in decimal, arrays as "[n items]"). */
POCKET_API pocket_status pocket_model_meta(const pocket_model* model, const char* key, char* buf, size_t capacity, size_t* n_written);
/* An end-of-generation token (EOS or EOT)? */
POCKET_API bool pocket_token_is_eog(const pocket_model* model, pocket_token token);

/* ---- sessions: one sequence's KV cache, history and threads ------------------------------------------- */

typedef enum pocket_kv_type { POCKET_KV_F32 = 0, POCKET_KV_F16 = 1, POCKET_KV_Q8 = 2, POCKET_KV_Q4 = 3 } pocket_kv_type;

typedef struct pocket_session_params {
  size_t size;
  int32_t n_ctx;                /* positions; 0: the model's training context, at most 4096 */
  int32_t n_threads;            /* 0: one per core */
  int32_t n_batch;              /* prompt tokens per forward chunk (default 64) */
  int32_t kv_type_k, kv_type_v; /* pocket_kv_type values (an int: any value a caller sends is checked, not assumed) */
  int32_t kv_window;            /* sliding window with attention sinks: 0 the model's own (if any), -1 none, > 0 positions */
  int32_t kv_sinks;             /* with a window: positions that never leave it (default 4) */
  uint64_t mem_budget;          /* bytes that weights + KV + activations + logits must fit in (0: no limit) */
} pocket_session_params;

POCKET_API pocket_session_params pocket_session_default_params(void);

typedef struct pocket_memory_plan {
  size_t size;
  int32_t n_ctx;                                                      /* positions the session accepts */
  int32_t kv_positions;                                               /* positions the KV memory holds (the window's ring, or n_ctx) */
  uint64_t weights, kv_values, kv_scales, activations, logits, total; /* bytes */
} pocket_memory_plan;

/* What a session with these params would allocate (no allocation; params may be NULL). */
POCKET_API pocket_status pocket_model_plan(const pocket_model* model, const pocket_session_params* params, pocket_memory_plan* plan);

typedef struct pocket_fit {
  size_t size;
  bool fits;
  uint64_t needed_bytes;                            /* the planner's total: weights paged in + KV + activations + logits + runtime */
  uint64_t usable_bytes;                            /* what the device leaves an app */
  double decode_tokens_per_s, prefill_tokens_per_s; /* the planner's estimates (0 for this machine) */
  char reason[256];                                 /* why it does not fit ("" when it fits) */
} pocket_fit;

/* The planner's answer for a device profile (a name from devices/ such as "pixel-8", or a .json path),
 * or for this machine when device is NULL. */
POCKET_API pocket_status pocket_model_fits(const pocket_model* model, const pocket_session_params* params, const char* device, pocket_fit* fit);

typedef struct pocket_session pocket_session;

POCKET_API pocket_status pocket_session_new(pocket_model* model, const pocket_session_params* params, pocket_session** out);
POCKET_API void pocket_session_free(pocket_session* session);
POCKET_API int32_t pocket_session_n_ctx(const pocket_session* session);
/* Tokens in the session's history (prompt and generated; all of them are in its KV cache). */
POCKET_API int32_t pocket_session_n_tokens(const pocket_session* session);
POCKET_API pocket_status pocket_session_tokens(const pocket_session* session, pocket_token* out, size_t capacity, size_t* n_written);
POCKET_API pocket_status pocket_session_memory(const pocket_session* session, pocket_memory_plan* plan);
/* Keeps the first n_keep tokens (0: start over). */
POCKET_API pocket_status pocket_session_truncate(pocket_session* session, int32_t n_keep);

/* Appends tokens to the history and evaluates them (in n_batch chunks); the logits of the last one are
 * then available. Errors (ids outside the vocabulary, more tokens than the context) change nothing. */
POCKET_API pocket_status pocket_session_decode(pocket_session* session, const pocket_token* tokens, size_t n_tokens);
/* The logits after the last token of the history ([n_vocab] floats, owned by the session, valid until the
 * next call that changes the session). A token a generation left unevaluated is evaluated first. */
POCKET_API pocket_status pocket_session_logits(pocket_session* session, const float** logits, int32_t* n_vocab);

typedef enum pocket_pooling { POCKET_POOLING_MEAN = 0, POCKET_POOLING_LAST = 1 } pocket_pooling;
/* An embedding of the tokens (pooling: a pocket_pooling value): the final-norm hidden states pooled over the positions (mean, or the last),
 * L2-normalized when normalize. Replaces the session's history with these tokens. out: [n_embd] floats. */
POCKET_API pocket_status pocket_session_embed(pocket_session* session, const pocket_token* tokens, size_t n_tokens, int32_t pooling, bool normalize,
                                              float* out, size_t capacity);

/* State: the history, its KV cache and the last logits, to a file and back (a prompt cache; an app that
 * restarts without reading the prompt again). Loading needs a session of the same model file with the same
 * KV types and window and a context of at least the saved tokens; it replaces the session's history. */
POCKET_API pocket_status pocket_session_save(pocket_session* session, const char* path);
POCKET_API pocket_status pocket_session_load(pocket_session* session, const char* path);
/* A new session with the same params and a copy of the history, cache and logits. */
POCKET_API pocket_status pocket_session_fork(pocket_session* session, pocket_session** out);

/* ---- tokens and text --------------------------------------------------------------------------------- */

/* add_special: BOS (and EOS) as the vocabulary asks; parse_special: control-token text such as
 * "<|eot_id|>" becomes its token. */
POCKET_API pocket_status pocket_tokenize(const pocket_model* model, const char* text, size_t text_len, bool add_special, bool parse_special,
                                         pocket_token* out, size_t capacity, size_t* n_written);
/* One token's text (special: control tokens as their text, else ""). */
POCKET_API pocket_status pocket_token_to_piece(const pocket_model* model, pocket_token token, bool special, char* buf, size_t capacity,
                                               size_t* n_written);
POCKET_API pocket_status pocket_detokenize(const pocket_model* model, const pocket_token* tokens, size_t n_tokens, bool special, char* buf,
                                           size_t capacity, size_t* n_written);

/* Incremental detokenizing: text as it becomes printable (whole UTF-8 characters, SentencePiece spaces). */
typedef struct pocket_detokenizer pocket_detokenizer;
POCKET_API pocket_status pocket_detokenizer_new(const pocket_model* model, pocket_detokenizer** out);
/* *text (owned by the detokenizer, valid until its next call) receives what token makes printable. */
POCKET_API pocket_status pocket_detokenizer_push(pocket_detokenizer* detok, pocket_token token, const char** text, size_t* text_len);
/* What is still held back (an incomplete character at the end). */
POCKET_API pocket_status pocket_detokenizer_flush(pocket_detokenizer* detok, const char** text, size_t* text_len);
POCKET_API void pocket_detokenizer_free(pocket_detokenizer* detok);

typedef struct pocket_chat_message {
  const char* role; /* "system", "user", "assistant" */
  const char* content;
} pocket_chat_message;

/* The prompt for the messages, ending where the assistant's reply begins, in the template family
 * `family` ("llama3", "chatml", "llama2", "zephyr", "phi3", "gemma", "plain") or, when NULL, the model's
 * own (tokenizer.chat_template). Tokenize it with parse_special = true and add_special = false. */
POCKET_API pocket_status pocket_chat_apply(const pocket_model* model, const char* family, const pocket_chat_message* messages, size_t n_messages,
                                           char* buf, size_t capacity, size_t* n_written);
/* The texts that end an assistant turn in that family (use them as stop strings): *n_written of them in
 * out[], pointers to static strings. */
POCKET_API pocket_status pocket_chat_stop_strings(const pocket_model* model, const char* family, const char** out, size_t capacity,
                                                  size_t* n_written);

/* ---- sampling ---------------------------------------------------------------------------------------- */

typedef struct pocket_sampling_params {
  size_t size;
  float temperature;       /* <= 0: greedy (default 0.8) */
  int32_t top_k;           /* <= 0: off (40) */
  float top_p;             /* >= 1: off (0.95) */
  float min_p;             /* <= 0: off (0.05) */
  float repeat_penalty;    /* 1: off */
  float frequency_penalty; /* 0: off */
  float presence_penalty;  /* 0: off */
  int32_t penalty_last_n;  /* history the penalties look at (64) */
  uint64_t seed;
} pocket_sampling_params;

POCKET_API pocket_sampling_params pocket_sampling_default_params(void);

/* The chain penalties -> top-k -> top-p -> min-p -> temperature -> draw, for callers driving
 * pocket_session_decode themselves. */
typedef struct pocket_sampler pocket_sampler;
POCKET_API pocket_status pocket_sampler_new(const pocket_model* model, const pocket_sampling_params* params, pocket_sampler** out);
POCKET_API pocket_status pocket_sampler_sample(pocket_sampler* sampler, const float* logits, int32_t n_vocab, pocket_token* out);
/* Records a token (prompt or generated) in the history the penalties look at. */
POCKET_API pocket_status pocket_sampler_accept(pocket_sampler* sampler, pocket_token token);
POCKET_API void pocket_sampler_reset(pocket_sampler* sampler);
POCKET_API void pocket_sampler_free(pocket_sampler* sampler);

/* ---- generation -------------------------------------------------------------------------------------- */

typedef struct pocket_generate_params {
  size_t size;
  int32_t n_predict;                      /* new tokens at most (default 128); < 0: until the context is full */
  const pocket_sampling_params* sampling; /* NULL: pocket_sampling_default_params() */
  const char* const* stop_strings;        /* the text ends before the first of these (n_stop_strings of them) */
  size_t n_stop_strings;
  bool stop_on_bos;   /* a generated BOS ends the text (llama2.c-trained models end a story so; default true) */
  bool add_special;   /* prompt text: BOS when the session is empty and the vocabulary asks (default true) */
  bool parse_special; /* prompt text: control-token text becomes its token (default false; true for chat) */
  /* Speculative decoding (at most one source of drafts): */
  const char* draft_model;     /* a draft GGUF with the same vocabulary */
  bool draft_lookup;           /* prompt lookup: drafts copied from earlier text (no second model) */
  int32_t draft_self_layers;   /* > 0: the model's own first layers draft */
  int32_t draft_max;           /* draft tokens per verification at most (default 8) */
  bool draft_adaptive;         /* choose the draft length from measured costs; off when slower (default true) */
  const char* draft_self_type; /* "q4_0", "q8_0", ...: a copy of the model quantized in memory drafts */
} pocket_generate_params;

POCKET_API pocket_generate_params pocket_generate_default_params(void);

typedef struct pocket_generate_stats {
  size_t size;
  int32_t n_prompt;    /* prompt tokens of this generation (the history before it included) */
  int32_t n_reused;    /* of them, already in the cache (not evaluated again) */
  int32_t n_generated; /* tokens generated */
  double prompt_seconds, generate_seconds;
  const char* finish_reason; /* "eos", "bos", "stop_string", "n_predict", "context", "callback", "cancelled", "error" */
  int64_t drafted, accepted; /* speculative decoding: draft tokens proposed and accepted */
} pocket_generate_stats;

/* Receives text as it becomes printable; return false to stop (the generation ends before another token
 * is evaluated, with finish reason "callback"). */
typedef bool (*pocket_text_callback)(const char* text, size_t text_len, void* user);

/* Generates after the session's history: prompt (may be NULL or "") is tokenized and appended, the part of
 * the history not yet evaluated is evaluated, and tokens are sampled until a stop. The generated tokens
 * join the history (a later call continues the conversation with the cache reused). params may be NULL. */
POCKET_API pocket_status pocket_generate(pocket_session* session, const char* prompt, const pocket_generate_params* params,
                                         pocket_text_callback callback, void* user, pocket_generate_stats* stats);

/* The same as steps, for callers that pull text (bindings: generators, iterators): begin, then next until
 * *done, then end (which may also be called early to stop). */
POCKET_API pocket_status pocket_generate_begin(pocket_session* session, const char* prompt, const pocket_generate_params* params);
/* One step (one token, or one speculative verification). *text (owned by the session, valid until its next
 * call) receives the text the step made printable, possibly "". */
POCKET_API pocket_status pocket_generate_next(pocket_session* session, const char** text, size_t* text_len, bool* done);
/* Ends the generation (stats may be NULL). */
POCKET_API pocket_status pocket_generate_end(pocket_session* session, pocket_generate_stats* stats);

/* Asks the session's running generation to stop: it ends before its next token with finish reason
 * "cancelled". Any thread. Beginning a generation clears an earlier request. */
POCKET_API void pocket_session_cancel(pocket_session* session);

#ifdef __cplusplus
}
#endif

#endif /* POCKET_POCKET_H */
