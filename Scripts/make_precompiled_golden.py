#!/usr/bin/env python3
"""What HF tokenizers' "Precompiled" normalizer makes of text, for tokenkit's HFPrecompiledCharsMap.

HF applies a SentencePiece charsmap per grapheme cluster (see Sources/TokenKitSentencePiece/
CharsMap.swift), which differs from sentencepiece's own longest match on NFD text, half-width
kana and the like. Writes Fixtures/goldens/hf-precompiled.json: for the charsmaps of two fixture
models (nfkc and nmt_nfkc), `normalizers.Precompiled(charsmap).normalize_str(text)` for each
line of Fixtures/text/golden.txt and some hand-picked cases (NFD forms included).

Usage: .venv-test/bin/python Scripts/make_precompiled_golden.py   (tokenizers 0.22.1, sentencepiece 0.2.1)
"""
import importlib.metadata
import os
import unicodedata

from sentencepiece import sentencepiece_model_pb2 as pb
from tokenizers import normalizers

from golden_io import FIX, write_compact
MODELS = ["sentencepiece/botchan_en_unigram_1000.model", "sentencepiece/botchan_en_bpe_1000.model"]
EXTRA = ["ﾊﾞﾋﾞﾌﾟ ｶﾞ ｶ", "Tiếng Việt", "e\u0302\u0301", "한국어 띄어쓰기", "①②③ ｆｕｌｌ ㎏ ﬁ", "a\r\nb\rc\n", "\u200b\ufeffx\u00a0y",
         "🇯🇵 👩‍👩‍👧 é", "\u0000\u0001\u007f", "ｱｲｳｴｵ ﾞﾟ"]


def main():
    with open(os.path.join(FIX, "text", "golden.txt"), encoding="utf-8", newline="") as f:
        lines = [l for l in f.read().split("\n") if l]
    texts = lines + EXTRA + [unicodedata.normalize("NFD", t) for t in EXTRA]
    out = {"library": "tokenizers " + importlib.metadata.version("tokenizers"), "models": []}
    for rel in MODELS:
        proto = pb.ModelProto()
        with open(os.path.join(FIX, rel), "rb") as f:
            proto.ParseFromString(f.read())
        norm = normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap)
        cases = [{"text": t, "normalized": norm.normalize_str(t)} for t in texts]
        out["models"].append({"model": rel, "charsmap": proto.normalizer_spec.name, "cases": cases})
    write_compact(os.path.join(FIX, "goldens", "hf-precompiled.json"), out, f"{len(texts)} texts x {len(MODELS)} charsmaps")


if __name__ == "__main__":
    main()
