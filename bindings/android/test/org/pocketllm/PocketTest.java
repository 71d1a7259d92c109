package org.pocketllm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binding's test, a plain main (no JUnit, so it runs with nothing but a JDK):
 *   java -Djava.library.path=OUT -cp OUT/classes org.pocketllm.PocketTest MODEL EXPECTED_FILE
 * EXPECTED_FILE holds the CLI's greedy text for "Once upon a time" (-n 64 --temp 0 -t 1) and its '\n'.
 * Prints PASS/FAIL per check; exits 1 when any failed.
 */
public final class PocketTest {
  private static final String PROMPT = "Once upon a time";
  private static int failures = 0;

  interface Check {
    void run() throws Exception;
  }

  private static void check(String name, Check body) {
    try {
      body.run();
      System.out.println("PASS " + name);
    } catch (Throwable t) { // AssertionError and anything the binding threw: a FAIL, never a crash of the run
      failures++;
      System.out.println("FAIL " + name + ": " + t);
    }
  }

  private static void expect(boolean ok, String what) {
    if (!ok) throw new AssertionError(what);
  }

  private static SessionOptions oneThread() {
    return new SessionOptions().nThreads(1); // the CLI reference ran with -t 1
  }

  private static GenerateOptions greedy(int n) {
    return new GenerateOptions().nPredict(n).temperature(0f);
  }

  /** generate() with a listener that collects the text. */
  private static String generateText(PocketSession s, String prompt, int n) {
    StringBuilder text = new StringBuilder();
    s.generate(prompt, greedy(n), piece -> {
      text.append(piece);
      return true;
    });
    return text.toString();
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: PocketTest MODEL EXPECTED_FILE");
      System.exit(2);
    }
    final String modelPath = args[0];
    final byte[] expected = Files.readAllBytes(Path.of(args[1]));
    System.out.println("libpocket " + Native.version());

    check("defaults match pocket_*_default_params", () -> {
      SessionOptions s = new SessionOptions();
      GenerateOptions g = new GenerateOptions();
      double[] java = {s.nCtx(), s.nThreads(), s.nBatch(), s.kvTypeK().code, s.kvTypeV().code, s.kvWindow(), s.kvSinks(),
          s.memBudget(), g.nPredict(), b(g.stopOnBos()), b(g.addSpecial()), b(g.parseSpecial()), b(g.draftLookup()),
          g.draftSelfLayers(), g.draftMax(), b(g.draftAdaptive()), g.temperature(), g.topK(), g.topP(), g.minP(),
          g.repeatPenalty(), g.frequencyPenalty(), g.presencePenalty(), g.penaltyLastN(), g.seed()};
      double[] c = Native.defaults();
      expect(Arrays.equals(java, c), "Java " + Arrays.toString(java) + " but C " + Arrays.toString(c));
    });

    check("bad model path throws PocketException naming the path", () -> {
      String bad = "/nonexistent/dir/no-such-model-\u00e9\uD83E\uDD8A.gguf"; // non-ASCII: the message comes back as UTF-8
      try {
        PocketModel.load(bad).close();
        throw new AssertionError("no exception");
      } catch (PocketException e) {
        expect(e.getMessage().contains(bad), "message does not contain the path: " + e.getMessage());
        expect(!e.status().isEmpty() && !e.status().equals("ok"), "status: " + e.status());
      }
    });

    check("progress listener sees 0..1 and can cancel", () -> {
      List<Float> seen = new ArrayList<>();
      PocketModel.load(modelPath, f -> seen.add(f)).close();
      expect(seen.get(0) == 0f && seen.get(seen.size() - 1) == 1f, "progress " + seen);
      try {
        PocketModel.load(modelPath, f -> false).close();
        throw new AssertionError("no exception");
      } catch (PocketException e) {
        expect(e.status().equals("cancelled"), "status " + e.status());
      }
    });

    try (PocketModel model = PocketModel.load(modelPath)) {
      ModelInfo info = model.info();
      System.out.println("model: " + info);

      check("info", () -> {
        expect(info.nVocab > 0 && info.nEmbd > 0 && info.nLayer > 0 && info.nCtxTrain > 0, info.toString());
        expect(!info.architecture.isEmpty() && !info.weightType.isEmpty() && !info.chatFamily.isEmpty(), info.toString());
        expect(info.bos >= -1 && info.bos < info.nVocab && info.eos >= -1 && info.eos < info.nVocab, "bos/eos");
        expect(model.meta("general.architecture").equals(info.architecture), "meta general.architecture");
      });

      check("greedy generate equals the CLI byte for byte", () -> {
        try (PocketSession s = model.newSession(oneThread())) {
          String text = generateText(s, PROMPT, 64);
          byte[] got = (text + "\n").getBytes(StandardCharsets.UTF_8);
          expect(Arrays.equals(got, expected), "got\n" + text + "\nexpected\n" + new String(expected, StandardCharsets.UTF_8));
        }
      });

      check("pull API (begin/next/end) gives the same text", () -> {
        try (PocketSession s = model.newSession(oneThread())) {
          StringBuilder text = new StringBuilder();
          s.begin(PROMPT, greedy(64));
          for (String piece; (piece = s.next()) != null; ) {
            expect(!piece.isEmpty(), "an empty piece");
            text.append(piece);
          }
          expect(s.next() == null, "next() after the end is not null");
          GenerateStats st = s.end();
          byte[] got = (text + "\n").getBytes(StandardCharsets.UTF_8);
          expect(Arrays.equals(got, expected), "got\n" + text);
          expect(st.nGenerated > 0 && st.nGenerated <= 64 && st.nPrompt > 0, st.toString());
          expect(s.tokens().length == st.nPrompt + st.nGenerated, "history " + s.tokens().length + " vs " + st);
        }
      });

      check("stop strings end the text before them", () -> {
        String ref = new String(expected, StandardCharsets.UTF_8);
        int at = ref.indexOf("Lily");
        expect(at > 0, "the reference has no 'Lily' to stop on");
        try (PocketSession s = model.newSession(oneThread())) {
          StringBuilder text = new StringBuilder();
          GenerateStats st = s.generate(PROMPT, greedy(64).stopStrings("Lily", "\u00fcnused \uD83E\uDD8A"), piece -> {
            text.append(piece);
            return true;
          });
          expect(st.finishReason.equals("stop_string"), "finish " + st.finishReason);
          expect(text.toString().equals(ref.substring(0, at)), "got '" + text + "'");
        }
      });

      check("tokenize/detokenize round trip (with 4-byte UTF-8)", () -> {
        String text = "Once upon a time, a fox \uD83E\uDD8A said \u00fcber-caf\u00e9 \u4e16\u754c.";
        int[] ids = model.tokenize(text, false, false);
        expect(ids.length > 0, "no tokens");
        String back = model.detokenize(ids);
        expect(back.equals(text), "got '" + back + "'");
        int[] withBos = model.tokenize(text, true, false);
        expect(info.bos < 0 || withBos[0] == info.bos, "addSpecial gives no BOS first");
        expect(model.tokenize("", false, false).length == 0, "empty text gives tokens");
      });

      check("listener returning false after 3 pieces stops", () -> {
        try (PocketSession s = model.newSession(oneThread())) {
          int[] pieces = {0};
          GenerateStats st = s.generate(PROMPT, greedy(64), piece -> ++pieces[0] < 3);
          expect(pieces[0] == 3, "listener called " + pieces[0] + " times");
          expect(st.nGenerated >= 3 && st.nGenerated <= 4, "nGenerated " + st.nGenerated);
          expect(st.finishReason.equals("cancelled") || st.finishReason.equals("callback"), "finish " + st.finishReason);
          // The session is usable again after the early end.
          String more = generateText(s, "", 3);
          expect(!more.isEmpty(), "no text after the early end");
        }
      });

      check("cancel() from another thread", () -> {
        try (PocketSession s = model.newSession(oneThread())) {
          int[] pieces = {0};
          GenerateStats st = s.generate(PROMPT, greedy(64), piece -> {
            if (++pieces[0] == 2) {
              Thread t = new Thread(s::cancel);
              t.start();
              try {
                t.join();
              } catch (InterruptedException e) {
                throw new RuntimeException(e);
              }
            }
            return true;
          });
          expect(st.finishReason.equals("cancelled"), "finish " + st.finishReason);
          expect(st.nGenerated <= 3, "nGenerated " + st.nGenerated);
        }
      });

      check("save after 10 tokens, load, 20 more == 30 in one go", () -> {
        Path state = Files.createTempFile("pocket-state", ".bin");
        try {
          String a, b, c;
          int[] tokensB, tokensC;
          try (PocketSession sa = model.newSession(oneThread())) {
            a = generateText(sa, PROMPT, 10);
            sa.save(state.toString());
          }
          try (PocketSession sb = model.newSession(oneThread())) {
            sb.load(state.toString());
            b = generateText(sb, "", 20);
            tokensB = sb.tokens();
          }
          try (PocketSession sc = model.newSession(oneThread())) {
            c = generateText(sc, PROMPT, 30);
            tokensC = sc.tokens();
          }
          expect((a + b).equals(c), "A+B\n" + a + "|" + b + "\nC\n" + c);
          expect(Arrays.equals(tokensB, tokensC), "histories differ");
        } finally {
          Files.deleteIfExists(state);
        }
      });

      check("fork continues like the original", () -> {
        try (PocketSession s = model.newSession(oneThread())) {
          generateText(s, PROMPT, 5);
          try (PocketSession f = s.fork()) {
            String x = generateText(s, "", 8), y = generateText(f, "", 8);
            expect(x.equals(y) && !x.isEmpty(), "'" + x + "' vs '" + y + "'");
          }
        }
      });

      check("embed: nEmbd floats, L2 norm 1 when normalize", () -> {
        try (PocketSession s = model.newSession(oneThread())) {
          int[] ids = model.tokenize("The cat sat on the mat.", true, false);
          float[] e = s.embed(ids, true, true);
          expect(e.length == info.nEmbd, "length " + e.length + " vs nEmbd " + info.nEmbd);
          double n2 = 0;
          for (float v : e) n2 += (double) v * v;
          expect(Math.abs(Math.sqrt(n2) - 1.0) < 1e-3, "norm " + Math.sqrt(n2));
          float[] raw = s.embed(ids, false, false);
          expect(raw.length == info.nEmbd, "last-pooled length " + raw.length);
        }
      });

      check("chatApply renders the messages", () -> {
        String prompt = model.chatApply("chatml", new String[] {"system", "user"}, new String[] {"Be brief.", "Hi \uD83D\uDE00"});
        expect(prompt.contains("Be brief.") && prompt.contains("Hi \uD83D\uDE00") && prompt.contains("<|im_start|>"), prompt);
        expect(model.chatStopStrings("chatml").length > 0, "no stop strings for chatml");
        try {
          model.chatApply("no-such-family", new String[] {"user"}, new String[] {"x"});
          throw new AssertionError("no exception");
        } catch (PocketException e) {
          expect(e.getMessage().contains("no-such-family"), e.getMessage());
        }
      });

      check("bad input throws, never crashes", () -> {
        try (PocketSession s = model.newSession(oneThread())) {
          throwsA(PocketException.class, () -> s.decode(new int[] {info.nVocab + 5}));
          throwsA(PocketException.class, () -> s.generate("", greedy(4))); // empty session, empty prompt
          throwsA(IllegalArgumentException.class, () -> s.generate("a\0b", greedy(4)));
          throwsA(PocketException.class, () -> s.generate(PROMPT, greedy(4).topP(-1f)));
          throwsA(PocketException.class, () -> s.load("/nonexistent/state.bin"));
          throwsA(IllegalStateException.class, s::next);
          throwsA(IllegalStateException.class, s::end);
          throwsA(PocketException.class, () -> model.newSession(new SessionOptions().nBatch(0)));
          throwsA(NullPointerException.class, () -> model.tokenize(null, true, false));
          expect(!generateText(s, PROMPT, 2).isEmpty(), "the session is unusable after the errors");
        }
      });

      check("a closed session throws IllegalStateException", () -> {
        PocketSession s = model.newSession(oneThread());
        s.close();
        s.close(); // idempotent
        throwsA(IllegalStateException.class, () -> s.generate(PROMPT, greedy(4)));
        throwsA(IllegalStateException.class, s::tokens);
        throwsA(IllegalStateException.class, () -> s.embed(new int[] {1}, true, true));
        throwsA(IllegalStateException.class, () -> s.save("/tmp/x"));
        throwsA(IllegalStateException.class, s::fork);
        s.cancel(); // a no-op, not an error: a stop button may be late
      });

      check("close() from another thread during generate: an exception, not a crash", () -> {
        PocketSession s = model.newSession(oneThread());
        int[] pieces = {0};
        throwsA(IllegalStateException.class, () -> s.generate(PROMPT, greedy(64), piece -> {
          if (++pieces[0] == 2) {
            Thread t = new Thread(s::close);
            t.start();
            try {
              t.join();
            } catch (InterruptedException e) {
              throw new RuntimeException(e);
            }
          }
          return true;
        }));
        expect(pieces[0] == 2, "the listener ran " + pieces[0] + " times");
      });

      check("a model closed before its session: the session keeps working", () -> {
        PocketModel m = PocketModel.load(modelPath);
        PocketSession s = m.newSession(oneThread());
        m.close();
        throwsA(IllegalStateException.class, () -> m.tokenize("x", false, false));
        throwsA(IllegalStateException.class, m::info);
        expect(!generateText(s, PROMPT, 3).isEmpty(), "no text");
        s.close(); // frees the model too
        m.close();
      });
    }

    System.out.println(failures == 0 ? "ALL PASSED" : failures + " FAILED");
    System.exit(failures == 0 ? 0 : 1);
  }

  private static double b(boolean v) {
    return v ? 1 : 0;
  }

  private static void throwsA(Class<? extends Throwable> type, Check body) {
    try {
      body.run();
    } catch (Throwable t) {
      if (type.isInstance(t)) return;
      throw new AssertionError("expected " + type.getSimpleName() + ", got " + t, t);
    }
    throw new AssertionError("expected " + type.getSimpleName() + ", got no exception");
  }
}
