#!/usr/bin/env bash
# pocket convert on Hugging Face checkpoints of every supported model_type, against transformers'
# semantics computed independently (tests/convert/hf_reference.py, numpy float64):
#   scripts/test_convert_families.sh POCKET WORKDIR
# For each family: a random F32 checkpoint (config.json, model.safetensors, tokenizer.json), converted
# to GGUF, teacher-forced over 40 positions by `pocket logits`; every logit must lie within the F32 bound
# of docs/correctness.md ("Hugging Face conversion") and the top-1 must agree at every position. Then the
# refusals: a config key or a tensor the converter does not handle is an error naming it.
set -euo pipefail
POCKET=$(realpath "$1")
WORK=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF="/usr/bin/python3 $ROOT/tests/convert/hf_reference.py"
rm -rf "$WORK"
mkdir -p "$WORK"
IDS="5 300 17 1999 64 1024 7 7 7 812 1500 33 2047 256 900 41 1200 77 3 640 1800 99 1300 12 555 1750 8 420 1111 60 2000 150 720 1400 22 980 1650 310 45 1888"
fail=0
for fam in llama3 mistral qwen2 qwen3 gemma2 gemma3 phi3 smollm3; do
  d="$WORK/$fam"
  $REF make "$fam" "$d"
  "$POCKET" convert "$d" -o "$d.gguf" --force > /dev/null
  # Mistral once more one token per step: its window is then a ring of 8 slots that wraps.
  batch=64
  [ "$fam" != mistral ] || batch=1
  "$POCKET" logits -m "$d.gguf" --ids "$IDS" -b "$batch" -o "$d.pocket.f32" 2> "$d.log"
  $REF logits "$d" "$IDS" "$d.ref.f32"
  # Gemma's GeGLU runs through llama.cpp's fp16 table in pocket (2^-11 relative steps); the rest is f32
  # arithmetic against float64 (~1e-6 relative here).
  case $fam in gemma*) tol=3e-3 ;; *) tol=1e-4 ;; esac
  if ! /usr/bin/python3 - "$d.pocket.f32" "$d.ref.f32" "$tol" "$fam" << 'EOF'; then
import sys
import numpy as np
a = np.fromfile(sys.argv[1], dtype="<f4").astype(np.float64)
b = np.fromfile(sys.argv[2], dtype="<f4").astype(np.float64)
tol, fam = float(sys.argv[3]), sys.argv[4]
if a.size != b.size:
    sys.exit(f"{fam}: {a.size} logits from pocket, {b.size} from the reference")
a, b = a.reshape(40, -1), b.reshape(40, -1)
scale = np.abs(b).max()
err = np.abs(a - b).max() / scale
top = (a.argmax(1) == b.argmax(1)).mean()
print(f"{fam:8s} max |logit diff| / max |logit| = {err:.2e} (bound {tol:g}), top-1 agreement {top * 100:.1f} %")
sys.exit(0 if err <= tol and top == 1.0 else 1)
EOF
    echo "FAIL: $fam" >&2
    fail=1
  fi
done

# Refusals: each edit must make pocket convert fail with a message naming the key or tensor.
refuse() {  # name, python edit of cfg (dict c) in the copied llama3 directory, expected text
  local d="$WORK/refuse-$1"
  rm -rf "$d" && cp -r "$WORK/$2" "$d"
  /usr/bin/python3 -c "import json,sys; p=sys.argv[1]+'/config.json'; c=json.load(open(p)); $3; json.dump(c, open(p,'w'))" "$d"
  if out=$("$POCKET" convert "$d" -o "$d.gguf" --force 2>&1); then
    echo "FAIL: refuse-$1 was converted" >&2
    fail=1
  elif ! grep -qF -- "$4" <<< "$out"; then
    echo "FAIL: refuse-$1: message does not name '$4': $out" >&2
    fail=1
  else
    echo "refused  $1: $out"
  fi
}
refuse yarn qwen3 "c['rope_scaling']={'rope_type':'yarn','factor':4.0}" "rope_scaling: type 'yarn'"
refuse dynamic llama3 "c['rope_scaling']={'type':'dynamic','factor':2.0}" "rope_scaling: type 'dynamic'"
refuse multimodal gemma3 "c['model_type']='gemma3'" "model_type: 'gemma3'"
refuse pattern gemma3 "c['sliding_window_pattern']=4" "sliding_window_pattern"
refuse qpas gemma2 "c['query_pre_attn_scalar']=144" "query_pre_attn_scalar"
refuse qwen-window qwen2 "c['use_sliding_window']=True" "use_sliding_window"
refuse nope smollm3 "c['no_rope_layer_interval']=3" "no_rope_layer_interval"
refuse act llama3 "c['hidden_act']='gelu'" "hidden_act"
refuse bias mistral "c['attention_bias']=True" "attention_bias"
refuse partial qwen3 "c['partial_rotary_factor']=0.5" "partial_rotary_factor"
refuse longrope-size phi3 "c['rope_scaling']['short_factor']=[1.0]" "rope_scaling.short_factor"
refuse unknown-type llama3 "c['model_type']='mamba'" "model_type: 'mamba'"
# A tensor nothing reads: qwen2's biases in a llama checkpoint.
d="$WORK/refuse-extra-tensor"
rm -rf "$d" && cp -r "$WORK/qwen2" "$d"
/usr/bin/python3 -c "import json,sys; p=sys.argv[1]+'/config.json'; c=json.load(open(p)); c['model_type']='llama'; c.pop('sliding_window'); json.dump(c, open(p,'w'))" "$d"
if out=$("$POCKET" convert "$d" -o "$d.gguf" --force 2>&1) || ! grep -qE "tensor 'model.layers.0.self_attn.[qkv]_proj.bias': not used" <<< "$out"; then
  echo "FAIL: refuse-extra-tensor: $out" >&2
  fail=1
else
  echo "refused  extra-tensor: $out"
fi
exit $fail
