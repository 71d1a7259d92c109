// The agent-facing API through the clients apps use, against a real `pocket serve` on stories15M:
// tool calls (named, required, a whole loop, streamed deltas), structured output (response_format
// json_schema, LangChain withStructuredOutput, Vercel generateObject), logprobs and embeddings.
// A base model knows nothing of tools or JSON: what makes the answers valid is the grammar.
// usage: node --test agent_api.test.mjs   (POCKET_BIN and POCKET_MODEL in the environment)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import OpenAI from "openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateObject, generateText, tool } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { z } from "zod";
import Ajv from "ajv";

const BIN = process.env.POCKET_BIN ?? "build/pocket";
const MODEL = process.env.POCKET_MODEL ?? "../shared/golden/stories15M-q8_0.llamacpp.gguf";
const ajv = new Ajv({ strict: false });
let server, baseURL, client, modelId;

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", maxLength: 12 }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
      required: ["city", "unit"],
    },
  },
};
const timeTool = {
  type: "function",
  function: {
    name: "get_time",
    parameters: { type: "object", properties: { hour: { type: "integer", minimum: 0, maximum: 23 } }, required: ["hour"] },
  },
};
const schemaOf = (name) => [weather, timeTool].find((t) => t.function.name === name).function.parameters;

before(async () => {
  server = spawn(BIN, ["serve", "-m", MODEL, "--port", "0", "-c", "1024", "--parallel", "2"], { stdio: ["ignore", "ignore", "pipe"] });
  const port = await new Promise((resolve, reject) => {
    let log = "";
    server.stderr.on("data", (d) => {
      log += d;
      const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", (code) => reject(new Error(`pocket serve exited (${code}): ${log}`)));
    setTimeout(() => reject(new Error(`pocket serve did not start: ${log}`)), 20000);
  });
  baseURL = `http://127.0.0.1:${port}/v1`;
  client = new OpenAI({ baseURL, apiKey: "none" });
  modelId = (await client.models.list()).data[0].id;
});
after(() => server?.kill());

test("a named tool choice returns arguments that validate", async () => {
  const r = await client.chat.completions.create({
    model: modelId, messages: [{ role: "user", content: "What is the weather in Paris?" }], tools: [weather, timeTool],
    tool_choice: { type: "function", function: { name: "get_weather" } }, max_tokens: 120, seed: 3,
  });
  const calls = r.choices[0].message.tool_calls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].function.name, "get_weather");
  assert.ok(ajv.validate(schemaOf("get_weather"), JSON.parse(calls[0].function.arguments)), calls[0].function.arguments);
  assert.equal(r.choices[0].finish_reason, "tool_calls");
  assert.equal(r.choices[0].message.content, null);
});

test("tool_choice required returns a call of one of the tools, arguments valid", async () => {
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({
      model: modelId, messages: [{ role: "user", content: "Help me." }], tools: [weather, timeTool], tool_choice: "required",
      parallel_tool_calls: false, max_tokens: 120, seed, temperature: 0.9,
    });
    const calls = r.choices[0].message.tool_calls;
    assert.equal(calls.length, 1, JSON.stringify(r.choices[0]));
    assert.ok(ajv.validate(schemaOf(calls[0].function.name), JSON.parse(calls[0].function.arguments)), calls[0].function.arguments);
  }
});

test("a whole tool loop: call, tool result, answer", async () => {
  const messages = [{ role: "user", content: "What is the weather in Oslo?" }];
  const first = await client.chat.completions.create({ model: modelId, messages, tools: [weather], tool_choice: "required", max_tokens: 120, seed: 5 });
  const msg = first.choices[0].message;
  assert.equal(msg.tool_calls.length >= 1, true);
  messages.push(msg);  // assistant, content null, tool_calls
  for (const c of msg.tool_calls) messages.push({ role: "tool", tool_call_id: c.id, content: JSON.stringify({ temperature: -2, sky: "snow" }) });
  const second = await client.chat.completions.create({ model: modelId, messages, tools: [weather], max_tokens: 40, seed: 5 });
  assert.equal(typeof second.choices[0].message.content, "string");
  assert.ok(second.choices[0].message.content.length > 0);
  assert.equal(second.choices[0].message.tool_calls ?? undefined, undefined);
});

test("streamed tool-call deltas reassemble to the non-streamed call", async () => {
  const req = { model: modelId, messages: [{ role: "user", content: "Time?" }], tools: [weather, timeTool], tool_choice: "required", parallel_tool_calls: false, max_tokens: 120, seed: 9, temperature: 0.8 };
  const whole = (await client.chat.completions.create(req)).choices[0].message.tool_calls;
  const stream = await client.chat.completions.create({ ...req, stream: true });
  const parts = [];
  let finish;
  for await (const chunk of stream) {
    for (const d of chunk.choices[0]?.delta?.tool_calls ?? []) {
      parts[d.index] ??= { name: "", arguments: "" };
      if (d.function?.name) parts[d.index].name = d.function.name;
      parts[d.index].arguments += d.function?.arguments ?? "";
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.deepEqual(parts, whole.map((c) => ({ name: c.function.name, arguments: c.function.arguments })));
  assert.equal(finish, "tool_calls");
});

test("response_format json_schema output validates", async () => {
  const schema = { type: "object", properties: { name: { type: "string", maxLength: 10 }, age: { type: "integer", minimum: 1, maximum: 9 }, tags: { type: "array", items: { type: "string", enum: ["a", "b"] }, maxItems: 2 } }, required: ["name", "age", "tags"], additionalProperties: false };
  const r = await client.chat.completions.create({
    model: modelId, messages: [{ role: "user", content: "A character" }], max_tokens: 120, seed: 4,
    response_format: { type: "json_schema", json_schema: { name: "character", schema, strict: true } },
  });
  assert.ok(ajv.validate(schema, JSON.parse(r.choices[0].message.content)), r.choices[0].message.content);
  const o = await client.chat.completions.create({ model: modelId, messages: [{ role: "user", content: "JSON please" }], max_tokens: 60, seed: 4, response_format: { type: "json_object" } });
  if (o.choices[0].finish_reason === "stop") assert.equal(typeof JSON.parse(o.choices[0].message.content), "object");
});

test("an unknown response_format is a 400 naming it", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: modelId, messages: [{ role: "user", content: "x" }], response_format: { type: "xml_please" } }),
    (e) => e.status === 400 && /response_format/.test(e.message),
  );
});

test("logprobs agree with the sampled tokens", async () => {
  const r = await client.chat.completions.create({ model: modelId, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 3 });
  const c = r.choices[0];
  const lp = c.logprobs.content;
  assert.equal(lp.length, r.usage.completion_tokens);
  assert.equal(lp.map((t) => t.token).join(""), c.message.content);
  for (const t of lp) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    assert.equal(t.top_logprobs[0].token, t.token);  // greedy: the sampled token is the most likely
    assert.ok(Math.abs(t.top_logprobs[0].logprob - t.logprob) < 1e-6);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob && t.top_logprobs[1].logprob >= t.top_logprobs[2].logprob);
    assert.deepEqual(t.bytes, [...Buffer.from(t.token)]);
  }
  const s = await client.chat.completions.create({ model: modelId, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 3, stream: true });
  const streamed = [];
  for await (const chunk of s) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
  assert.deepEqual(streamed.map((t) => [t.token, t.logprob]), lp.map((t) => [t.token, t.logprob]));
});

test("embeddings: normalised, float and base64 agree", async () => {
  const f = await client.embeddings.create({ model: modelId, input: ["a cat", "a dog"], encoding_format: "float" });
  assert.equal(f.data.length, 2);
  const v = f.data[0].embedding;
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4);
  const raw = await fetch(`${baseURL}/embeddings`, { method: "POST", body: JSON.stringify({ input: "a cat", encoding_format: "base64" }) }).then((r) => r.json());
  const b = new Float32Array(Uint8Array.from(Buffer.from(raw.data[0].embedding, "base64")).buffer);
  assert.equal(b.length, v.length);
  for (let i = 0; i < v.length; ++i) assert.ok(Math.abs(b[i] - v[i]) < 1e-6);
});

test("LangChain: bindTools and withStructuredOutput", async () => {
  const llm = new ChatOpenAI({ model: modelId, apiKey: "none", configuration: { baseURL }, maxTokens: 120, temperature: 0.7 });
  const withTools = llm.bindTools([weather], { tool_choice: "get_weather" });
  const m = await withTools.invoke("Weather in Rome?");
  assert.equal(m.tool_calls.length, 1);
  assert.equal(m.tool_calls[0].name, "get_weather");
  assert.ok(ajv.validate(schemaOf("get_weather"), m.tool_calls[0].args));
  const Person = z.object({ name: z.string().max(10), age: z.number().int().min(1).max(90) });
  const person = await llm.withStructuredOutput(Person, { method: "functionCalling", name: "person" }).invoke("Describe a person");
  assert.ok(Person.safeParse(person).success, JSON.stringify(person));
  const viaSchema = await llm.withStructuredOutput(Person, { method: "jsonSchema", name: "person" }).invoke("Describe a person");
  assert.ok(Person.safeParse(viaSchema).success, JSON.stringify(viaSchema));
});

test("Vercel AI SDK: generateObject and a required tool call", async () => {
  const provider = createOpenAICompatible({ name: "pocket", baseURL, supportsStructuredOutputs: true });
  const model = provider.chatModel(modelId);
  const Pet = z.object({ kind: z.enum(["cat", "dog"]), name: z.string().max(8), legs: z.number().int().min(0).max(4) });
  const { object } = await generateObject({ model, schema: Pet, prompt: "A pet", maxOutputTokens: 100, seed: 2 });
  assert.ok(Pet.safeParse(object).success, JSON.stringify(object));
  const r = await generateText({
    model, prompt: "Weather in Lima?", toolChoice: "required", maxOutputTokens: 120, seed: 2,
    tools: { get_weather: tool({ description: "weather", inputSchema: z.object({ city: z.string().max(12) }) }) },
  });
  assert.equal(r.toolCalls.length >= 1, true);
  assert.equal(r.toolCalls[0].toolName, "get_weather");
  assert.equal(typeof r.toolCalls[0].input.city, "string");
});
