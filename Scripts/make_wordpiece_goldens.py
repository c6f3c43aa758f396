#!/usr/bin/env python3
"""WordPiece tokenizers and their goldens, made with HF tokenizers (pinned by make_goldens.sh).

Trains three WordPiece tokenizer.json files on repository text (Fixtures/text/golden.txt and
Fixtures/sentencepiece/botchan.txt) and records HF's ids on the usual golden cases:

  * wordpiece-bert:      BERT-style: NFD, Lowercase, StripAccents, BertPreTokenizer,
                         "##" continuation, WordPiece decoder, max_input_chars_per_word 12
                         (so long words become [UNK]).
  * wordpiece-bertnorm:  BERT's own normalizer (BertNormalizer: clean text, spaces around CJK
                         ideographs, accents stripped after NFD, lowercase), trained with UDHR
                         Hindi, Chinese, Thai and Korean so that marks and ideographs are in the
                         vocabulary; extra cases with control characters and U+FFFD.
  * wordpiece-bytelevel: byte-level: ByteLevel pre-tokenizer with the 256-byte alphabet, the
                         "##" continuation, ByteLevel decoder (as ByteSpan's output uses).

Run:  GOLDEN_SCRIPT=Scripts/make_wordpiece_goldens.py Scripts/make_goldens.sh
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens as mg  # noqa: E402

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

CORPUS = [mg.GOLDEN_TEXT, os.path.join(mg.FIXTURES, "sentencepiece", "botchan.txt")]


def bert():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=12))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()])
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.train(CORPUS, trainers.WordPieceTrainer(vocab_size=1500, special_tokens=["[UNK]", "[CLS]", "[SEP]"]))
    return tok


def bertnorm():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    udhr = [os.path.join(mg.FIXTURES, "parallel", "udhr", f + ".txt") for f in ["hin", "cmn_hans", "tha", "kor"]]
    tok.train(CORPUS + udhr, trainers.WordPieceTrainer(vocab_size=3000, special_tokens=["[UNK]", "[CLS]", "[SEP]"]))
    return tok


BERTNORM_CASES = [
    ("bert-controls", "tab\there\x00nul\u200bzero-width\u00adsoft\ufffdrepl\x07bell\u2028line\u3000ideo-space\r\nend"),
    ("bert-marks", "का कि की कु कू कृ के कै को कौ कं कः कँ क़ ñandú Ångström Crème brûlée"),
    ("bert-cjk", "人人生而自由,在尊严和权利上一律平等。𠀀𪜀 ｆｕｌｌ 한국어 ภาษาไทย"),
]


def bytelevel():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.train(CORPUS, trainers.WordPieceTrainer(vocab_size=2000, special_tokens=["[UNK]"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def main():
    import importlib.metadata
    lib = "tokenizers " + importlib.metadata.version("tokenizers")
    text = mg.read_golden_text()
    for name, make in [("wordpiece-bert", bert), ("wordpiece-bertnorm", bertnorm), ("wordpiece-bytelevel", bytelevel)]:
        tok = make()
        rel = f"models/{name}/tokenizer.json"
        os.makedirs(os.path.join(mg.FIXTURES, "models", name), exist_ok=True)
        tok.save(os.path.join(mg.FIXTURES, rel))
        tok = Tokenizer.from_file(os.path.join(mg.FIXTURES, rel))
        extra = BERTNORM_CASES if name == "wordpiece-bertnorm" else []
        cases = [(n, s, tok.encode(s, add_special_tokens=False).ids) for n, s in mg.common_cases(text) + extra]
        mg.write_golden(name, {"model": rel, "library": lib, "cases": cases})


if __name__ == "__main__":
    main()
