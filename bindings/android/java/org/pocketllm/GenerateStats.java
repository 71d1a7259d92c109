package org.pocketllm;

/** pocket_generate_stats: what one generation did and why it ended. */
public final class GenerateStats {
  public final int nPrompt; // prompt tokens of this generation (the history before it included)
  public final int nReused; // of them, already in the cache
  public final int nGenerated;
  public final double promptSeconds, generateSeconds;
  /** "eos", "bos", "stop_string", "n_predict", "context", "callback", "cancelled" or "error". */
  public final String finishReason;
  public final long drafted, accepted; // speculative decoding

  // Built by JNI (signature "(IIIDDLjava/lang/String;JJ)V" in pocket_jni.c).
  GenerateStats(int nPrompt, int nReused, int nGenerated, double promptSeconds, double generateSeconds,
      String finishReason, long drafted, long accepted) {
    this.nPrompt = nPrompt;
    this.nReused = nReused;
    this.nGenerated = nGenerated;
    this.promptSeconds = promptSeconds;
    this.generateSeconds = generateSeconds;
    this.finishReason = finishReason;
    this.drafted = drafted;
    this.accepted = accepted;
  }

  public double tokensPerSecond() {
    return generateSeconds > 0 ? nGenerated / generateSeconds : 0;
  }

  @Override
  public String toString() {
    return String.format("%d prompt (%d reused), %d generated (%.1f tokens/s), stop: %s",
        nPrompt, nReused, nGenerated, tokensPerSecond(), finishReason);
  }
}
