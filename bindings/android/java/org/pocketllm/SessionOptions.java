package org.pocketllm;

import java.util.Objects;

/**
 * pocket_session_params. The defaults are pocket_session_default_params()'s (PocketTest checks that they
 * still are); the library validates the values when the session is made.
 */
public final class SessionOptions {
  /** pocket_kv_type: the precision of the KV cache. */
  public enum KvType {
    F32(0), F16(1), Q8(2), Q4(3);

    final int code;

    KvType(int code) {
      this.code = code;
    }
  }

  int nCtx = 0; // 0: the model's training context, at most 4096
  int nThreads = 0; // 0: one per core
  int nBatch = 64;
  KvType kvTypeK = KvType.F32, kvTypeV = KvType.F32;
  int kvWindow = 0; // 0: the model's own window (if any), -1: off, > 0: positions
  int kvSinks = 4;
  long memBudget = 0; // bytes, 0: no limit

  public SessionOptions nCtx(int v) { nCtx = v; return this; }
  public SessionOptions nThreads(int v) { nThreads = v; return this; }
  public SessionOptions nBatch(int v) { nBatch = v; return this; }
  public SessionOptions kvTypeK(KvType v) { kvTypeK = Objects.requireNonNull(v, "kvTypeK"); return this; }
  public SessionOptions kvTypeV(KvType v) { kvTypeV = Objects.requireNonNull(v, "kvTypeV"); return this; }
  public SessionOptions kvWindow(int v) { kvWindow = v; return this; }
  public SessionOptions kvSinks(int v) { kvSinks = v; return this; }

  /** Bytes that weights + KV + activations + logits must fit in (0: no limit). */
  public SessionOptions memBudget(long v) {
    if (v < 0) throw new IllegalArgumentException("memBudget must be >= 0 bytes, got " + v);
    memBudget = v;
    return this;
  }

  public int nCtx() { return nCtx; }
  public int nThreads() { return nThreads; }
  public int nBatch() { return nBatch; }
  public KvType kvTypeK() { return kvTypeK; }
  public KvType kvTypeV() { return kvTypeV; }
  public int kvWindow() { return kvWindow; }
  public int kvSinks() { return kvSinks; }
  public long memBudget() { return memBudget; }
}
