package org.pocketllm;

import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;

/**
 * One sequence's KV cache and history (pocket_session). Used by one thread at a time: calls from several
 * threads are serialized rather than racing in C. cancel() is the exception: any thread, at any time, also
 * after close().
 *
 * Generation is pull-style underneath (pocket_generate_begin/next/end), so no native code calls back into
 * Java: generate() is a loop over next() that hands each piece to the listener.
 */
public final class PocketSession implements AutoCloseable {
  private final PocketModel model;
  private final Handle handle;
  private final int nEmbd;
  // Serializes the calls that need the session to themselves; cancel() stays outside so it can interrupt them.
  private final ReentrantLock busy = new ReentrantLock();
  private boolean generating;
  private boolean done; // generateNext reported the end; next() returns null from now on

  // nEmbd comes from the caller: a fork may outlive the model's close(), after which info() throws.
  PocketSession(PocketModel model, long ptr, int nEmbd) {
    this.model = model;
    this.handle = new Handle("session", ptr);
    this.nEmbd = nEmbd;
    model.sessionOpened();
  }

  private <T> T exclusive(LongFunction<T> body) {
    busy.lock();
    try {
      return handle.use(body);
    } finally {
      busy.unlock();
    }
  }

  public PocketModel model() {
    return model;
  }

  public int nCtx() {
    return exclusive(Native::sessionNCtx);
  }

  /** The history: prompt and generated tokens, all in the KV cache. */
  public int[] tokens() {
    return exclusive(Native::sessionTokens);
  }

  /** Keeps the first nKeep tokens of the history (0: start over). */
  public void truncate(int nKeep) {
    exclusive(p -> { Native.sessionTruncate(p, nKeep); return null; });
  }

  /** Appends tokens to the history and evaluates them. */
  public void decode(int[] tokens) {
    Objects.requireNonNull(tokens, "tokens");
    exclusive(p -> { Native.sessionDecode(p, tokens); return null; });
  }

  /**
   * An embedding of the tokens (mean over the positions, or the last one), L2-normalized when normalize:
   * nEmbd floats. Replaces the session's history with these tokens.
   */
  public float[] embed(int[] tokens, boolean mean, boolean normalize) {
    Objects.requireNonNull(tokens, "tokens");
    return exclusive(p -> Native.sessionEmbed(p, tokens, mean, normalize, nEmbd));
  }

  /** Writes the history, its KV cache and the last logits to a file (a prompt cache). */
  public void save(String path) {
    Objects.requireNonNull(path, "path");
    exclusive(p -> { Native.sessionSave(p, PocketModel.utf8(path)); return null; });
  }

  /** Replaces the history with a saved one (same model file, KV types and window; a context large enough). */
  public void load(String path) {
    Objects.requireNonNull(path, "path");
    exclusive(p -> { Native.sessionLoad(p, PocketModel.utf8(path)); return null; });
  }

  /** A new session with the same options and a copy of the history, cache and logits. */
  public PocketSession fork() {
    return exclusive(p -> new PocketSession(model, Native.sessionFork(p), nEmbd));
  }

  /**
   * Generates after the history (prompt may be "" to continue), handing text to listener (nullable) until a
   * stop; a listener returning false ends it early (finish reason "cancelled"). The generated tokens join
   * the history.
   */
  public GenerateStats generate(String prompt, GenerateOptions options, TextListener listener) {
    begin(prompt, options);
    boolean ok = false;
    try {
      for (String piece; (piece = next()) != null; )
        if (listener != null && !listener.onText(piece)) break;
      ok = true;
    } finally {
      // A failed next() has ended the generation already; a listener that threw leaves it to end here.
      if (!ok && generating) endQuietly();
    }
    return end();
  }

  public GenerateStats generate(String prompt, GenerateOptions options) {
    return generate(prompt, options, null);
  }

  /** Starts a generation for next()/end(). options may be null (the defaults). */
  public void begin(String prompt, GenerateOptions options) {
    GenerateOptions o = options != null ? options : new GenerateOptions();
    byte[] text = PocketModel.utf8(prompt == null ? "" : prompt);
    byte[][] stops = PocketModel.utf8All(o.stopStrings, "stopStrings");
    byte[] draft = o.draftModel == null ? null : PocketModel.utf8(o.draftModel);
    exclusive(p -> {
      Native.generateBegin(p, text, o.nPredict, o.temperature, o.topK, o.topP, o.minP, o.repeatPenalty,
          o.frequencyPenalty, o.presencePenalty, o.penaltyLastN, o.seed, stops, o.stopOnBos, o.addSpecial,
          o.parseSpecial, draft, o.draftLookup, o.draftSelfLayers, o.draftMax, o.draftAdaptive);
      generating = true;
      done = false;
      return null;
    });
  }

  /** The next piece of text (never ""), or null when the generation is over; end() then gives the stats. */
  public String next() {
    return exclusive(p -> {
      if (!generating) throw new IllegalStateException("next(): no generation running (call begin() first)");
      while (!done) {
        byte[] piece;
        try {
          piece = Native.generateNext(p);
        } catch (PocketException e) {
          generating = false; // the native side ended the generation before throwing
          throw e;
        }
        if (piece == null) done = true;
        else if (piece.length > 0) return PocketModel.text(piece);
      }
      return null;
    });
  }

  /** Ends the generation, also early (finish reason "cancelled"), and returns its stats. */
  public GenerateStats end() {
    return exclusive(p -> {
      if (!generating) throw new IllegalStateException("end(): no generation running");
      generating = false;
      return Native.generateEnd(p);
    });
  }

  private void endQuietly() {
    try {
      end();
    } catch (RuntimeException ignored) {
      // the exception that brought us here is the one to report
    }
  }

  /** Asks a running generation to stop before its next token (finish reason "cancelled"). Any thread. */
  public void cancel() {
    handle.useIfOpen(Native::sessionCancel);
  }

  @Override
  public void close() {
    busy.lock(); // waits for a running call on another thread (cancel() first if it should not wait long)
    long p;
    try {
      p = handle.take();
    } finally {
      busy.unlock();
    }
    if (p == 0) return;
    Native.sessionFree(p);
    model.sessionClosed();
  }
}
