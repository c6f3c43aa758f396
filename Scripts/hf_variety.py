#!/usr/bin/env python3
"""Trains small BPE tokenizers of varied shapes with HF `tokenizers` (used by check_interop.py):
byte-level with prefix space, CLIP-like end-of-word suffixes, WordPiece-style "##" prefixes with
unk, Metaspace with byte fallback, digit and punctuation splitting. Writes DIR/NAME.json."""
import os, sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers


def variants():
    byte_alphabet = pre_tokenizers.ByteLevel.alphabet()
    # 1. GPT-2 style with add_prefix_space.
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    t.decoder = decoders.ByteLevel()
    yield "bytelevel-prefix", t, trainers.BpeTrainer(vocab_size=600, initial_alphabet=byte_alphabet, special_tokens=["<|end|>"])
    # 2. CLIP-like: NFC + lowercase, regex split with removed gaps, end-of-word suffix.
    t = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    t.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    t.decoder = decoders.BPEDecoder(suffix="</w>")
    yield "clip-like", t, trainers.BpeTrainer(vocab_size=700, initial_alphabet=byte_alphabet, end_of_word_suffix="</w>")
    # 3. Character BPE with "##" continuation, unk, BERT-style splitting and accents stripped.
    t = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##"))
    t.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    yield "wordpiece-like", t, trainers.BpeTrainer(vocab_size=600, special_tokens=["[UNK]"], continuing_subword_prefix="##",
                                                   limit_alphabet=120)
    # 4. Metaspace (prepend first) with byte fallback, as in recent Llama / Mistral conversions.
    t = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    t.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first"), decoders.ByteFallback(), decoders.Fuse()])
    yield "metaspace-bytefallback", t, trainers.BpeTrainer(
        vocab_size=700, special_tokens=["<unk>"] + [f"<0x{b:02X}>" for b in range(256)], limit_alphabet=150)
    # 5. NFKC, single digits, isolated punctuation, then byte level.
    t = Tokenizer(models.BPE())
    t.normalizer = normalizers.NFKC()
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.Punctuation(),
                                               pre_tokenizers.WhitespaceSplit(), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    t.decoder = decoders.ByteLevel()
    yield "digits-punct", t, trainers.BpeTrainer(vocab_size=600, initial_alphabet=byte_alphabet)


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, tok, trainer in variants():
        tok.train([corpus], trainer)
        tok.save(os.path.join(out, name + ".json"))
        print(name)


if __name__ == "__main__":
    main()
