// Teacher-forced agreement of pocket with the llama.cpp of 2026 (node-llama-cpp@3.21.1) on one file:
// the reference evaluates the same token ids and gives every position's next-token distribution
// (controlledEvaluate, temperature 1, no truncation); pocket's logits come from `pocket logits -o`.
// Prints one JSON line: positions, top-1 agreement, mean / max KL(reference || pocket), the reference
// mass its map covered, the largest difference of the reference top token's log-probability, and the
// tokens the reference gave probability 0 with the mass pocket gave them.
// With a fourth file (pocket's logits with POCKET_KERNELS=ref: the same arithmetic summed in another
// order), also the noise floor of the file's arithmetic: top-1 agreement and mean KL between pocket's
// two runs, which a quantized random network amplifies from a few activation roundings that flip.
// usage: node bench/compare_logits.mjs MODEL IDS_FILE POCKET_LOGITS.f32 [THREADS=2] [POCKET_REF_LOGITS.f32]
// (NODE_LLAMA_CPP_DIR: a directory whose node_modules holds node-llama-cpp@3.21.1)
import {createRequire} from "node:module";
import fs from "node:fs";
import path from "node:path";

const [modelPath, idsPath, logitsPath, threadsArg = "2", floorPath] = process.argv.slice(2);
if (!logitsPath) {
  console.error("usage: node bench/compare_logits.mjs MODEL IDS_FILE POCKET_LOGITS.f32 [THREADS]");
  process.exit(2);
}
const ids = fs.readFileSync(idsPath, "utf8").split(/[\s,]+/).filter((s) => s.length > 0).map((s) => {
  if (!/^[0-9]+$/.test(s)) throw new Error(`${idsPath}: '${s}' is not a token id`);
  return Number(s);
});
const readF32 = (file) => {
  const raw = fs.readFileSync(file);
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
};
const ours = readF32(logitsPath);
if (ours.length % ids.length !== 0) throw new Error(`${logitsPath}: ${ours.length} floats are not ${ids.length} rows`);
const nVocab = ours.length / ids.length;

const require = createRequire(path.join(process.env.NODE_LLAMA_CPP_DIR ?? process.cwd(), "package.json"));
const {getLlama} = await import(require.resolve("node-llama-cpp"));
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
// F32 cache, no flash attention: the reference keeps K, V and the scores in f32, as pocket does by default.
const context = await model.createContext({contextSize: ids.length + 16, threads: Number(threadsArg), batchSize: ids.length,
  flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32", swaFullCache: true});
const sequence = context.getSequence();
const options = {temperature: 1, topK: nVocab, topP: 1, minP: 0};
const out = await sequence.controlledEvaluate(ids.map((t) => [t, {generateNext: {probabilities: true, options}}]));

let outsideMax = 0, zeroMax = 0, massMax = 0;
let agree = 0, klSum = 0, klMax = 0, massMin = 1, dTopMax = 0, klMaxPos = -1;
// Where the top tokens differ: how far apart the two candidates are in the reference's own distribution
// (log-probability of its top token minus that of pocket's): a near tie is a flip, not a difference.
let tieGapMax = 0;
for (let p = 0; p < ids.length; ++p) {
  const probs = out[p]?.next?.probabilities;
  if (!probs) throw new Error(`reference gave no distribution at position ${p}`);
  const row = ours.subarray(p * nVocab, (p + 1) * nVocab);
  let mx = -Infinity, arg = 0;
  for (let i = 0; i < nVocab; ++i) if (row[i] > mx) { mx = row[i]; arg = i; }
  let sum = 0;
  for (let i = 0; i < nVocab; ++i) sum += Math.exp(row[i] - mx);
  const lse = mx + Math.log(sum);
  // The reference gives some tokens probability 0 (the sampler's suppressed control tokens): pocket's
  // distribution is renormalized over the reference's support, and the mass it moved is reported.
  let support = 0, zeros = 0;
  for (const [t, q] of probs) {
    if (q > 0) support += Math.exp(row[t] - lse);
    else ++zeros;
  }
  const lz = lse + Math.log(support);
  zeroMax = Math.max(zeroMax, zeros + (nVocab - probs.size));
  outsideMax = Math.max(outsideMax, 1 - support);
  const [refTop, refTopP] = probs.entries().next().value;
  if (refTop === arg) ++agree;
  else tieGapMax = Math.max(tieGapMax, Math.log(refTopP) - Math.log(probs.get(arg) ?? 0));
  const refMass = [...probs.values()].reduce((a, q) => a + q, 0);
  dTopMax = Math.max(dTopMax, Math.abs(Math.log(refTopP / refMass) - (row[refTop] - lz)));
  // The reference's probabilities are normalized by a float32 sum over the vocabulary, in decreasing
  // order: the smallest terms round away, so they sum to 1 + O(n_vocab * 2^-24 * p_small). Each
  // distribution is renormalized in float64 here before the comparison; the sum is reported.
  let mass = 0;
  for (const [, q] of probs) if (q > 0) mass += q;
  let kl = 0;
  for (const [t, q] of probs) {
    if (q <= 0) continue;
    const qn = q / mass;
    kl += qn * (Math.log(qn) - (row[t] - lz));
  }
  massMax = Math.max(massMax, mass);
  massMin = Math.min(massMin, mass);
  klSum += kl;
  if (kl > klMax) { klMax = kl; klMaxPos = p; }
}
// KL(a || b) per position over full rows of raw logits, and whether the argmaxes agree.
function rowCompare(a, b) {
  const lse = (x) => {
    let m = -Infinity;
    for (const v of x) m = Math.max(m, v);
    let s = 0;
    for (const v of x) s += Math.exp(v - m);
    return m + Math.log(s);
  };
  const la = lse(a), lb = lse(b);
  let kl = 0, ia = 0, ib = 0;
  for (let i = 0; i < a.length; ++i) {
    if (a[i] > a[ia]) ia = i;
    if (b[i] > b[ib]) ib = i;
    const pa = a[i] - la;
    kl += Math.exp(pa) * (pa - (b[i] - lb));
  }
  return [kl, ia === ib];
}
const floor = {};
if (floorPath) {
  const other = readF32(floorPath);
  if (other.length !== ours.length) throw new Error(`${floorPath}: not the same shape as ${logitsPath}`);
  let kl = 0, same = 0;
  for (let p = 0; p < ids.length; ++p) {
    const [k, s] = rowCompare(other.subarray(p * nVocab, (p + 1) * nVocab), ours.subarray(p * nVocab, (p + 1) * nVocab));
    kl += k;
    same += s ? 1 : 0;
  }
  floor.floor_top1_agreement = same / ids.length;
  floor.floor_kl_mean = kl / ids.length;
}
console.log(JSON.stringify({model: path.basename(modelPath), positions: ids.length, n_vocab: nVocab, top1_agreement: agree / ids.length, top1_tie_gap_max: tieGapMax,
  kl_mean: klSum / ids.length, kl_max: klMax, kl_max_pos: klMaxPos, ref_mass_min: massMin, ref_mass_max: massMax, top_logprob_diff_max: dTopMax, ref_zero_tokens_max: zeroMax, pocket_mass_off_ref_support_max: outsideMax, ...floor}));
await context.dispose();
await model.dispose();
