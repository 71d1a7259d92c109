package org.pocketllm;

import java.util.Arrays;
import java.util.Objects;

/**
 * pocket_generate_params with its pocket_sampling_params. The defaults are those of
 * pocket_generate_default_params() and pocket_sampling_default_params() (PocketTest checks them);
 * the library validates the values when the generation begins.
 */
public final class GenerateOptions {
  int nPredict = 128; // new tokens at most; < 0: until the context is full
  float temperature = 0.8f; // <= 0: greedy
  int topK = 40; // <= 0: off
  float topP = 0.95f; // >= 1: off
  float minP = 0.05f; // <= 0: off
  float repeatPenalty = 1.0f; // 1: off
  float frequencyPenalty = 0.0f;
  float presencePenalty = 0.0f;
  int penaltyLastN = 64;
  long seed = 0; // a uint64 in C: all 64 bits are used
  String[] stopStrings = new String[0];
  boolean stopOnBos = true;
  boolean addSpecial = true;
  boolean parseSpecial = false; // true for chat prompts
  String draftModel = null; // at most one source of drafts: a model,
  boolean draftLookup = false; // prompt lookup,
  int draftSelfLayers = 0; // or the model's own first layers
  int draftMax = 8;
  boolean draftAdaptive = true;

  public GenerateOptions nPredict(int v) { nPredict = v; return this; }
  public GenerateOptions temperature(float v) { temperature = v; return this; }
  public GenerateOptions topK(int v) { topK = v; return this; }
  public GenerateOptions topP(float v) { topP = v; return this; }
  public GenerateOptions minP(float v) { minP = v; return this; }
  public GenerateOptions repeatPenalty(float v) { repeatPenalty = v; return this; }
  public GenerateOptions frequencyPenalty(float v) { frequencyPenalty = v; return this; }
  public GenerateOptions presencePenalty(float v) { presencePenalty = v; return this; }
  public GenerateOptions penaltyLastN(int v) { penaltyLastN = v; return this; }
  public GenerateOptions seed(long v) { seed = v; return this; }
  public GenerateOptions stopOnBos(boolean v) { stopOnBos = v; return this; }
  public GenerateOptions addSpecial(boolean v) { addSpecial = v; return this; }
  public GenerateOptions parseSpecial(boolean v) { parseSpecial = v; return this; }
  public GenerateOptions draftModel(String path) { draftModel = path; return this; }
  public GenerateOptions draftLookup(boolean v) { draftLookup = v; return this; }
  public GenerateOptions draftSelfLayers(int v) { draftSelfLayers = v; return this; }
  public GenerateOptions draftMax(int v) { draftMax = v; return this; }
  public GenerateOptions draftAdaptive(boolean v) { draftAdaptive = v; return this; }

  /** The text ends before the first of these (e.g. PocketModel.chatStopStrings()). */
  public GenerateOptions stopStrings(String... v) {
    Objects.requireNonNull(v, "stopStrings");
    for (int i = 0; i < v.length; i++) Objects.requireNonNull(v[i], "stopStrings[" + i + "]");
    stopStrings = v.clone();
    return this;
  }

  public int nPredict() { return nPredict; }
  public float temperature() { return temperature; }
  public int topK() { return topK; }
  public float topP() { return topP; }
  public float minP() { return minP; }
  public float repeatPenalty() { return repeatPenalty; }
  public float frequencyPenalty() { return frequencyPenalty; }
  public float presencePenalty() { return presencePenalty; }
  public int penaltyLastN() { return penaltyLastN; }
  public long seed() { return seed; }
  public String[] stopStrings() { return stopStrings.clone(); }
  public boolean stopOnBos() { return stopOnBos; }
  public boolean addSpecial() { return addSpecial; }
  public boolean parseSpecial() { return parseSpecial; }
  public String draftModel() { return draftModel; }
  public boolean draftLookup() { return draftLookup; }
  public int draftSelfLayers() { return draftSelfLayers; }
  public int draftMax() { return draftMax; }
  public boolean draftAdaptive() { return draftAdaptive; }

  @Override
  public String toString() {
    return "GenerateOptions{nPredict=" + nPredict + ", temperature=" + temperature + ", topK=" + topK + ", topP=" + topP
        + ", minP=" + minP + ", seed=" + Long.toUnsignedString(seed) + ", stopStrings=" + Arrays.toString(stopStrings) + "}";
  }
}
