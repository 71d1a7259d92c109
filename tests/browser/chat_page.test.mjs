// Browser test of the chat page: starts `pocket serve` on a free loopback port, drives Debian's
// chromium headless with playwright-core, sends a message, watches the reply stream in, checks the
// tokens/s line, and saves a screenshot.
// Usage: node chat_page.test.mjs POCKET_BINARY MODEL SCREENSHOT.png
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const [pocket, model, shot] = process.argv.slice(2);
if (!pocket || !model || !shot) {
  console.error('usage: node chat_page.test.mjs POCKET_BINARY MODEL SCREENSHOT.png');
  process.exit(2);
}

function fail(msg) {
  console.error('browser test: FAIL: ' + msg);
  process.exitCode = 1;
}

const server = spawn(pocket, ['serve', '-m', model, '--port', '0', '--parallel', '2', '-t', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
const port = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('server did not start: ' + log)), 60000);
  server.stderr.on('data', (d) => {
    log += d;
    const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
  server.on('exit', (code) => reject(new Error('server exited with ' + code + ': ' + log)));
});

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
                                        args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => document.getElementById('model').textContent.endsWith('.gguf'));
  await page.fill('#max-tokens', '120');
  await page.fill('#temperature', '0.8');
  await page.fill('#prompt', 'Once upon a time, a little fox');
  await page.click('#send');
  // The reply must grow in several steps (streamed), not arrive at once.
  const lengths = new Set();
  const t0 = Date.now();
  while (Date.now() - t0 < 30000) {
    const n = await page.evaluate(() => (document.querySelector('.msg.assistant .text') || { textContent: '' }).textContent.length);
    if (n > 0) lengths.add(n);
    if (await page.evaluate(() => !document.getElementById('send').disabled) && n > 0) break;
    await page.waitForTimeout(15);
  }
  const reply = await page.textContent('.msg.assistant .text');
  const stats = await page.textContent('#stats');
  console.log(`browser test: reply (${reply.length} chars, seen at ${lengths.size} lengths): ${reply.slice(0, 80)}...`);
  console.log(`browser test: stats: ${stats}`);
  if (reply.trim().length < 20) fail('no reply text');
  if (lengths.size < 3) fail('the reply did not stream (seen at ' + lengths.size + ' lengths)');
  if (!/\d+ tokens, [\d.]+ tokens\/s/.test(stats)) fail('no tokens/s line: ' + stats);
  if (errors.length) fail('page errors: ' + errors.join('; '));
  await page.screenshot({ path: shot });
  console.log('browser test: screenshot ' + shot);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
if (!process.exitCode) console.log('browser test: passed');
