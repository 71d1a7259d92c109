package org.pocketllm;

/** Model loading progress, 0 first and 1 last, on the loading thread; return false to cancel the load. */
@FunctionalInterface
public interface ProgressListener {
  boolean onProgress(float fraction);
}
