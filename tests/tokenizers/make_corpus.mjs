// The mixed tokenizer corpus (deterministic: fixed seed, pinned inputs): WikiText-2 test, this repository's
// code, and generated CJK, Arabic (with diacritics to reorder), emoji sequences, decomposed Latin and Hangul,
// whitespace and digit runs, special-token text, and invalid UTF-8. Documents are NUL-separated (no
// document holds a NUL byte). Usage: node make_corpus.mjs WIKITEXT REPO_ROOT OUT [MIN_BYTES]
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";

const [wikiPath, repoRoot, outPath, minArg] = process.argv.slice(2);
const MIN_BYTES = Number(minArg ?? 5.5e6);
let seed = 0x9e3779b9;
function rnd() {  // xorshift32
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const enc = new TextEncoder();
const docs = [];  // Buffers
const stats = {};
function add(kind, data) {
  let b = typeof data === "string" ? Buffer.from(enc.encode(data)) : Buffer.from(data);
  if (b.includes(0)) b = Buffer.from(b.filter((x) => x !== 0));
  if (b.length === 0) return;
  docs.push(b);
  stats[kind] = (stats[kind] ?? 0) + b.length;
}
// Text in documents of about `size` bytes, cut at line ends.
function addChunked(kind, text, size) {
  const lines = text.split(/(?<=\n)/);
  let cur = "";
  for (const l of lines) {
    cur += l;
    if (cur.length >= size) { add(kind, cur); cur = ""; }
  }
  add(kind, cur);
}

addChunked("wikitext", fs.readFileSync(wikiPath, "utf8"), 3000);
const files = execFileSync("git", ["-C", repoRoot, "ls-files", "src", "tools", "include", "tests", "scripts", "bench"], { encoding: "utf8" })
  .split("\n").filter((f) => /\.(cpp|h|mjs|js|sh|py|cmake|txt|md)$/.test(f)).sort();
for (const f of files) addChunked("code", fs.readFileSync(path.join(repoRoot, f), "utf8"), 4000);

const range = (lo, hi) => String.fromCodePoint(int(lo, hi));
const cjkChar = () => {
  const r = rnd();
  if (r < 0.6) return range(0x4e00, 0x9fa5);   // CJK unified ideographs
  if (r < 0.75) return range(0x3041, 0x3096);  // hiragana
  if (r < 0.85) return range(0x30a1, 0x30fa);  // katakana
  return range(0xac00, 0xd7a3);                // Hangul syllables
};
const cjkPunct = ["。", "、", "「", "」", "，", "！", "？", "：", "（", "）", "・", "　", " ", "\n", "１２３", "2024年", "ABC"];
function cjkText(n) {
  let s = "";
  while (s.length < n) {
    const w = int(1, 8);
    for (let i = 0; i < w; ++i) s += cjkChar();
    if (rnd() < 0.4) s += pick(cjkPunct);
  }
  return s;
}
const arabicLetters = Array.from({ length: 0x064a - 0x0621 + 1 }, (_, i) => String.fromCodePoint(0x0621 + i));
const arabicMarks = Array.from({ length: 0x0652 - 0x064b + 1 }, (_, i) => String.fromCodePoint(0x064b + i));  // harakat, shadda, sukun
function arabicText(n) {
  let s = "";
  while (s.length < n) {
    const w = int(2, 9);
    for (let i = 0; i < w; ++i) {
      s += pick(arabicLetters);
      if (rnd() < 0.3) s += pick(arabicMarks);
      if (rnd() < 0.1) s += pick(arabicMarks);  // two marks: NFC orders them by combining class
    }
    s += pick([" ", " ", " ", "، ", "؟ ", ". ", "\n", " ٣٤٥ ", " 42 ", " (", ") "]);
  }
  return s;
}
const emoji = ["😀", "😂", "🥲", "👍", "👍🏽", "👋🏿", "❤️", "❤", "✨", "🔥", "🎉", "🇫🇷", "🇯🇵", "🏳️‍🌈", "👨‍👩‍👧‍👦", "🧑🏻‍💻", "1️⃣", "#️⃣", "©️", "☕", "🫠", "🪐", "👩‍❤️‍💋‍👨", "🤌", "🧠", "🦀", "🍕"];
function emojiText(n) {
  let s = "";
  while (s.length < n) {
    s += rnd() < 0.5 ? pick(emoji) : pick(["Hello ", "ok", " ", "!!", "\n", "great job", "lol", ":)", "ça va", "日本"]);
    if (rnd() < 0.2) s += pick(emoji).repeat(int(2, 4));
  }
  return s;
}
const latinBases = "aeiouyAEIOUncszgCSZNrdltg".split("");
const combining = [0x0300, 0x0301, 0x0302, 0x0303, 0x0308, 0x030a, 0x030c, 0x0327, 0x0323, 0x0328, 0x031b, 0x0306, 0x0304].map((c) => String.fromCodePoint(c));
function decomposedText(n) {
  let s = "";
  while (s.length < n) {
    const r = rnd();
    if (r < 0.5) {
      const w = int(2, 8);
      for (let i = 0; i < w; ++i) { s += pick(latinBases); if (rnd() < 0.5) s += pick(combining); if (rnd() < 0.15) s += pick(combining); }
      s += " ";
    } else if (r < 0.7) {  // Hangul as conjoining jamo (NFC composes them)
      s += String.fromCodePoint(int(0x1100, 0x1112), int(0x1161, 0x1175)) + (rnd() < 0.5 ? String.fromCodePoint(int(0x11a8, 0x11c2)) : "") + " ";
    } else if (r < 0.85) {
      s += pick(["café", "naïve", "Ångström", "Å", "Ω", "ﬁ", "½", "①", "Ｆｕｌｌ", "ǅ", "ẞ", "İstanbul", "Việt Nam", "Tiếng Việt"]) + " ";
    } else {
      s += "e\u0301".normalize("NFC") + "\u0041\u030a\u0301 ";
    }
  }
  return s;
}
const spaces = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2028", "\u2009", "\ufeff", "\u200b", "    \n", " \n "];
function whitespaceText(n) {
  let s = "";
  while (s.length < n) {
    const r = rnd();
    if (r < 0.3) s += pick(spaces).repeat(int(1, 5));
    else if (r < 0.5) s += String(Math.floor(rnd() * 1e12)).slice(0, int(1, 12));
    else if (r < 0.6) s += pick(["'s", "'S", "'ll", "'LL", "'ve", "'re", "'d", "'m", "'t", "’s", "'ſ", "don't", "I'M"]);
    else if (r < 0.7) s += pick(["3.14159", "1,000,000", "0x1F", "v2.0.1", "$100", "100%", "2+2=4", "x²", "٣٤٥", "१२३"]);
    else s += pick(["word", "The", " quick", "brown", "fox", "HTTP", "naïve", "über", "Zürich", "iPhone", "C++", "__init__", "snake_case", "camelCase"]);
  }
  return s;
}
const specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_5|>",
  "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
  "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>", "<pad>", "<unk>", "<mask>", "<unused17>", "<start_of_image>", "[multimodal]",
  "<|im_start", "im_end|>", "<|", "|>", "<<bos>>", "<s>", "</s>", "▁▁", "▁"];
function specialText(n) {
  let s = "";
  while (s.length < n) {
    const r = rnd();
    if (r < 0.35) s += pick(specials);
    else if (r < 0.5) s += pick(["user\n", "assistant\n", "system\n", "model\n", "\n", " ", "\n\n"]);
    else s += pick(["Hello, how are you?", "Write a poem.", " The answer is 42.", "def f(x):\n    return x", "日本語のテキスト", "مرحبا بالعالم"]);
  }
  return s;
}
function invalidUtf8Doc(n) {
  const base = Buffer.from(enc.encode(pick([emojiText, cjkText, whitespaceText, decomposedText])(n)));
  const bad = [[0x80], [0xbf], [0xc0, 0xaf], [0xc1, 0xbf], [0xc2], [0xe2, 0x82], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
    [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xfe], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0x28]];
  const parts = [];
  let last = 0;
  for (let i = 0; i < int(1, 12); ++i) {
    const at = int(last, base.length);
    parts.push(base.subarray(last, at));
    parts.push(Buffer.from(rnd() < 0.7 ? pick(bad) : [int(0x80, 0xff)]));
    last = at;
  }
  parts.push(base.subarray(last));
  return Buffer.concat(parts);
}

const gens = [["cjk", cjkText], ["arabic", arabicText], ["emoji", emojiText], ["decomposed", decomposedText], ["whitespace", whitespaceText],
  ["special", specialText]];
let total = () => docs.reduce((a, b) => a + b.length, 0);
while (total() < MIN_BYTES) {
  for (const [kind, g] of gens) add(kind, g(int(200, 2500)));
  add("invalid-utf8", invalidUtf8Doc(int(100, 1500)));
}
const out = Buffer.concat(docs.flatMap((d, i) => (i ? [Buffer.from([0]), d] : [d])));
fs.writeFileSync(outPath, out);
console.log(`corpus: ${docs.length} documents, ${out.length} bytes: ` + Object.entries(stats).map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)} MB`).join(", "));
