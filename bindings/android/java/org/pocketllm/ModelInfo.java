package org.pocketllm;

import java.nio.charset.StandardCharsets;

/** pocket_model_info: what the GGUF file says about the model. Token ids are -1 when the vocabulary has none. */
public final class ModelInfo {
  public final String architecture; // "llama", "qwen2", ...
  public final String name; // general.name ("" when absent)
  public final String weightType; // the type of most weight bytes: "Q4_0", "Q8_0", "F16", ...
  public final String weightTypes; // "Q4_0 x 42, F32 x 13"
  public final String chatTemplate; // tokenizer.chat_template as stored ("" when absent)
  public final String chatFamily; // the family pocket renders: "llama3", "chatml", ..., "plain"
  public final long nParams;
  public final long weightBytes;
  public final int nVocab, nCtxTrain, nEmbd, nLayer, nHead, nHeadKv, headDim, nFf, slidingWindow;
  public final int bos, eos, eot;

  ModelInfo(byte[][] text, long[] n) {
    architecture = utf8(text[0]);
    name = utf8(text[1]);
    weightType = utf8(text[2]);
    weightTypes = utf8(text[3]);
    chatTemplate = utf8(text[4]);
    chatFamily = utf8(text[5]);
    nParams = n[0];
    weightBytes = n[1];
    nVocab = (int) n[2];
    nCtxTrain = (int) n[3];
    nEmbd = (int) n[4];
    nLayer = (int) n[5];
    nHead = (int) n[6];
    nHeadKv = (int) n[7];
    headDim = (int) n[8];
    nFf = (int) n[9];
    slidingWindow = (int) n[10];
    bos = (int) n[11];
    eos = (int) n[12];
    eot = (int) n[13];
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return String.format("%s '%s' %s, %d params, vocab %d, ctx %d, embd %d, layers %d, chat %s",
        architecture, name, weightType, nParams, nVocab, nCtxTrain, nEmbd, nLayer, chatFamily);
  }
}
