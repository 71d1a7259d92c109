// Prompt and decode speed of llama.cpp as shipped prebuilt in node-llama-cpp@3.21.1 (the llama.cpp of
// 2026), timed like `pocket bench`: ppN = N prompt tokens in one evaluation from an empty context
// (evaluateWithoutGeneratingNewTokens), tgN = N tokens decoded one at a time (evaluate), median of
// repetitions, tokens/s. Node's own thread shares the cores, so on 2 cores only the 1-thread decode
// and the prefill are fair (issue 17).
// usage: node bench/llamacpp_speed.mjs MODEL [THREADS=1] [PP=128] [TG=64] [REPETITIONS=3]
// (NODE_LLAMA_CPP_DIR: a directory whose node_modules holds node-llama-cpp@3.21.1; see
// bench/compare_llamacpp.sh)
import {createRequire} from "node:module";
import path from "node:path";

const [modelPath, threadsArg = "1", ppArg = "128", tgArg = "64", repsArg = "3"] = process.argv.slice(2);
if (!modelPath) {
  console.error("usage: node bench/llamacpp_speed.mjs MODEL [THREADS] [PP] [TG] [REPETITIONS]");
  process.exit(2);
}
const count = (name, s) => {
  if (!/^[0-9]+$/.test(s)) throw new Error(`${name}: ${s} is not a count`);
  return Number(s);
};
const threads = count("threads", threadsArg), pp = count("pp", ppArg), tg = count("tg", tgArg), reps = count("repetitions", repsArg);
const require = createRequire(path.join(process.env.NODE_LLAMA_CPP_DIR ?? process.cwd(), "package.json"));
const {getLlama} = await import(require.resolve("node-llama-cpp"));

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: Math.max(512, pp + tg + 8), threads, batchSize: Math.max(pp, 1)});
const sequence = context.getSequence();
// Token ids 100.. as the prompt (random-weight files have no meaningful text; speed does not care).
const tokens = (n) => Array.from({length: n}, (_, i) => 100 + (i * 7919) % 1000);
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function prefill() {
  await sequence.clearHistory();
  const t0 = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(tokens(pp));
  return pp / ((performance.now() - t0) / 1e3);
}
async function decode() {
  await sequence.clearHistory();
  await sequence.evaluateWithoutGeneratingNewTokens(tokens(1));
  let n = 0, t0 = 0;
  for await (const token of sequence.evaluate([100], {temperature: 0})) {
    void token;
    if (n === 0) t0 = performance.now();  // from the first generated token: tg - 1 decode steps timed
    if (++n >= tg) break;
  }
  return (tg - 1) / ((performance.now() - t0) / 1e3);
}
await prefill();  // warm-up: page the weights in
const rows = [];
if (pp > 0) {
  const v = [];
  for (let i = 0; i < reps; ++i) v.push(await prefill());
  rows.push([`pp${pp}`, median(v), v]);
}
if (tg > 1) {
  const v = [];
  for (let i = 0; i < reps; ++i) v.push(await decode());
  rows.push([`tg${tg}`, median(v), v]);
}
for (const [test, m, v] of rows)
  console.log(`| llama.cpp 2026 (node-llama-cpp 3.21.1) | ${path.basename(modelPath)} | ${threads} | ${test} | ${m.toFixed(1)} | ${v.map((x) => x.toFixed(1)).join(", ")} |`);
await context.dispose();
await model.dispose();
