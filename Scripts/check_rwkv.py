#!/usr/bin/env python3
"""RWKV world vocabulary checks (run by Scripts/test): tokenkit gives the ids of the rwkv wheel's TRIE_TOKENIZER.

Models: the rwkv_vocab_v20230424.txt inside the rwkv wheel, and the same vocabulary as a llama.cpp GGUF of kind
"rwkv" (Fixtures/models/rwkv-world/rwkv-world.gguf). Texts: every text file under Fixtures (UDHR in 12 scripts,
goldens text, mixture samples of code and prose), the Swift sources of this repository, edge cases, and seeded
random bytes (not UTF-8; the wheel's encodeBytes), and all of them joined (encoded in chunks). `tokenkit encode` of
each file equals encodeBytes for both models, and `tokenkit decode` gives the joined input back.

usage: check_rwkv.py TOKENKIT   (Python with rwkv==0.8.32)
"""
import argparse, glob, json, os, random, subprocess, sys, tempfile

import rwkv
from rwkv.rwkv_tokenizer import TRIE_TOKENIZER

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(os.path.dirname(rwkv.__file__), "rwkv_vocab_v20230424.txt")
GGUF = os.path.join(ROOT, "Fixtures", "models", "rwkv-world", "rwkv-world.gguf")

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("tokenkit")
args = ap.parse_args()
TK = os.path.abspath(args.tokenkit)
ref = TRIE_TOKENIZER(VOCAB)


def tokenkit(*argv, data=None):
    r = subprocess.run([TK, *argv], input=data, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"tokenkit {' '.join(argv)}: {r.stderr.decode(errors='replace')}")
    return r.stdout


inputs = []
for pattern in ["Fixtures/parallel/**/*.txt", "Fixtures/text/*.txt", "Fixtures/mixture/**/*.txt", "Sources/**/*.swift"]:
    inputs += [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True))]
edge = ["", " ", "\n\n\n", "\r\n\t x", "a" * 500, "中文字符和日本語のテキスト한국어", "🙂👍🏽 🇩🇪 👨‍👩‍👧", "<s> [PAD65530]",
        "e\u0301 \u200b\ufeff\u00a0", "a\x00b\x01c\x7f \ufffd"]
inputs += [e.encode("utf-8") for e in edge]
rng = random.Random(20261204)
inputs += [bytes(rng.randrange(256) for _ in range(n)) for n in (1, 7, 100, 5000)]
# One long input as well (chunked encoding must equal the whole text's), without what only llama.cpp matches.
blob = b"".join(d for d in inputs if b"<s>" not in d and b"[PAD" not in d)
inputs.append(blob)

failed = 0
with tempfile.TemporaryDirectory() as tmp:
    paths = []
    for i, data in enumerate(inputs):
        paths.append(os.path.join(tmp, f"in{i:04d}"))
        open(paths[-1], "wb").write(data)
    want = {p: ref.encodeBytes(d) for p, d in zip(paths, inputs)}
    for label, model in [("vocab", VOCAB), ("gguf", GGUF)]:
        # llama.cpp's trie also matches its control token and fillers in text: those inputs are left out.
        chosen = [p for p, d in zip(paths, inputs) if label == "vocab" or not (b"<s>" in d or b"[PAD" in d)]
        records = [json.loads(l) for l in tokenkit("encode", "-q", "--format", "jsonl", "-m", model, *chosen).splitlines()]
        got = {r["file"]: r["ids"] for r in records}
        ok = 0
        for p in chosen:
            g, w = got.get(p), want[p]
            if g == w:
                ok += 1
                continue
            failed += 1
            g = g or []
            k = next((j for j, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
            print(f"FAIL {label} {os.path.basename(p)}: first difference at id {k}: {g[k:k+5]} vs {w[k:k+5]}")
        back = tokenkit("decode", "-q", "-m", model, data=" ".join(map(str, got[paths[-1]])).encode())
        if back != blob:
            failed += 1
            print(f"FAIL {label}: decode of the {len(blob):,}-byte input differs")
        print(f"{label}: {ok} of {len(chosen)} inputs give the ids of rwkv 0.8.32's TRIE_TOKENIZER.encodeBytes "
              f"(longest {len(blob):,} bytes); decode of it {'exact' if back == blob else 'DIFFERS'}")
print("check_rwkv: " + ("all equal" if failed == 0 else f"{failed} FAILED"))
sys.exit(1 if failed else 0)
