#!/bin/sh
# Scores tokenkit's ARPA output with the kenlm PyPI package and compares with the plain reference
# (Scripts/kn_reference.py) on the botchan split of Scripts/make_kn_golden.py.
# Usage: Scripts/check_kenlm.sh TOKENKIT_BINARY PYTHON_WITH_TIKTOKEN_AND_KENLM
# (kenlm builds from source: `pip install kenlm` needs cmake, a C++ compiler, zlib/bz2/lzma headers.)
set -eu
TK=$1; PY=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
"$PY" - "$ROOT" "$D" <<'PYEOF'
import base64, sys, tiktoken
root, d = sys.argv[1], sys.argv[2]
ranks = {}
for line in open(root + "/Fixtures/models/r50k_base.tiktoken", "rb"):
    t, r = line.split(); ranks[base64.b64decode(t)] = int(r)
pat = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
enc = tiktoken.Encoding("r50k-fixture", pat_str=pat, mergeable_ranks=ranks, special_tokens={})
lines = [l.rstrip("\r\n") for l in open(root + "/Fixtures/sentencepiece/botchan.txt", encoding="utf-8-sig")]
docs = [l for l in lines if l.strip()]
for name, ds in (("train", docs[:3000]), ("held", docs[3000:3600])):
    open(f"{d}/{name}.txt", "w").write("\n".join(ds) + "\n")
    open(f"{d}/{name}.ids", "w").write("".join(" ".join(map(str, enc.encode_ordinary(x))) + "\n" for x in ds))
PYEOF
for o in 2 3 4; do
  "$TK" train lm -q -m "$ROOT/Fixtures/models/r50k_base.tiktoken" --order $o --document-separator '\n' -o "$D/lm$o.arpa" "$D/train.txt"
  printf 'order %s: ' $o
  "$PY" "$ROOT/Scripts/kn_reference.py" "$D/train.ids" "$D/held.ids" $o 50257 --arpa-kenlm "$D/lm$o.arpa" 2>/dev/null
done
