#!/usr/bin/env python3
"""Generate golden ids for tokenkit's SentencePiece module (TokenKitSentencePiece).

Reads only files inside this repository (Fixtures/sentencepiece, Fixtures/text) and writes
Fixtures/goldens/spm-<name>.json, one per .model file, in the format of the other goldens:

    {"model": "sentencepiece/<file>.model",
     "library": "sentencepiece <version>",
     "cases": [{"name", "text", "ids", "decoded"}, ...],
     "nbest": [{"text", "n", "ids": [[...], ...]}, ...],          # Unigram models only
     "sampling": [{"text", "alpha", "nbest_size", "draws", "counts": {"1 2 3": n, ...}}]}

ids are SentencePieceProcessor.encode(text) (no bos/eos, no sampling); "decoded" is
decode(ids), present only where it differs from "text". Cases: everything Scripts/make_goldens.py uses (whole golden.txt, each line,
synthetic and long cases, random-mix), then "botchan-whole" (all of botchan.txt), "botchan-line-N"
for its first 200 lines, and "model-NN" cases that exercise the model's own pieces
(user-defined and control pieces written in the text, byte fallback).

"sampling" records how often each segmentation came out in `draws` sampled encodings
(encode(..., enable_sampling=True)); the Swift tests compare frequencies, not draws, since
the random generators differ.

Also writes Fixtures/goldens/spm-hf-<name>.json for the Unigram models: the Hugging Face
`tokenizers` Unigram model built from the same vocabulary ([piece, score], unk_id, no byte
fallback), with no normalizer or pre-tokenizer, on the text already normalized by
sentencepiece (each case's "text" is sp.normalize(original)): this checks
TokenKitSentencePiece.UnigramModel's Hugging Face flavour (double-precision Viterbi, fused
unknowns).

Run through Scripts/make_spm_goldens.sh, which pins the library versions.
"""

from __future__ import annotations

import collections
import importlib.metadata
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
from make_goldens import common_cases, read_golden_text, split_lines  # noqa: E402
from golden_io import write_compact  # noqa: E402

import sentencepiece as spm  # noqa: E402

FIXTURES = os.path.join(ROOT, "Fixtures")
MODELS = {
    "llama2": "llama2_tokenizer.model",
    "mistral-v1": "mistral_v1_tokenizer.model",
    "mistral-v3": "mistral_instruct_v3_240323.model",
    "botchan-bpe": "botchan_en_bpe_1000.model",
    "botchan-unigram": "botchan_en_unigram_1000.model",
    "kyoto-unigram": "kyoto_ja_unigram_8000.model",
}

MODEL_CASES = [
    "<s>hello</s>",
    "<unk> <s> </s>",
    "[INST] What is 2+2? [/INST]",
    "[REFERENCE_DOC_1] and [REFERENCE_DOC_12][REFERENCE_DOC_19]x",
    "  [REFERENCE_DOC_0]  ",
    "<0x41><0xE3>",
    "\u2581\u2581 \u2581x",
    "\u4e00\u9fff\U00020000\U0002A6D6 \U0001F9FF",
    "\ufffd\u0000\u0001",
    "ｈｅｌｌｏ　ｗｏｒｌｄ ①②③ ﾊﾝｶｸ",
    "吾輩は猫である。名前はまだ無い。",
    "Ǆ ﬀ ㎏ ℌ ⅷ",
    "a\u200bb\u200cc\ufeffd",
]

NBEST_TEXTS = [
    "hello world",
    "I saw a girl with a telescope.",
    "吾輩は猫である",
    "unbelievable",
    "",
    " ",
]

SAMPLING = [
    ("hello", 0.5, -1),
    ("hello", 0.1, -1),
    ("telescope", 1.0, -1),
    ("hello world", 0.5, 5),
    ("吾輩は猫", 0.3, -1),
]
DRAWS = 20000


def botchan_cases():
    with open(os.path.join(FIXTURES, "sentencepiece", "botchan.txt"), encoding="utf-8", newline="") as f:
        text = f.read()
    cases = [("botchan-whole", text)]
    cases += [(f"botchan-line-{i}", line) for i, line in enumerate(split_lines(text)[:200], start=1)]
    return cases


def main():
    lib = "sentencepiece " + importlib.metadata.version("sentencepiece")
    text = read_golden_text()
    all_cases = common_cases(text) + botchan_cases()
    all_cases += [(f"model-{i:02d}", s) for i, s in enumerate(MODEL_CASES)]
    for name, file in MODELS.items():
        path = os.path.join(FIXTURES, "sentencepiece", file)
        sp = spm.SentencePieceProcessor(model_file=path)
        cases = []
        for case_name, s in all_cases:
            ids = sp.encode(s)
            case = {"name": case_name, "text": s, "ids": ids}
            decoded = sp.decode(ids)
            if decoded != s:
                case["decoded"] = decoded
            cases.append(case)
        out = {"model": f"sentencepiece/{file}", "library": lib, "cases": cases}
        from sentencepiece import sentencepiece_model_pb2 as pb
        proto = pb.ModelProto()
        with open(path, "rb") as f:
            proto.ParseFromString(f.read())
        if proto.trainer_spec.model_type == pb.TrainerSpec.UNIGRAM:
            out["nbest"] = [{"text": t, "n": n, "ids": sp.nbest_encode_as_ids(t, n)}
                            for t in NBEST_TEXTS for n in (1, 3, 10)]
            sampling = []
            for t, alpha, nbest in SAMPLING:
                spm.set_random_generator_seed(12345)
                counts = collections.Counter(
                    " ".join(map(str, sp.encode(t, enable_sampling=True, alpha=alpha, nbest_size=nbest)))
                    for _ in range(DRAWS))
                sampling.append({"text": t, "alpha": alpha, "nbest_size": nbest, "draws": DRAWS,
                                 "counts": dict(sorted(counts.items()))})
            out["sampling"] = sampling
        dest = os.path.join(FIXTURES, "goldens", f"spm-{name}.json")
        with open(dest, "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {dest}: {len(cases)} cases")
        if proto.trainer_spec.model_type == pb.TrainerSpec.UNIGRAM:
            hf_goldens(name, file, sp, proto, common_cases(text) + [(f"model-{i:02d}", s) for i, s in enumerate(MODEL_CASES)])


def hf_goldens(name, file, sp, proto, cases):
    from tokenizers import Tokenizer
    from tokenizers.models import Unigram

    unk = next(i for i, p in enumerate(proto.pieces) if p.type == 2)
    model = Unigram([(p.piece, p.score) for p in proto.pieces], unk, False)
    tok = Tokenizer(model)
    lib = "tokenizers " + importlib.metadata.version("tokenizers")
    out_cases = []
    for case_name, s in cases:
        normalized = sp.normalize(s)
        out_cases.append({"name": case_name, "text": normalized, "ids": tok.encode(normalized).ids})
    out = {"model": f"sentencepiece/{file}", "library": lib, "cases": out_cases}
    write_compact(os.path.join(FIXTURES, "goldens", f"spm-hf-{name}.json"), out, f"{len(out_cases)} cases")


if __name__ == "__main__":
    main()
