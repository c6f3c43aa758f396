#!/usr/bin/env python3
"""HF tokenizers' UnicodeScripts pre-tokenizer on random text from every plane (assigned, newer
than HF's script table, private use, unassigned), spaces and ASCII mixed in. Writes
Fixtures/goldens/unicode-scripts.json: [{"text": ..., "pieces": [[start, end] byte offsets]}].

Usage: python Scripts/make_unicode_scripts_golden.py   (tokenizers 0.22.1)
"""
import json, os, random
from tokenizers import pre_tokenizers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "goldens", "unicode-scripts.json")


def main():
    rng = random.Random(20261203)
    scripts = pre_tokenizers.UnicodeScripts()
    blocks = [(0x21, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x52F), (0x530, 0x6FF), (0x700, 0x8FF),
              (0x900, 0xDFF), (0xE00, 0xFFF), (0x1000, 0x1FFF), (0x2000, 0x2BFF), (0x2E80, 0x33FF),
              (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA000, 0xABFF), (0xAC00, 0xD7FF), (0xE000, 0xF8FF),
              (0xF900, 0xFFFD), (0x10000, 0x1FFFF), (0x20000, 0x2FFFF), (0x30000, 0x3134F), (0xE0000, 0xE01EF),
              (0xF0000, 0x10FFFD)]
    special = [0x20, 0x20, 0x20, 0x30FC, 0x589, 0x61C, 0x953, 0x954, 0x200D, 0xFE0F, 0x3005, 0x3042, 0x30A2, 0x9]
    cases = []
    for _ in range(600):
        chars = []
        for _ in range(rng.randint(1, 10)):
            r = rng.random()
            if r < 0.25:
                chars.append(chr(rng.choice(special)))
            elif r < 0.45:
                chars.append(chr(rng.randint(0x61, 0x7A)))
            else:
                lo, hi = rng.choice(blocks)
                chars.append(chr(rng.randint(lo, hi)))
        text = "".join(chars)
        pieces = []
        for _, (s, e) in scripts.pre_tokenize_str(text):
            pieces.append([len(text[:s].encode("utf-8")), len(text[:e].encode("utf-8"))])
        cases.append({"text": text, "pieces": pieces})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"library": "tokenizers 0.22.1", "cases": cases}, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
