// The chat page served at `/`: one self-contained HTML file (no build step), streaming replies from
// /v1/chat/completions and showing tokens/s. Element ids are used by the browser test.
#pragma once

namespace pocket {

inline constexpr const char* kChatPageHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PocketLLM chat</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d232b; --muted: #6b7480; --accent: #2f7d4f; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; background: var(--bg); color: var(--ink); }
  main { max-width: 760px; margin: 0 auto; padding: 16px; display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; align-items: baseline; gap: 12px; }
  header h1 { font-size: 18px; margin: 0; }
  header span { color: var(--muted); font-size: 13px; }
  #messages { flex: 1; overflow-y: auto; padding: 8px 0; }
  .msg { background: var(--card); border-radius: 10px; padding: 10px 14px; margin: 8px 0; white-space: pre-wrap;
         box-shadow: 0 1px 2px rgba(0,0,0,.06); }
  .msg.user { background: #e7f1ea; margin-left: 15%; }
  .msg.assistant { margin-right: 15%; }
  .msg .who { font-size: 12px; color: var(--muted); display: block; }
  form { display: flex; gap: 8px; }
  textarea { flex: 1; resize: none; height: 64px; padding: 10px; border-radius: 10px; border: 1px solid #ccd2d8; font: inherit; }
  button { background: var(--accent); color: white; border: 0; border-radius: 10px; padding: 0 18px; font: inherit; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
  .settings { display: flex; gap: 16px; color: var(--muted); font-size: 13px; margin: 8px 0; align-items: center; }
  .settings input { width: 72px; }
  #stats { margin-left: auto; }
</style>
</head>
<body>
<main>
  <header><h1>PocketLLM</h1><span id="model">loading…</span></header>
  <div id="messages"></div>
  <div class="settings">
    <label>temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0.8"></label>
    <label>max tokens <input id="max-tokens" type="number" min="1" max="4096" value="128"></label>
    <span id="stats"></span>
  </div>
  <form id="form">
    <textarea id="prompt" placeholder="Type a message (Enter to send, Shift+Enter for a new line)"></textarea>
    <button id="send" type="submit">Send</button>
  </form>
</main>
<script>
const history = [];
const $ = (id) => document.getElementById(id);
// A server started with --api-key answers 401 until the page sends the key: asked once, kept for the tab.
function auth() { const k = sessionStorage.getItem('pocket-key'); return k ? { Authorization: 'Bearer ' + k } : {}; }
async function api(path, init = {}) {
  for (let tries = 0; ; tries++) {
    const res = await fetch(path, { ...init, headers: { ...(init.headers || {}), ...auth() } });
    if (res.status !== 401 || tries > 0) return res;
    const key = prompt('This server needs its API key (--api-key):');
    if (!key) return res;
    sessionStorage.setItem('pocket-key', key);
  }
}
api('/v1/models').then(r => r.json()).then(j => { $('model').textContent = j.data[0].id; }).catch(() => {});

function bubble(role, text) {
  const d = document.createElement('div');
  d.className = 'msg ' + role;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = role;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  d.append(who, body);
  $('messages').append(d);
  $('messages').scrollTop = $('messages').scrollHeight;
  return body;
}

async function send(text) {
  history.push({ role: 'user', content: text });
  bubble('user', text);
  const out = bubble('assistant', '');
  $('send').disabled = true;
  const t0 = performance.now();
  let tFirst = 0, chunks = 0, reply = '';
  try {
    const res = await api('/v1/chat/completions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: history, stream: true, stream_options: { include_usage: true },
                             temperature: parseFloat($('temperature').value), max_tokens: parseInt($('max-tokens').value, 10) })
    });
    if (!res.ok) { out.textContent = '[' + ((await res.json()).error || {}).message + ']'; return; }
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '', tokens = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 2);
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const j = JSON.parse(line.slice(6));
        if (j.usage) tokens = j.usage.completion_tokens;
        const delta = j.choices && j.choices[0] && j.choices[0].delta && j.choices[0].delta.content;
        if (delta) {
          if (!tFirst) tFirst = performance.now();
          chunks++;
          reply += delta;
          out.textContent = reply;
          $('messages').scrollTop = $('messages').scrollHeight;
        }
      }
      const secs = (performance.now() - (tFirst || t0)) / 1000;
      $('stats').textContent = (tokens || chunks) + ' tokens, ' + ((tokens || chunks) / Math.max(secs, 1e-3)).toFixed(1) + ' tokens/s';
    }
    history.push({ role: 'assistant', content: reply });
  } catch (e) {
    out.textContent = '[error: ' + e + ']';
  } finally {
    $('send').disabled = false;
  }
}

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('prompt').value.trim();
  if (!text) return;
  $('prompt').value = '';
  send(text);
});
$('prompt').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('form').requestSubmit(); }
});
</script>
</body>
</html>
)HTML";

}  // namespace pocket
