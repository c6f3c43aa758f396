#!/usr/bin/env python3
"""Golden held-out log-probabilities for tokenkit's token n-gram LM, from the plain reference
Scripts/kn_reference.py (independent of tokenkit's code).

Documents are the non-empty lines of Fixtures/sentencepiece/botchan.txt (CRLF and BOM removed);
the first 3000 train, the next 600 are held out. Ids come from tiktoken with the r50k fixture.
Run with a Python that has tiktoken (e.g. /work/main/.venv-test/bin/python):
    python Scripts/make_kn_golden.py > Fixtures/goldens/kn-botchan-r50k.json
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

import tiktoken

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ranks = {}
    with open(os.path.join(ROOT, "Fixtures/models/r50k_base.tiktoken"), "rb") as f:
        for line in f:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    pat = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    enc = tiktoken.Encoding("r50k-fixture", pat_str=pat, mergeable_ranks=ranks, special_tokens={})
    with open(os.path.join(ROOT, "Fixtures/sentencepiece/botchan.txt"), encoding="utf-8-sig") as f:
        lines = [l.rstrip("\r\n") for l in f]
    docs = [l for l in lines if l.strip()]
    train, held = docs[:3000], docs[3000:3600]
    out = {"source": "Fixtures/sentencepiece/botchan.txt", "train_documents": len(train), "heldout_documents": len(held),
           "vocab_size": 50257, "orders": {}}
    with tempfile.TemporaryDirectory() as d:
        tp, hp = os.path.join(d, "train"), os.path.join(d, "held")
        for path, ds in ((tp, train), (hp, held)):
            with open(path, "w") as f:
                for x in ds:
                    f.write(" ".join(map(str, enc.encode_ordinary(x))) + "\n")
        for order in (1, 2, 3, 4):
            r = subprocess.run([sys.executable, os.path.join(ROOT, "Scripts/kn_reference.py"), tp, hp, str(order), "50257"],
                               check=True, capture_output=True, text=True)
            out["orders"][str(order)] = json.loads(r.stdout)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
