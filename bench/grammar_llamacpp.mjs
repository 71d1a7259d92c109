// llama.cpp's grammar sampler on the same model, prompt and GBNF text as `pocket bench --grammar`:
// node-llama-cpp (the llama.cpp of 2026, prebuilt), decoding freely and under the grammar, alternating
// in one process, per generated token (the prompt and the first token are left out, as pocket's
// generate time leaves out the prompt). A new grammar state per run, as llama.cpp has no caches.
// usage: node bench/grammar_llamacpp.mjs MODEL GBNF_FILE [REPETITIONS] [TEMPERATURE] [N_GEN]
// (run with NODE_PATH pointing at a node_modules that holds node-llama-cpp@3.21.1; see
// bench/grammar_overhead.sh, which installs it into a temp dir)
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
import path from "node:path";

const [modelPath, gbnfPath, repsArg = "7", tempArg = "0.8", nArg = "256"] = process.argv.slice(2);
if (!modelPath || !gbnfPath) {
  console.error("usage: node bench/grammar_llamacpp.mjs MODEL GBNF_FILE [REPETITIONS] [TEMPERATURE] [N_GEN]");
  process.exit(2);
}
const require = createRequire(path.join(process.env.NODE_LLAMA_CPP_DIR ?? process.cwd(), "package.json"));
const {getLlama, LlamaGrammarEvaluationState} = await import(require.resolve("node-llama-cpp"));

const reps = Number(positiveOrDie(repsArg));
const temperature = Number(tempArg);
const nGen = Number(nArg);
function positiveOrDie(s) {
  if (!/^[1-9][0-9]*$/.test(s)) throw new Error(`repetitions: ${s} is not a positive integer`);
  return s;
}

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: 512, threads: 1, batchSize: 512});
const sequence = context.getSequence();
const t0 = performance.now();
const grammar = await llama.createGrammar({grammar: readFileSync(gbnfPath, "utf8")});
const compileMs = performance.now() - t0;
const prompt = model.tokenize("Once upon a time", false);
if (model.tokens.bos !== null) prompt.unshift(model.tokens.bos);

async function one(constrained, seed) {
  await sequence.clearHistory();
  const state = constrained ? new LlamaGrammarEvaluationState({model, grammar}) : undefined;
  const tokens = [];
  let tFirst = 0, tLast = 0;
  for await (const token of sequence.evaluate(prompt, {temperature, seed, grammarEvaluationState: state})) {
    tLast = performance.now();
    if (tokens.length === 0) tFirst = tLast;
    if (model.isEogToken(token)) break;
    tokens.push(token);
    if (tokens.length >= nGen) break;
  }
  if (tokens.length < 2) throw new Error("a run generated fewer than 2 tokens");
  return {msPerToken: (tLast - tFirst) / (tokens.length - 1), n: tokens.length, text: model.detokenize(tokens)};
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const spread = (v) => (Math.max(...v) - Math.min(...v)) / median(v);
const free = [], constrained = [];
let last = null, freeN = 0;
await one(false, 1);  // warm-up: page the weights in
for (let i = 0; i < reps; ++i) {
  const f = await one(false, i + 1);
  const g = await one(true, i + 1);
  free.push(f.msPerToken);
  constrained.push(g.msPerToken);
  last = g;
  freeN = f.n;
}
const fm = median(free), gm = median(constrained);
console.log(`llama.cpp (node-llama-cpp 3.21.1): grammar ${path.basename(gbnfPath)} (parsed in ${compileMs.toFixed(1)} ms), ` +
            `temperature ${temperature}, 1 thread, ${reps} repetitions alternating\n`);
console.log("| decoding | ms/token (median) | spread | vs free |\n|---|---|---|---|");
console.log(`| free | ${fm.toFixed(3)} | ${(100 * spread(free)).toFixed(1)} % | 1.000 |`);
console.log(`| grammar | ${gm.toFixed(3)} | ${(100 * spread(constrained)).toFixed(1)} % | ${(gm / fm).toFixed(3)} |`);
console.log(`\nconstrained run: ${last.n} tokens; free run: ${freeN} tokens\nlast output: ${last.text}`);
await context.dispose();
await model.dispose();
