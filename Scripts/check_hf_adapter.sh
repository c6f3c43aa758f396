#!/bin/sh
# Runs byteprob through Scripts/lm_adapter_hf.py on a tiny random-weight GPT-2 (built locally,
# nothing downloaded) and checks the JSON distribution sums to 1.
# Usage: Scripts/check_hf_adapter.sh TOKENKIT_BINARY PYTHON_WITH_TORCH_AND_TRANSFORMERS
set -eu
TK=$1; PY=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
"$PY" "$ROOT/Scripts/make_tiny_gpt2.py" "$D/gpt2" >/dev/null 2>&1
"$TK" byteprob next -m "$ROOT/Fixtures/models/r50k_base.tiktoken" --lm-command "$PY $ROOT/Scripts/lm_adapter_hf.py $D/gpt2" \
    --prompt "Hello wor" --format json > "$D/out.json"
"$PY" - "$D/out.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
total = sum(d["distribution"].values()) + d["end"]
assert abs(total - 1) < 1e-9, total
print(f"ok: {len(d['distribution'])} bytes with probability > 0, end {d['end']:.3g}, LM calls {d['lm_calls']}")
PYEOF
