/* pocket_jni.c: the JNI side of org.pocketllm.Native, a thin layer over include/pocket/pocket.h.
 *
 * Rules this file keeps:
 *   - Nothing here aborts: a zero handle throws IllegalStateException, a null or malformed argument
 *     IllegalArgumentException naming it, and every non-OK status a PocketException carrying
 *     pocket_status_name() and pocket_last_error().
 *   - Text crosses as UTF-8 byte[] (never NewStringUTF/GetStringUTFChars on user text: they use modified
 *     UTF-8, which breaks 4-byte characters, and Android's CheckJNI aborts on bytes it does not accept).
 *   - No callbacks into Java during generation (the pull API); the one callback is load progress, which
 *     runs on the calling thread, so the JNIEnv it uses is the caller's.
 */
#include <jni.h>
#include <pocket/pocket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(jint) == sizeof(pocket_token), "int[] must hold pocket_token ids as they are");

#define JNI_FN(name) JNICALL Java_org_pocketllm_Native_##name

/* ---- exceptions --------------------------------------------------------------------------------------- */

static void throw_java(JNIEnv* env, const char* class_name, const char* message) {
  jclass c = (*env)->FindClass(env, class_name);
  if (c != NULL) (*env)->ThrowNew(env, c, message); /* else NoClassDefFoundError is pending */
}

static void throw_illegal_argument(JNIEnv* env, const char* what, const char* reason) {
  char message[256];
  snprintf(message, sizeof message, "%s %s", what, reason);
  throw_java(env, "java/lang/IllegalArgumentException", message);
}

static void throw_out_of_memory(JNIEnv* env, const char* what) { throw_java(env, "java/lang/OutOfMemoryError", what); }

static jbyteArray new_bytes(JNIEnv* env, const char* data, size_t n) {
  if (n > (size_t)INT32_MAX) {
    throw_out_of_memory(env, "more than 2 GiB of text for a Java byte[]");
    return NULL;
  }
  jbyteArray a = (*env)->NewByteArray(env, (jsize)n);
  if (a != NULL && n > 0) (*env)->SetByteArrayRegion(env, a, 0, (jsize)n, (const jbyte*)data);
  return a;
}

/* The PocketException for status, not yet thrown. It copies pocket_last_error() first: the next call into
 * the library (even pocket_status_name) may replace that message. NULL with a JNI exception pending. */
static jthrowable pocket_exception(JNIEnv* env, pocket_status status) {
  const char* last = pocket_last_error();
  jbyteArray message = new_bytes(env, last, strlen(last));
  if (message == NULL) return NULL;
  jstring name = (*env)->NewStringUTF(env, pocket_status_name(status)); /* ASCII: "io", "invalid_argument", ... */
  if (name == NULL) return NULL;
  jclass c = (*env)->FindClass(env, "org/pocketllm/PocketException");
  if (c == NULL) return NULL;
  jmethodID ctor = (*env)->GetMethodID(env, c, "<init>", "(Ljava/lang/String;[B)V");
  if (ctor == NULL) return NULL;
  return (jthrowable)(*env)->NewObject(env, c, ctor, name, message);
}

static void throw_status(JNIEnv* env, pocket_status status) {
  jthrowable e = pocket_exception(env, status);
  if (e != NULL) (*env)->Throw(env, e);
}

/* True when OK; otherwise the PocketException is pending. */
static bool check(JNIEnv* env, pocket_status status) {
  if (status == POCKET_OK) return true;
  throw_status(env, status);
  return false;
}

/* ---- handles ------------------------------------------------------------------------------------------ */

static pocket_model* model_of(JNIEnv* env, jlong handle) {
  if (handle == 0) throw_java(env, "java/lang/IllegalStateException", "the model is closed (its handle is 0)");
  return (pocket_model*)(intptr_t)handle;
}

static pocket_session* session_of(JNIEnv* env, jlong handle) {
  if (handle == 0) throw_java(env, "java/lang/IllegalStateException", "the session is closed (its handle is 0)");
  return (pocket_session*)(intptr_t)handle;
}

/* ---- arguments in ------------------------------------------------------------------------------------- */

/* *out = a NUL-terminated copy of the UTF-8 bytes, for the API's const char* parameters (free it). A null
 * array gives NULL when nullable. A NUL byte inside is refused: C would silently cut the text there. False
 * with an exception pending on failure. */
static bool c_string(JNIEnv* env, jbyteArray bytes, const char* what, bool nullable, char** out) {
  *out = NULL;
  if (bytes == NULL) {
    if (nullable) return true;
    throw_illegal_argument(env, what, "is null");
    return false;
  }
  const jsize n = (*env)->GetArrayLength(env, bytes);
  char* s = malloc((size_t)n + 1);
  if (s == NULL) {
    throw_out_of_memory(env, what);
    return false;
  }
  (*env)->GetByteArrayRegion(env, bytes, 0, n, (jbyte*)s);
  s[n] = '\0';
  if (strlen(s) != (size_t)n) {
    free(s);
    throw_illegal_argument(env, what, "contains a NUL character (U+0000), which a C string cannot hold");
    return false;
  }
  *out = s;
  return true;
}

/* The elements of a byte[][] as C strings (each free'd by free_strings). */
static bool c_strings(JNIEnv* env, jobjectArray array, const char* what, char*** out, size_t* n_out) {
  *out = NULL;
  *n_out = 0;
  if (array == NULL) {
    throw_illegal_argument(env, what, "is null");
    return false;
  }
  const jsize n = (*env)->GetArrayLength(env, array);
  char** v = calloc((size_t)n + 1, sizeof *v);
  if (v == NULL) {
    throw_out_of_memory(env, what);
    return false;
  }
  for (jsize i = 0; i < n; ++i) {
    jbyteArray item = (jbyteArray)(*env)->GetObjectArrayElement(env, array, i);
    char name[64];
    snprintf(name, sizeof name, "%s[%d]", what, (int)i);
    const bool ok = c_string(env, item, name, false, &v[i]);
    (*env)->DeleteLocalRef(env, item); /* a long array must not exhaust the local reference table */
    if (!ok) {
      for (jsize j = 0; j < i; ++j) free(v[j]);
      free(v);
      return false;
    }
  }
  *out = v;
  *n_out = (size_t)n;
  return true;
}

static void free_strings(char** v, size_t n) {
  if (v == NULL) return;
  for (size_t i = 0; i < n; ++i) free(v[i]);
  free(v);
}

/* A copy of an int[] as pocket_token ids (free it); *n_out its length. */
static bool c_tokens(JNIEnv* env, jintArray tokens, const char* what, pocket_token** out, size_t* n_out) {
  *out = NULL;
  *n_out = 0;
  if (tokens == NULL) {
    throw_illegal_argument(env, what, "is null");
    return false;
  }
  const jsize n = (*env)->GetArrayLength(env, tokens);
  pocket_token* t = malloc(((size_t)n + 1) * sizeof *t); /* + 1: a valid pointer also for an empty array */
  if (t == NULL) {
    throw_out_of_memory(env, what);
    return false;
  }
  (*env)->GetIntArrayRegion(env, tokens, 0, n, (jint*)t);
  *out = t;
  *n_out = (size_t)n;
  return true;
}

/* ---- results out: the (buf, capacity, &n_written) convention ------------------------------------------ */

typedef pocket_status (*text_writer)(const void* ctx, char* buf, size_t capacity, size_t* n_written);
typedef pocket_status (*token_writer)(const void* ctx, pocket_token* buf, size_t capacity, size_t* n_written);

/* Calls write with a guessed capacity and, when the library answers BUFFER_TOO_SMALL, once more with the
 * size it asked for. */
static jbyteArray written_text(JNIEnv* env, text_writer write, const void* ctx, size_t guess) {
  size_t capacity = guess + 1; /* + 1: the NUL */
  for (int attempt = 0; attempt < 2; ++attempt) {
    char* buf = malloc(capacity);
    if (buf == NULL) {
      throw_out_of_memory(env, "text buffer");
      return NULL;
    }
    size_t n = 0;
    const pocket_status st = write(ctx, buf, capacity, &n);
    if (st == POCKET_OK) {
      jbyteArray r = new_bytes(env, buf, n);
      free(buf);
      return r;
    }
    free(buf);
    if (st != POCKET_ERR_BUFFER_TOO_SMALL || attempt == 1) {
      throw_status(env, st);
      return NULL;
    }
    capacity = n + 1;
  }
  return NULL; /* not reached */
}

static jintArray written_tokens(JNIEnv* env, token_writer write, const void* ctx, size_t guess) {
  size_t capacity = guess > 0 ? guess : 1;
  for (int attempt = 0; attempt < 2; ++attempt) {
    pocket_token* buf = malloc(capacity * sizeof *buf);
    if (buf == NULL) {
      throw_out_of_memory(env, "token buffer");
      return NULL;
    }
    size_t n = 0;
    const pocket_status st = write(ctx, buf, capacity, &n);
    if (st == POCKET_OK) {
      jintArray r = (*env)->NewIntArray(env, (jsize)n);
      if (r != NULL && n > 0) (*env)->SetIntArrayRegion(env, r, 0, (jsize)n, (const jint*)buf);
      free(buf);
      return r;
    }
    free(buf);
    if (st != POCKET_ERR_BUFFER_TOO_SMALL || attempt == 1) {
      throw_status(env, st);
      return NULL;
    }
    capacity = n > 0 ? n : 1;
  }
  return NULL; /* not reached */
}

static jobjectArray byte_arrays(JNIEnv* env, const char* const* strings, size_t n) {
  jclass bytes_class = (*env)->FindClass(env, "[B");
  if (bytes_class == NULL) return NULL;
  jobjectArray out = (*env)->NewObjectArray(env, (jsize)n, bytes_class, NULL);
  for (size_t i = 0; out != NULL && i < n; ++i) {
    const char* s = strings[i] != NULL ? strings[i] : "";
    jbyteArray b = new_bytes(env, s, strlen(s));
    if (b == NULL) return NULL;
    (*env)->SetObjectArrayElement(env, out, (jsize)i, b);
    (*env)->DeleteLocalRef(env, b);
  }
  return out;
}

/* ---- library ------------------------------------------------------------------------------------------ */

JNIEXPORT jstring JNI_FN(version)(JNIEnv* env, jclass cls) {
  (void)cls;
  return (*env)->NewStringUTF(env, pocket_version()); /* ASCII ("0.1.0") */
}

/* The C defaults in a fixed order, so that PocketTest can check the Java option classes against them. */
JNIEXPORT jdoubleArray JNI_FN(defaults)(JNIEnv* env, jclass cls) {
  (void)cls;
  const pocket_session_params s = pocket_session_default_params();
  const pocket_generate_params g = pocket_generate_default_params();
  const pocket_sampling_params p = pocket_sampling_default_params();
  const double v[] = {s.n_ctx,       s.n_threads,        s.n_batch,   s.kv_type_k,     s.kv_type_v,      s.kv_window,
                      s.kv_sinks,    (double)s.mem_budget, g.n_predict, g.stop_on_bos,   g.add_special,    g.parse_special,
                      g.draft_lookup, g.draft_self_layers, g.draft_max, g.draft_adaptive, p.temperature,    p.top_k,
                      p.top_p,       p.min_p,            p.repeat_penalty, p.frequency_penalty, p.presence_penalty,
                      p.penalty_last_n, (double)p.seed};
  const jsize n = (jsize)(sizeof v / sizeof v[0]);
  jdoubleArray out = (*env)->NewDoubleArray(env, n);
  if (out != NULL) (*env)->SetDoubleArrayRegion(env, out, 0, n, v);
  return out;
}

/* ---- model -------------------------------------------------------------------------------------------- */

struct progress {
  JNIEnv* env;
  jobject listener;
  jmethodID on_progress;
};

static bool on_progress(float fraction, void* user) {
  struct progress* p = user;
  JNIEnv* env = p->env;
  if ((*env)->ExceptionCheck(env)) return false; /* a listener that threw cancels; its exception is reported */
  const jboolean keep = (*env)->CallBooleanMethod(env, p->listener, p->on_progress, (jfloat)fraction);
  return !(*env)->ExceptionCheck(env) && keep;
}

JNIEXPORT jlong JNI_FN(modelLoad)(JNIEnv* env, jclass cls, jbyteArray path, jboolean populate, jobject listener) {
  (void)cls;
  char* c_path;
  if (!c_string(env, path, "path", false, &c_path)) return 0;
  pocket_model_params params = pocket_model_default_params();
  params.populate = populate;
  struct progress progress = {env, listener, NULL};
  if (listener != NULL) {
    jclass c = (*env)->GetObjectClass(env, listener);
    progress.on_progress = (*env)->GetMethodID(env, c, "onProgress", "(F)Z");
    if (progress.on_progress == NULL) {
      free(c_path);
      return 0;
    }
    params.progress = on_progress;
    params.progress_user = &progress;
  }
  pocket_model* model = NULL;
  const pocket_status st = pocket_model_load(c_path, &params, &model);
  free(c_path);
  if ((*env)->ExceptionCheck(env)) { /* the listener threw: that exception, not "cancelled", is the news */
    pocket_model_free(model);
    return 0;
  }
  if (!check(env, st)) return 0;
  return (jlong)(intptr_t)model;
}

JNIEXPORT void JNI_FN(modelFree)(JNIEnv* env, jclass cls, jlong handle) {
  (void)env;
  (void)cls;
  pocket_model_free((pocket_model*)(intptr_t)handle); /* 0 is accepted */
}

static bool model_info(JNIEnv* env, jlong handle, pocket_model_info* info) {
  pocket_model* model = model_of(env, handle);
  if (model == NULL) return false;
  memset(info, 0, sizeof *info);
  info->size = sizeof *info;
  return check(env, pocket_model_get_info(model, info));
}

/* Order: ModelInfo's constructor. */
JNIEXPORT jobjectArray JNI_FN(modelInfoText)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  pocket_model_info i;
  if (!model_info(env, handle, &i)) return NULL;
  const char* const text[] = {i.architecture, i.name, i.weight_type, i.weight_types, i.chat_template, i.chat_family};
  return byte_arrays(env, text, sizeof text / sizeof text[0]);
}

JNIEXPORT jlongArray JNI_FN(modelInfoNumbers)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  pocket_model_info i;
  if (!model_info(env, handle, &i)) return NULL;
  const jlong n[] = {(jlong)i.n_params, (jlong)i.weight_bytes, i.n_vocab, i.n_ctx_train, i.n_embd, i.n_layer, i.n_head,
                     i.n_head_kv,       i.head_dim,            i.n_ff,    i.sliding_window, i.bos, i.eos, i.eot};
  const jsize count = (jsize)(sizeof n / sizeof n[0]);
  jlongArray out = (*env)->NewLongArray(env, count);
  if (out != NULL) (*env)->SetLongArrayRegion(env, out, 0, count, n);
  return out;
}

struct meta_call {
  const pocket_model* model;
  const char* key;
};

static pocket_status write_meta(const void* ctx, char* buf, size_t capacity, size_t* n_written) {
  const struct meta_call* c = ctx;
  return pocket_model_meta(c->model, c->key, buf, capacity, n_written);
}

JNIEXPORT jbyteArray JNI_FN(modelMeta)(JNIEnv* env, jclass cls, jlong handle, jbyteArray key) {
  (void)cls;
  pocket_model* model = model_of(env, handle);
  char* c_key;
  if (model == NULL || !c_string(env, key, "key", false, &c_key)) return NULL;
  const struct meta_call call = {model, c_key};
  jbyteArray out = written_text(env, write_meta, &call, 64);
  free(c_key);
  return out;
}

/* ---- tokens and text ---------------------------------------------------------------------------------- */

struct tokenize_call {
  const pocket_model* model;
  const char* text;
  size_t len;
  bool add_special, parse_special;
};

static pocket_status write_tokens(const void* ctx, pocket_token* buf, size_t capacity, size_t* n_written) {
  const struct tokenize_call* c = ctx;
  return pocket_tokenize(c->model, c->text, c->len, c->add_special, c->parse_special, buf, capacity, n_written);
}

JNIEXPORT jintArray JNI_FN(tokenize)(JNIEnv* env, jclass cls, jlong handle, jbyteArray text, jboolean add_special,
                                     jboolean parse_special) {
  (void)cls;
  pocket_model* model = model_of(env, handle);
  if (model == NULL) return NULL;
  if (text == NULL) {
    throw_illegal_argument(env, "text", "is null");
    return NULL;
  }
  /* Explicit length: tokenize takes bytes, so a NUL inside is text like any other. */
  const jsize n = (*env)->GetArrayLength(env, text);
  char* bytes = malloc((size_t)n + 1);
  if (bytes == NULL) {
    throw_out_of_memory(env, "text");
    return NULL;
  }
  (*env)->GetByteArrayRegion(env, text, 0, n, (jbyte*)bytes);
  const struct tokenize_call call = {model, bytes, (size_t)n, add_special, parse_special};
  /* A token covers at least one byte, plus BOS/EOS: the guess is rarely short. */
  jintArray out = written_tokens(env, write_tokens, &call, (size_t)n + 4);
  free(bytes);
  return out;
}

struct detokenize_call {
  const pocket_model* model;
  const pocket_token* tokens;
  size_t n;
  bool special;
};

static pocket_status write_detokenized(const void* ctx, char* buf, size_t capacity, size_t* n_written) {
  const struct detokenize_call* c = ctx;
  return pocket_detokenize(c->model, c->tokens, c->n, c->special, buf, capacity, n_written);
}

JNIEXPORT jbyteArray JNI_FN(detokenize)(JNIEnv* env, jclass cls, jlong handle, jintArray tokens, jboolean special) {
  (void)cls;
  pocket_model* model = model_of(env, handle);
  pocket_token* t;
  size_t n;
  if (model == NULL || !c_tokens(env, tokens, "tokens", &t, &n)) return NULL;
  const struct detokenize_call call = {model, t, n, special};
  jbyteArray out = written_text(env, write_detokenized, &call, n * 8 + 16);
  free(t);
  return out;
}

struct chat_call {
  const pocket_model* model;
  const char* family;
  const pocket_chat_message* messages;
  size_t n;
};

static pocket_status write_chat(const void* ctx, char* buf, size_t capacity, size_t* n_written) {
  const struct chat_call* c = ctx;
  return pocket_chat_apply(c->model, c->family, c->messages, c->n, buf, capacity, n_written);
}

JNIEXPORT jbyteArray JNI_FN(chatApply)(JNIEnv* env, jclass cls, jlong handle, jbyteArray family, jobjectArray roles,
                                       jobjectArray contents) {
  (void)cls;
  pocket_model* model = model_of(env, handle);
  if (model == NULL) return NULL;
  char* c_family = NULL;
  char **c_roles = NULL, **c_contents = NULL;
  size_t n_roles = 0, n_contents = 0;
  pocket_chat_message* messages = NULL;
  jbyteArray out = NULL;
  if (!c_string(env, family, "family", true, &c_family) || !c_strings(env, roles, "roles", &c_roles, &n_roles) ||
      !c_strings(env, contents, "contents", &c_contents, &n_contents))
    goto done;
  if (n_roles != n_contents) {
    throw_illegal_argument(env, "roles", "and contents must have the same length");
    goto done;
  }
  messages = calloc(n_roles + 1, sizeof *messages);
  if (messages == NULL) {
    throw_out_of_memory(env, "messages");
    goto done;
  }
  size_t guess = 256;
  for (size_t i = 0; i < n_roles; ++i) {
    messages[i].role = c_roles[i];
    messages[i].content = c_contents[i];
    guess += strlen(c_roles[i]) + strlen(c_contents[i]) + 64; /* + the template's markers */
  }
  const struct chat_call call = {model, c_family, messages, n_roles};
  out = written_text(env, write_chat, &call, guess);
done:
  free(messages);
  free_strings(c_contents, n_contents);
  free_strings(c_roles, n_roles);
  free(c_family);
  return out;
}

JNIEXPORT jobjectArray JNI_FN(chatStopStrings)(JNIEnv* env, jclass cls, jlong handle, jbyteArray family) {
  (void)cls;
  pocket_model* model = model_of(env, handle);
  char* c_family;
  if (model == NULL || !c_string(env, family, "family", true, &c_family)) return NULL;
  const char* stops[64];
  size_t n = 0;
  pocket_status st = pocket_chat_stop_strings(model, c_family, stops, sizeof stops / sizeof stops[0], &n);
  free(c_family);
  return check(env, st) ? byte_arrays(env, stops, n) : NULL;
}

/* ---- sessions ----------------------------------------------------------------------------------------- */

JNIEXPORT jlong JNI_FN(sessionNew)(JNIEnv* env, jclass cls, jlong model_handle, jint n_ctx, jint n_threads, jint n_batch,
                                   jint kv_type_k, jint kv_type_v, jint kv_window, jint kv_sinks, jlong mem_budget) {
  (void)cls;
  pocket_model* model = model_of(env, model_handle);
  if (model == NULL) return 0;
  pocket_session_params p = pocket_session_default_params();
  p.n_ctx = n_ctx;
  p.n_threads = n_threads;
  p.n_batch = n_batch;
  p.kv_type_k = (pocket_kv_type)kv_type_k; /* out-of-range values are refused by the library, by name */
  p.kv_type_v = (pocket_kv_type)kv_type_v;
  p.kv_window = kv_window;
  p.kv_sinks = kv_sinks;
  p.mem_budget = (uint64_t)mem_budget;
  pocket_session* session = NULL;
  if (!check(env, pocket_session_new(model, &p, &session))) return 0;
  return (jlong)(intptr_t)session;
}

JNIEXPORT void JNI_FN(sessionFree)(JNIEnv* env, jclass cls, jlong handle) {
  (void)env;
  (void)cls;
  pocket_session_free((pocket_session*)(intptr_t)handle); /* 0 is accepted */
}

JNIEXPORT void JNI_FN(sessionCancel)(JNIEnv* env, jclass cls, jlong handle) {
  (void)env;
  (void)cls;
  pocket_session_cancel((pocket_session*)(intptr_t)handle); /* any thread; 0 is accepted */
}

JNIEXPORT jint JNI_FN(sessionNCtx)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  return s != NULL ? pocket_session_n_ctx(s) : 0;
}

static pocket_status write_history(const void* ctx, pocket_token* buf, size_t capacity, size_t* n_written) {
  return pocket_session_tokens((const pocket_session*)ctx, buf, capacity, n_written);
}

JNIEXPORT jintArray JNI_FN(sessionTokens)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  if (s == NULL) return NULL;
  return written_tokens(env, write_history, s, (size_t)pocket_session_n_tokens(s));
}

JNIEXPORT void JNI_FN(sessionTruncate)(JNIEnv* env, jclass cls, jlong handle, jint n_keep) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  if (s != NULL) check(env, pocket_session_truncate(s, n_keep));
}

JNIEXPORT void JNI_FN(sessionDecode)(JNIEnv* env, jclass cls, jlong handle, jintArray tokens) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  pocket_token* t;
  size_t n;
  if (s == NULL || !c_tokens(env, tokens, "tokens", &t, &n)) return;
  check(env, pocket_session_decode(s, t, n));
  free(t);
}

JNIEXPORT jfloatArray JNI_FN(sessionEmbed)(JNIEnv* env, jclass cls, jlong handle, jintArray tokens, jboolean mean,
                                           jboolean normalize, jint n_embd) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  if (s == NULL) return NULL;
  if (n_embd <= 0) {
    throw_illegal_argument(env, "nEmbd", "must be > 0");
    return NULL;
  }
  pocket_token* t;
  size_t n;
  if (!c_tokens(env, tokens, "tokens", &t, &n)) return NULL;
  float* e = malloc((size_t)n_embd * sizeof *e);
  jfloatArray out = NULL;
  if (e == NULL) {
    throw_out_of_memory(env, "embedding");
  } else if (check(env, pocket_session_embed(s, t, n, mean ? POCKET_POOLING_MEAN : POCKET_POOLING_LAST, normalize, e,
                                             (size_t)n_embd))) {
    out = (*env)->NewFloatArray(env, n_embd);
    if (out != NULL) (*env)->SetFloatArrayRegion(env, out, 0, n_embd, e);
  }
  free(e);
  free(t);
  return out;
}

typedef pocket_status (*path_fn)(pocket_session* session, const char* path);

static void with_path(JNIEnv* env, jlong handle, jbyteArray path, path_fn fn) {
  pocket_session* s = session_of(env, handle);
  char* c_path;
  if (s == NULL || !c_string(env, path, "path", false, &c_path)) return;
  check(env, fn(s, c_path));
  free(c_path);
}

JNIEXPORT void JNI_FN(sessionSave)(JNIEnv* env, jclass cls, jlong handle, jbyteArray path) {
  (void)cls;
  with_path(env, handle, path, pocket_session_save);
}

JNIEXPORT void JNI_FN(sessionLoad)(JNIEnv* env, jclass cls, jlong handle, jbyteArray path) {
  (void)cls;
  with_path(env, handle, path, pocket_session_load);
}

JNIEXPORT jlong JNI_FN(sessionFork)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  pocket_session* fork = NULL;
  if (s == NULL || !check(env, pocket_session_fork(s, &fork))) return 0;
  return (jlong)(intptr_t)fork;
}

/* ---- generation --------------------------------------------------------------------------------------- */

JNIEXPORT void JNI_FN(generateBegin)(JNIEnv* env, jclass cls, jlong handle, jbyteArray prompt, jint n_predict,
                                     jfloat temperature, jint top_k, jfloat top_p, jfloat min_p, jfloat repeat_penalty,
                                     jfloat frequency_penalty, jfloat presence_penalty, jint penalty_last_n, jlong seed,
                                     jobjectArray stop_strings, jboolean stop_on_bos, jboolean add_special,
                                     jboolean parse_special, jbyteArray draft_model, jboolean draft_lookup,
                                     jint draft_self_layers, jint draft_max, jboolean draft_adaptive) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  if (s == NULL) return;
  char *c_prompt = NULL, *c_draft = NULL, **c_stops = NULL;
  size_t n_stops = 0;
  if (c_string(env, prompt, "prompt", true, &c_prompt) && c_string(env, draft_model, "draftModel", true, &c_draft) &&
      c_strings(env, stop_strings, "stopStrings", &c_stops, &n_stops)) {
    pocket_sampling_params sp = pocket_sampling_default_params();
    sp.temperature = temperature;
    sp.top_k = top_k;
    sp.top_p = top_p;
    sp.min_p = min_p;
    sp.repeat_penalty = repeat_penalty;
    sp.frequency_penalty = frequency_penalty;
    sp.presence_penalty = presence_penalty;
    sp.penalty_last_n = penalty_last_n;
    sp.seed = (uint64_t)seed; /* Java's long carries the uint64 bit for bit */
    pocket_generate_params gp = pocket_generate_default_params();
    gp.n_predict = n_predict;
    gp.sampling = &sp;
    gp.stop_strings = (const char* const*)c_stops;
    gp.n_stop_strings = n_stops;
    gp.stop_on_bos = stop_on_bos;
    gp.add_special = add_special;
    gp.parse_special = parse_special;
    gp.draft_model = c_draft;
    gp.draft_lookup = draft_lookup;
    gp.draft_self_layers = draft_self_layers;
    gp.draft_max = draft_max;
    gp.draft_adaptive = draft_adaptive;
    /* begin copies the strings it keeps, so they are freed right after. */
    check(env, pocket_generate_begin(s, c_prompt, &gp));
  }
  free_strings(c_stops, n_stops);
  free(c_draft);
  free(c_prompt);
}

JNIEXPORT jbyteArray JNI_FN(generateNext)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  if (s == NULL) return NULL;
  const char* text = NULL;
  size_t len = 0;
  bool done = false;
  const pocket_status st = pocket_generate_next(s, &text, &len, &done);
  if (st != POCKET_OK) {
    /* End the failed generation so the session is usable again; the exception is built first because
     * pocket_generate_end replaces pocket_last_error(). */
    jthrowable e = pocket_exception(env, st);
    pocket_generate_end(s, NULL);
    if (e != NULL) (*env)->Throw(env, e);
    return NULL;
  }
  /* Done with text: return the text; the following call reports done again with none, and then null. */
  if (done && len == 0) return NULL;
  return new_bytes(env, text, len);
}

JNIEXPORT jobject JNI_FN(generateEnd)(JNIEnv* env, jclass cls, jlong handle) {
  (void)cls;
  pocket_session* s = session_of(env, handle);
  if (s == NULL) return NULL;
  pocket_generate_stats st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  if (!check(env, pocket_generate_end(s, &st))) return NULL;
  jclass c = (*env)->FindClass(env, "org/pocketllm/GenerateStats");
  if (c == NULL) return NULL;
  jmethodID ctor = (*env)->GetMethodID(env, c, "<init>", "(IIIDDLjava/lang/String;JJ)V");
  if (ctor == NULL) return NULL;
  jstring reason = (*env)->NewStringUTF(env, st.finish_reason != NULL ? st.finish_reason : ""); /* ASCII names */
  if (reason == NULL) return NULL;
  return (*env)->NewObject(env, c, ctor, (jint)st.n_prompt, (jint)st.n_reused, (jint)st.n_generated, st.prompt_seconds,
                           st.generate_seconds, reason, (jlong)st.drafted, (jlong)st.accepted);
}
