#!/usr/bin/env python3
"""Goldens for characters where ICU 72 (Unicode 15.0, tokenkit's character data) and the
reference libraries differ:

* Fixtures/goldens/unicode16-<model>.json: every run of Sources/TokenKitText/UnicodeUpdate.swift
  (general categories changed in Unicode 16.0) in a few contexts, encoded by tiktoken (r50k,
  cl100k) and HF tokenizers (Qwen2.5, DeepSeek Coder), in the format of make_goldens.py.
* Fixtures/goldens/unicode-normalizers.json: HF tokenizers' NFC, NFD, NFKC and NFKD (Unicode 9.0
  tables) of every character with a decomposition or a combining class in Unicode 16.0, each
  between "a" and U+0316, in lines of 40.

Usage (pinned as Scripts/test installs them, plus unicodedata2):
    python3 -m venv /tmp/uv && /tmp/uv/bin/pip install tokenizers==0.22.1 tiktoken==0.12.0 unicodedata2==16.0.0
    /tmp/uv/bin/python Scripts/make_unicode_goldens.py
"""
import importlib.metadata, json, os, re

import tiktoken, tiktoken.load, unicodedata2
from tokenizers import Tokenizer, normalizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Fixtures")
R50K = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
          r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s""")


def texts():
    src = open(os.path.join(ROOT, "Sources", "TokenKitText", "UnicodeUpdate.swift")).read()
    runs = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\(0x([0-9A-F]+), 0x([0-9A-F]+),", src)]
    cases = []
    for k, (a, b) in enumerate(runs):
        for c in sorted({a, (a + b) // 2, b}):
            ch = chr(c)
            for n, t in enumerate([f"a{ch}b", f" {ch}{ch}1", f"{ch}\n \n", f"x {ch}!", f"{ch}'s 12{ch}3"]):
                cases.append((f"run{k}-{c:X}-{n}", t))
    return cases


def write(name, model, library, cases):
    with open(os.path.join(FIX, "goldens", name + ".json"), "w", encoding="utf-8") as f:
        json.dump({"model": model, "library": library, "cases": cases}, f, ensure_ascii=False, indent=0)


def main():
    cases = texts()
    tt = "tiktoken " + importlib.metadata.version("tiktoken")
    for name, pat in [("r50k", R50K), ("cl100k", CL100K)]:
        enc = tiktoken.Encoding(name, pat_str=pat, special_tokens={},
                                mergeable_ranks=tiktoken.load.load_tiktoken_bpe(os.path.join(FIX, "models", f"{name}_base.tiktoken")))
        write(f"unicode16-{name}", f"models/{name}_base.tiktoken", tt,
              [{"name": n, "text": t, "ids": enc.encode_ordinary(t)} for n, t in cases])
    hf = "tokenizers " + importlib.metadata.version("tokenizers")
    for name in ["qwen2.5", "deepseek-coder"]:
        tok = Tokenizer.from_file(os.path.join(FIX, "models", name, "tokenizer.json"))
        write(f"unicode16-{name}", f"models/{name}/tokenizer.json", hf,
              [{"name": n, "text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for n, t in cases])
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000
             and (unicodedata2.decomposition(chr(c)) or unicodedata2.combining(chr(c)))]
    lines = ["".join("a" + ch + "\u0316" for ch in chars[i:i + 40]) for i in range(0, len(chars), 40)]
    forms = {f: [getattr(normalizers, f)().normalize_str(t) for t in lines] for f in ["NFC", "NFD", "NFKC", "NFKD"]}
    with open(os.path.join(FIX, "goldens", "unicode-normalizers.json"), "w", encoding="utf-8") as f:
        json.dump({"library": hf, "unicode": unicodedata2.unidata_version, "texts": lines, "forms": forms}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
