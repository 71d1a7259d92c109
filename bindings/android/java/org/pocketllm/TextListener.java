package org.pocketllm;

/** Generated text as it becomes printable (whole characters); return false to stop the generation. */
@FunctionalInterface
public interface TextListener {
  boolean onText(String text);
}
