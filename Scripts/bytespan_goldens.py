#!/usr/bin/env python3
"""Goldens for tokenkit's byte-level WordPiece (ByteSpan) encoder: HF tokenizers' ids for each
line of Fixtures/text/golden.txt and some hand-picked strings, under the committed ByteSpan
tokenizer Fixtures/bytespan/tokenizer.json (made by `tokenkit train bytespan --order 3
--vocab-size 1200 -o Fixtures/bytespan/tokenizer.json Fixtures/text/golden.txt`).

Usage: python Scripts/bytespan_goldens.py   (needs tokenizers==0.22.1)
Writes Fixtures/goldens/bytespan_hf.json.
"""
import json, os
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tok = Tokenizer.from_file(os.path.join(ROOT, "Fixtures/bytespan/tokenizer.json"))
with open(os.path.join(ROOT, "Fixtures/text/golden.txt"), encoding="utf-8") as f:
    lines = f.read().split("\n")
extra = ["", " ", "  leading spaces", "trailing  ", "tab\tseparated\tvalues", "## heading", "### deeper",
         "a##b", "####", "x" * 1500, "naïve café — ünïcödé", "日本語のテキスト", "emoji 👍🏽 ok", "\r\n\r\n",
         "unbelievably rebuilt walkers", "def f(x):\n    return x ** 2\n"]
cases = [{"text": t, "ids": tok.encode(t).ids} for t in lines + extra]
with open(os.path.join(ROOT, "Fixtures/goldens/bytespan_hf.json"), "w", encoding="utf-8") as f:
    json.dump({"tokenizers": "0.22.1", "cases": cases}, f, ensure_ascii=False, indent=0)
print(len(cases), "cases")
