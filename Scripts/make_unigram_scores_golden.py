#!/usr/bin/env python3
"""The Unigram scores HF tokenizers holds after reading a tokenizer.json, for the tokenizer.json
Unigram fixtures: serde_json (without float_roundtrip) reads a 17-digit score up to 1 ulp away
from its correctly rounded value, and Unigram near-ties follow those bits. HF writes its scores
back with the shortest round-trip form, so `to_str()` shows the doubles it holds.
Writes Fixtures/goldens/unigram-scores.json: {model: {"as_read": [...], "differ_from_exact": n}}.

Usage: python Scripts/make_unigram_scores_golden.py   (tokenizers 0.22.1)
"""
import json, os
from tokenizers import Tokenizer

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures")
MODELS = ["models/botchan-unigram/tokenizer.json"]


def main():
    out = {}
    for rel in MODELS:
        path = os.path.join(FIX, rel)
        raw = json.load(open(path, encoding="utf-8"), parse_float=str)["model"]["vocab"]
        held = json.loads(Tokenizer.from_file(path).to_str())["model"]["vocab"]
        out[rel] = {"as_read": [s for _, s in held], "differ_from_exact": sum(1 for (_, r), (_, h) in zip(raw, held) if float(r) != h)}
    with open(os.path.join(FIX, "goldens", "unigram-scores.json"), "w", encoding="utf-8") as f:
        json.dump({"library": "tokenizers 0.22.1", "models": out}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
