"""Prompt cache: evaluating a 400-token prompt vs restoring its saved state (median of 5, 1 thread)."""
import time, os, pocketllm
m = pocketllm.Model("models/stories15M.gguf")
prompt = open("../shared/data/stories-eval.txt").read()[:2000]
ids = m.tokenize(prompt)[:400]
res = {"prefill": [], "load": []}
for r in range(5):
    with m.session(n_ctx=512, n_threads=1) as s:
        t = time.perf_counter(); s.decode(ids); s.logits(); res["prefill"].append(time.perf_counter() - t)
        s.save("/tmp/p.state")
    with m.session(n_ctx=512, n_threads=1) as s:
        t = time.perf_counter(); s.load("/tmp/p.state"); s.logits(); res["load"].append(time.perf_counter() - t)
print(len(ids), "tokens; state", os.path.getsize("/tmp/p.state"), "bytes")
for k, v in res.items(): print(k, "median %.1f ms" % (sorted(v)[2] * 1000))
