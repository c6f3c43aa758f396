#!/usr/bin/env python3
"""Where SuperBPE's gain comes from: splits a text into paragraphs (blank-line separated), sorts
each into code / indented (man-page bodies) / prose / other by a rough heuristic, encodes every
paragraph with a BPE and a SuperBPE tokenizer.json (HF tokenizers; tokenkit gives the same ids)
and prints bytes/token and the token ratio per kind.

    superbpe_by_kind.py BPE.json SUPERBPE.json TEXT"""
import re
import sys

from tokenizers import Tokenizer

CODE_LINE = re.compile(r"[;{}]\s*$|^\s*(def |class |import |#include|return |if \(|for \(|static |struct )"
                       r"|==|->|\+\+|\):\s*$")


def kind(paragraph):
    lines = paragraph.split("\n")
    if sum(1 for line in lines if CODE_LINE.search(line)) > 0.3 * len(lines):
        return "code"
    if sum(1 for line in lines if line.startswith("       ")) > 0.5 * len(lines):
        return "indented"
    # Prose: mostly letters in words.
    if len(re.findall(r"[A-Za-z]+", paragraph)) > 0.12 * len(paragraph):
        return "prose"
    return "other"


def main(bpe_path, super_path, text_path):
    bpe, sup = Tokenizer.from_file(bpe_path), Tokenizer.from_file(super_path)
    paragraphs = open(text_path, encoding="utf-8", errors="replace").read().split("\n\n")
    totals = {}
    for p, a, b in zip(paragraphs, bpe.encode_batch(paragraphs), sup.encode_batch(paragraphs)):
        t = totals.setdefault(kind(p), [0, 0, 0])
        t[0] += len(p.encode()); t[1] += len(a.ids); t[2] += len(b.ids)
    print("kind\tMB\tBPE bytes/token\tSuperBPE bytes/token\tratio")
    for k, (nb, ta, tb) in sorted(totals.items()):
        print(f"{k}\t{nb / 1e6:.2f}\t{nb / ta:.3f}\t{nb / tb:.3f}\t{ta / tb:.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
