#!/usr/bin/env python3
"""Trains small tokenizers of varied shapes with HF `tokenizers` (used by check_interop.py):
byte-level BPE with prefix space, CLIP-like end-of-word suffixes, WordPiece-style "##" prefixes
with unk, Metaspace with byte fallback, digit and punctuation splitting; then the shapes of other
model families: BERT (BertNormalizer, WordPiece), RoBERTa, T5-like Unigram, Llama 3-like Split +
ByteLevel, BPE with both a prefix and a suffix, every Split behaviour, CharDelimiterSplit, UnicodeScripts, FixedLength, WordLevel
with the Nmt normalizer, Llama-2-like tokenizer.json BPE; added tokens (normalized, special,
overlapping, a byte-level character) and Metaspace without splitting. Writes DIR/NAME.json."""
import os, sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers


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


def families():
    byte_alphabet = pre_tokenizers.ByteLevel.alphabet()
    t = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    t.normalizer = normalizers.BertNormalizer(lowercase=True)
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.decoder = decoders.WordPiece()
    yield "bert-uncased", t, trainers.WordPieceTrainer(vocab_size=900, special_tokens=["[UNK]", "[CLS]", "[SEP]"])
    t = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=12))
    t.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(), pre_tokenizers.Digits()])
    yield "bert-cased", t, trainers.WordPieceTrainer(vocab_size=900, special_tokens=["[UNK]"])
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    t.decoder = decoders.ByteLevel()
    yield "roberta", t, trainers.BpeTrainer(vocab_size=700, initial_alphabet=byte_alphabet, special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    t = Tokenizer(models.Unigram())
    t.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(prepend_scheme="always")])
    t.decoder = decoders.Metaspace()
    yield "t5-like", t, trainers.UnigramTrainer(vocab_size=1500, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    t = Tokenizer(models.BPE(ignore_merges=True))
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"),
        behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    t.decoder = decoders.ByteLevel()
    yield "llama3-like", t, trainers.BpeTrainer(vocab_size=800, initial_alphabet=byte_alphabet)
    t = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    t.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase(), normalizers.Strip()])
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    yield "prefix-and-suffix", t, trainers.BpeTrainer(vocab_size=700, continuing_subword_prefix="##", end_of_word_suffix="</w>",
                                                      special_tokens=["[UNK]"], limit_alphabet=150)
    for behavior in ["removed", "merged_with_previous", "merged_with_next", "contiguous"]:
        t = Tokenizer(models.BPE())
        t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"[,.;:!?]|\s+"), behavior=behavior),
                                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        t.decoder = decoders.ByteLevel()
        yield "split-" + behavior, t, trainers.BpeTrainer(vocab_size=500, initial_alphabet=byte_alphabet)
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.CharDelimiterSplit("e"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    t.decoder = decoders.ByteLevel()
    yield "char-delimiter", t, trainers.BpeTrainer(vocab_size=500, initial_alphabet=byte_alphabet)
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.UnicodeScripts(), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    t.decoder = decoders.ByteLevel()
    yield "unicode-scripts", t, trainers.BpeTrainer(vocab_size=700, initial_alphabet=byte_alphabet)
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.FixedLength(length=4), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    t.decoder = decoders.ByteLevel()
    yield "fixed-length", t, trainers.BpeTrainer(vocab_size=600, initial_alphabet=byte_alphabet)
    t = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    t.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    yield "word-level", t, trainers.WordLevelTrainer(vocab_size=1500, special_tokens=["[UNK]"])
    t = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    t.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    yield "llama2-json-like", t, trainers.BpeTrainer(vocab_size=900, special_tokens=["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)],
                                                     limit_alphabet=150)


def added():
    """Added tokens as people add them after training (add_tokens: normalized unless special),
    and decoders whose HF quirks matter. Yields (name, tokenizer, trainer, what to add)."""
    byte_alphabet = pre_tokenizers.ByteLevel.alphabet()
    # Llama-2-like normalizer: a normalized added token is matched as the normalizer spells it.
    t = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    t.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    yield ("llama2-added", t, trainers.BpeTrainer(vocab_size=700, special_tokens=["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)],
                                                  limit_alphabet=150),
           [AddedToken("<tool>"), AddedToken("my tok"), AddedToken("<|sys|>", special=True)])
    # Lowercase (Greek capital sigma is always small sigma in HF) with a normalized added token.
    t = Tokenizer(models.BPE())
    t.normalizer = normalizers.Lowercase()
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    yield "lowercase-added", t, trainers.BpeTrainer(vocab_size=600, initial_alphabet=byte_alphabet), [AddedToken("Hello")]
    # Overlapping added tokens: the special (not normalized) one cuts the text first; "é" reuses
    # the byte-level vocabulary's id of byte 0xE9.
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    yield ("added-overlap", t, trainers.BpeTrainer(vocab_size=600, initial_alphabet=byte_alphabet),
           [AddedToken("abc", special=True), AddedToken("abcd"), AddedToken("é")])
    # Metaspace without splitting: tokens such as "the▁" and "▁▁▁" (the decoder's first-token rule).
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first", split=False)
    t.decoder = decoders.Metaspace(prepend_scheme="first", split=False)
    yield "metaspace-nosplit", t, trainers.BpeTrainer(vocab_size=600, limit_alphabet=150), []


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    shapes = [(n, t, tr, []) for n, t, tr in list(variants()) + list(families())] + list(added())
    for name, tok, trainer, extra in shapes:
        tok.train([corpus], trainer)
        if extra:
            tok.add_tokens([a for a in extra if not a.special])
            tok.add_special_tokens([a for a in extra if a.special])
        tok.save(os.path.join(out, name + ".json"))
        print(name)


if __name__ == "__main__":
    main()
