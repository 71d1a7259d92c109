package org.pocketllm;

/**
 * The JNI entry points (jni/pocket_jni.c). Handles are the C pointers as longs; text crosses as UTF-8
 * byte arrays because JNI's own string functions use modified UTF-8, which mangles characters outside
 * the BMP (emoji). Every non-OK status arrives here as a thrown PocketException.
 */
final class Native {
  static {
    // On Android, libpocket.so sits next to libpocket_jni.so in jniLibs/<abi>/ and is found through its NEEDED entry.
    System.loadLibrary("pocket_jni");
  }

  private Native() {}

  static native String version();

  /** The C defaults, in the order of PocketTest's check (defaults of SessionOptions and GenerateOptions). */
  static native double[] defaults();

  static native long modelLoad(byte[] path, boolean populate, ProgressListener listener);

  static native void modelFree(long model);

  static native byte[][] modelInfoText(long model);

  static native long[] modelInfoNumbers(long model);

  static native byte[] modelMeta(long model, byte[] key);

  static native int[] tokenize(long model, byte[] text, boolean addSpecial, boolean parseSpecial);

  static native byte[] detokenize(long model, int[] tokens, boolean special);

  static native byte[] chatApply(long model, byte[] family, byte[][] roles, byte[][] contents);

  static native byte[][] chatStopStrings(long model, byte[] family);

  static native long sessionNew(long model, int nCtx, int nThreads, int nBatch, int kvTypeK, int kvTypeV, int kvWindow,
      int kvSinks, long memBudget);

  static native void sessionFree(long session);

  static native void sessionCancel(long session);

  static native int sessionNCtx(long session);

  static native int[] sessionTokens(long session);

  static native void sessionTruncate(long session, int nKeep);

  static native void sessionDecode(long session, int[] tokens);

  static native void sessionSave(long session, byte[] path);

  static native void sessionLoad(long session, byte[] path);

  static native long sessionFork(long session);

  static native float[] sessionEmbed(long session, int[] tokens, boolean mean, boolean normalize, int nEmbd);

  static native void generateBegin(long session, byte[] prompt, int nPredict, float temperature, int topK, float topP,
      float minP, float repeatPenalty, float frequencyPenalty, float presencePenalty, int penaltyLastN, long seed,
      byte[][] stopStrings, boolean stopOnBos, boolean addSpecial, boolean parseSpecial, byte[] draftModel,
      boolean draftLookup, int draftSelfLayers, int draftMax, boolean draftAdaptive);

  /** The next step's text (possibly empty), or null once the generation is done and nothing is left. */
  static native byte[] generateNext(long session);

  static native GenerateStats generateEnd(long session);
}
