package org.pocketllm;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A GGUF model (pocket_model). Immutable once loaded: any number of threads may use it and the sessions made
 * from it at once. close() may come before the sessions' close(): the C model must outlive its sessions, so
 * it is freed when the last of them closes.
 */
public final class PocketModel implements AutoCloseable {
  private final Handle handle;
  private final String path;
  private final ModelInfo info;
  private long toFree; // the C model once close() was called; freed when no session is left
  private int sessions;

  private PocketModel(long ptr, String path) {
    this.handle = new Handle("model", ptr);
    this.path = path;
    ModelInfo i;
    try {
      i = new ModelInfo(Native.modelInfoText(ptr), Native.modelInfoNumbers(ptr));
    } catch (RuntimeException e) {
      Native.modelFree(ptr);
      throw e;
    }
    this.info = i;
  }

  public static PocketModel load(String path) {
    return load(path, null);
  }

  /** listener (nullable) sees the fraction loaded and may cancel (a PocketException with status "cancelled"). */
  public static PocketModel load(String path, ProgressListener listener) {
    return load(path, true, listener);
  }

  /** populate: read every weight page now (false: on first use; progress then goes 0 -> 1). */
  public static PocketModel load(String path, boolean populate, ProgressListener listener) {
    Objects.requireNonNull(path, "path");
    return new PocketModel(Native.modelLoad(utf8(path), populate, listener), path);
  }

  public String path() {
    return path;
  }

  public ModelInfo info() {
    return handle.use(p -> info); // a closed model throws here like in every other call
  }

  /** Any GGUF metadata value as text (numbers in decimal, arrays as "[n items]"). */
  public String meta(String key) {
    Objects.requireNonNull(key, "key");
    return handle.use(p -> text(Native.modelMeta(p, utf8(key))));
  }

  public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
    Objects.requireNonNull(text, "text");
    return handle.use(p -> Native.tokenize(p, utf8(text), addSpecial, parseSpecial));
  }

  public String detokenize(int[] tokens) {
    return detokenize(tokens, false);
  }

  /** special: control tokens as their text (else they produce nothing). */
  public String detokenize(int[] tokens, boolean special) {
    Objects.requireNonNull(tokens, "tokens");
    return handle.use(p -> text(Native.detokenize(p, tokens, special)));
  }

  /**
   * The prompt for the messages (roles[i] says contents[i]: "system", "user", "assistant"), ending where the
   * assistant's reply begins, in the template family (null: the model's own). Generate from it with
   * GenerateOptions.addSpecial(false).parseSpecial(true) and stop on chatStopStrings(family).
   */
  public String chatApply(String family, String[] roles, String[] contents) {
    Objects.requireNonNull(roles, "roles");
    Objects.requireNonNull(contents, "contents");
    if (roles.length != contents.length)
      throw new IllegalArgumentException("roles has " + roles.length + " entries but contents has " + contents.length);
    byte[][] r = utf8All(roles, "roles"), c = utf8All(contents, "contents");
    byte[] f = family == null ? null : utf8(family);
    return handle.use(p -> text(Native.chatApply(p, f, r, c)));
  }

  /** The texts that end an assistant turn in that family (null: the model's own). */
  public String[] chatStopStrings(String family) {
    byte[] f = family == null ? null : utf8(family);
    byte[][] all = handle.use(p -> Native.chatStopStrings(p, f));
    String[] out = new String[all.length];
    for (int i = 0; i < all.length; i++) out[i] = text(all[i]);
    return out;
  }

  public PocketSession newSession() {
    return newSession(new SessionOptions());
  }

  public PocketSession newSession(SessionOptions o) {
    Objects.requireNonNull(o, "options");
    return handle.use(p -> {
      long s = Native.sessionNew(p, o.nCtx, o.nThreads, o.nBatch, o.kvTypeK.code, o.kvTypeV.code, o.kvWindow, o.kvSinks,
          o.memBudget);
      return new PocketSession(this, s, info.nEmbd); // counted while the read lock keeps close() out
    });
  }

  synchronized void sessionOpened() {
    sessions++;
  }

  synchronized void sessionClosed() {
    sessions--;
    freeIfUnused();
  }

  @Override
  public void close() {
    long p = handle.take();
    if (p == 0) return;
    synchronized (this) {
      toFree = p;
      freeIfUnused();
    }
  }

  private void freeIfUnused() {
    if (sessions == 0 && toFree != 0) {
      Native.modelFree(toFree);
      toFree = 0;
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[][] utf8All(String[] s, String what) {
    byte[][] out = new byte[s.length][];
    for (int i = 0; i < s.length; i++) out[i] = utf8(Objects.requireNonNull(s[i], what + "[" + i + "]"));
    return out;
  }

  static String text(byte[] utf8) {
    return new String(utf8, StandardCharsets.UTF_8);
  }
}
