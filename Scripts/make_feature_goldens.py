#!/usr/bin/env python3
"""Small tokenizer.json files that each exercise HF features tokenkit implements, trained and run by
HF tokenizers: NFKD and Strip normalizers, the Whitespace pre-tokenizer, the Metaspace
pre-tokenizer and decoder, Replace/Strip/ByteFallback/Fuse decoders, added tokens with lstrip,
rstrip and single_word, the CharDelimiterSplit pre-tokenizer, the WordLevel model with the Nmt normalizer, the CTC decoder. Writes Fixtures/goldens/features/NAME.tokenizer.json and NAME.json with
the ids and the decoded text of each case (HF decode, special tokens kept).

Usage: python Scripts/make_feature_goldens.py [NAME...]   (tokenizers 0.22.1; default: all)
"""
import json, os
from tokenizers import Tokenizer, AddedToken, Regex, models, normalizers, pre_tokenizers, decoders, trainers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fixtures", "goldens", "features")
CORPUS = [
    "The quick brown fox jumps over the lazy dog. ﬁne ① café naïve Ⅻ ｆｕｌｌｗｉｄｔｈ",
    "  leading and trailing spaces  ", "tokens, tokens; more tokens! yes no maybe",
    "über straße 東京 タワー ½ ™ ㎏ ﬂow", "a b c abc abcabc the then there these",
] * 20
TEXTS = [
    "The quick brown fox.", "  padded text  ", "ﬁne ① Ⅻ ｆｕｌｌ ½ ™ ㎏", "café naïve über", "東京 タワー",
    "a <mask> b", "a<mask>b", "end [END]   next", "[END]x", "yes yesno noyes yes. (yes)", "no yes",
    "unknown ✈ glyph", "", " ", "tabs\tand\nnewlines", "multiple   spaces   here",
]
# Control and zero-width characters for the Nmt normalizer (word-level only, so the older goldens keep their cases).
# Repeats that CTC collapses, blanks between them, and the cleanup's punctuation rules.
CTC_TEXTS = ["hello  wood", "a<pad>a<pad><pad>aa b", "yes . no , maybe ! do n't", "<pad>", "||x||"]
NMT_TEXTS = ["zero\u200bwidth\u2028line\ufeffbom", "bell\x07 nul\x01 del\x7f c1\x9f ▁mark", "form\x0cfeed\rcr\ufffd"]


def train(tok, specials=()):
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=list(specials), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet() if isinstance(tok.pre_tokenizer, pre_tokenizers.ByteLevel) else [])
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def nfkd_strip_whitespace():
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.Strip(left=True, right=True)])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.Sequence([decoders.Replace("e", "E"), decoders.Strip(" ", 1, 1)])
    return train(tok, ["[UNK]"])


def metaspace():
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return train(tok, ["<unk>"])


def added_tokens():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    train(tok)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False), AddedToken("[END]", rstrip=True, lstrip=False)])
    tok.add_tokens([AddedToken("yes", single_word=True, normalized=False)])
    return tok


def byte_fallback():
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>"] + [f"<0x{b:02X}>" for b in range(256)], show_progress=False)
    tok.train_from_iterator([("▁" + t.replace(" ", "▁")) for t in CORPUS], trainer)
    return tok


def char_delimiter():
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.CharDelimiterSplit(" ")
    return train(tok, ["[UNK]"])


def word_level():
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(CORPUS + NMT_TEXTS * 3, trainers.WordLevelTrainer(vocab_size=80, special_tokens=["[UNK]"], show_progress=False))
    return tok


def ctc():
    # A speech model's character vocabulary (wav2vec2-style): "|" between words, <pad> as CTC's blank.
    chars = sorted(set("".join(CORPUS + TEXTS).lower()) - {" "})
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Replace(" ", "|")])
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), "isolated")
    tok.decoder = decoders.CTC(pad_token="<pad>", word_delimiter_token="|", cleanup=True)
    tok.add_special_tokens(["<pad>"])
    return tok


def main():
    import sys
    os.makedirs(OUT, exist_ok=True)
    for name, make in [("nfkd-strip-whitespace", nfkd_strip_whitespace), ("metaspace", metaspace),
                       ("added-tokens", added_tokens), ("byte-fallback", byte_fallback), ("char-delimiter", char_delimiter), ("word-level", word_level), ("ctc", ctc)]:
        if sys.argv[1:] and name not in sys.argv[1:]:
            continue  # regenerate only the named ones
        tok = make()
        tok.save(os.path.join(OUT, name + ".tokenizer.json"))
        tok = Tokenizer.from_file(os.path.join(OUT, name + ".tokenizer.json"))
        cases = []
        for t in TEXTS + (NMT_TEXTS if name == "word-level" else []) + (CTC_TEXTS if name == "ctc" else []):
            ids = tok.encode(t, add_special_tokens=False).ids
            cases.append({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
        with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
            json.dump({"library": "tokenizers 0.22.1", "cases": cases}, f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
