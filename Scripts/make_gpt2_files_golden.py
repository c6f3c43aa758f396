#!/usr/bin/env python3
"""A small GPT-2-format tokenizer (vocab.json + merges.txt) and the ids HF tokenizers gives with it.

Trains a byte-level BPE of 700 tokens with HF tokenizers on Fixtures/sentencepiece/botchan.txt,
saves it as GPT-2's two files in Fixtures/models/gpt2-files/, then loads those two files the
way transformers' GPT2TokenizerFast reads them (BPE from vocab.json + merges.txt, ByteLevel
pre-tokenizer without prefix space, ByteLevel decoder) and writes the ids of each line of
Fixtures/text/golden.txt and a few edge cases to Fixtures/goldens/gpt2-files.json, in the
format of the other goldens.

Usage: .venv-test/bin/python Scripts/make_gpt2_files_golden.py   (tokenizers 0.22.1)
"""
import importlib.metadata
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from golden_io import FIX, write_compact
DIR = os.path.join(FIX, "models", "gpt2-files")


def pipeline(tok):
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def main():
    with open(os.path.join(FIX, "sentencepiece", "botchan.txt"), encoding="utf-8") as f:
        corpus = f.read().splitlines()
    tok = pipeline(Tokenizer(models.BPE()))
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=700, show_progress=False,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    os.makedirs(DIR, exist_ok=True)
    tok.model.save(DIR)  # vocab.json, merges.txt
    hf = pipeline(Tokenizer(models.BPE.from_file(os.path.join(DIR, "vocab.json"), os.path.join(DIR, "merges.txt"))))
    with open(os.path.join(FIX, "text", "golden.txt"), encoding="utf-8", newline="") as f:
        text = f.read()
    texts = [("whole", text)] + [(f"line-{i}", l) for i, l in enumerate(text.split("\n")[:40]) if l]
    texts += [("spaces", "  two  spaces   three\t tab"), ("digits", "12345 3.14159 1,000,000"),
              ("contractions", "I'm you're it's we'll they'd"), ("empty", "")]
    cases = [{"name": n, "text": t, "ids": hf.encode(t).ids} for n, t in texts]
    for c in cases:
        assert hf.decode(c["ids"]) == c["text"], c["name"]
    out = {"model": "models/gpt2-files/vocab.json", "library": "tokenizers " + importlib.metadata.version("tokenizers"),
           "cases": cases}
    write_compact(os.path.join(FIX, "goldens", "gpt2-files.json"), out, f"{len(cases)} cases")


if __name__ == "__main__":
    main()
