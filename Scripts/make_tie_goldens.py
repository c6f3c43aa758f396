#!/usr/bin/env python3
"""A tiny Unigram model whose segmentations tie, and what sentencepiece and HF tokenizers make of it.

Writes
    Fixtures/sentencepiece/ties_unigram.model   (built here with sentencepiece_model_pb2)
    Fixtures/goldens/spm-ties-unigram.json      (sentencepiece: ids, decode, n-best)
    Fixtures/goldens/spm-hf-ties-unigram.json   (tokenizers' Unigram on the same pieces)
in the format of Scripts/make_spm_goldens.py.

Each pair of pieces X and XX can segment XXX as "X XX" or "XX X", with the same total score.
The two libraries break such ties differently, and the goldens record both:
- HF tokenizers adds scores in double precision and keeps the first path found (by start
  position), so it always gives "X XX".
- sentencepiece (EncodeOptimized) adds a piece's score to the best score so far in double
  precision but stores the best score as a float, and replaces a path only by a strictly
  better one. When the float rounds the first path's sum down, the second path ("XX X") wins.
The pairs below cover both outcomes (found by experiment with sentencepiece 0.2.1), an exact
three-way tie (X = -2, XX = -4: "X X X", "X XX", "XX X"), multi-byte characters, and longer
runs. Run through a virtualenv with the pinned versions, e.g.
    .venv-test/bin/python Scripts/make_tie_goldens.py
"""

from __future__ import annotations

import importlib.metadata
import json
import os

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb
from tokenizers import Tokenizer
from tokenizers.models import Unigram

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Fixtures")

# (single, double, single's score, double's score)
PAIRS = [
    ("/", "//", -11.574731975160903, -4.198500873221615),  # spm: "// /" (float rounds down), HF: "/ //"
    ("P", "PP", -7.683808762833144, -7.017620439436703),   # both: "P PP"
    ("x", "xx", -2.0, -4.0),                               # exact three-way tie
    ("é", "éé", -11.574731975160903, -4.198500873221615),  # two-byte characters, spm's rounding case
    ("ñ", "ññ", -3.1, -6.2),
]
# Three pieces that tie differently: "ab c" vs "a bc".
EXTRA = [("a", -3.3), ("b", -9.0), ("c", -3.7), ("ab", -4.7), ("bc", -5.1)]

TEXTS = ["///", "////", "/////", "PPP", "PPPPP", "xxx", "xxxx", "ééé", "ééééé", "ñññ", "abc", "abcabc",
         "/P/", "//PPP//", "xx/xxx", "ñññ///", "a/bc", "q///", "///q"]


def build_model(path):
    m = pb.ModelProto()
    m.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    m.trainer_spec.vocab_size = 1 + 2 * len(PAIRS) + len(EXTRA)
    m.trainer_spec.unk_id, m.trainer_spec.bos_id, m.trainer_spec.eos_id, m.trainer_spec.pad_id = 0, -1, -1, -1
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = False
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = False
    p = m.pieces.add()
    p.piece, p.score, p.type = "<unk>", 0, pb.ModelProto.SentencePiece.UNKNOWN
    for one, two, s1, s2 in PAIRS:
        for piece, score in ((one, s1), (two, s2)):
            p = m.pieces.add()
            p.piece, p.score = piece, score
    for piece, score in EXTRA:
        p = m.pieces.add()
        p.piece, p.score = piece, score
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return m


def write(name, out):
    dest = os.path.join(FIXTURES, "goldens", name)
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {dest}: {len(out['cases'])} cases")


def main():
    model_path = os.path.join(FIXTURES, "sentencepiece", "ties_unigram.model")
    proto = build_model(model_path)
    sp = spm.SentencePieceProcessor(model_file=model_path)
    cases = []
    for i, t in enumerate(TEXTS):
        case = {"name": f"tie-{i:02d}", "text": t, "ids": sp.encode(t)}
        if sp.decode(case["ids"]) != t:
            case["decoded"] = sp.decode(case["ids"])
        cases.append(case)
    nbest = [{"text": t, "n": n, "ids": sp.nbest_encode_as_ids(t, n)} for t in TEXTS[:10] for n in (2, 5)]
    write("spm-ties-unigram.json", {"model": "sentencepiece/ties_unigram.model",
                                    "library": "sentencepiece " + importlib.metadata.version("sentencepiece"),
                                    "cases": cases, "nbest": nbest})
    # HF on the same pieces, scores as the model stores them (floats).
    tok = Tokenizer(Unigram([(p.piece, p.score) for p in proto.pieces], 0, False))
    hf = [{"name": c["name"], "text": c["text"], "ids": tok.encode(c["text"]).ids} for c in cases]
    write("spm-hf-ties-unigram.json", {"model": "sentencepiece/ties_unigram.model",
                                       "library": "tokenizers " + importlib.metadata.version("tokenizers"), "cases": hf})
    differ = [c["text"] for c, h in zip(cases, hf) if c["ids"] != h["ids"]]
    print(f"sentencepiece and tokenizers differ on {len(differ)} of {len(cases)}: {differ}")
    assert differ, "the tie cases should show where the two libraries part"


if __name__ == "__main__":
    main()
