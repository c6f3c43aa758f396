#!/usr/bin/env python3
"""Writes Fixtures/models/bert-vocab/vocab.txt: BERT's uncased WordPiece vocabulary (30,522 lines) as
transformers' vocab.txt spells it, taken from Fixtures/gguf/ggml-vocab-bert-bge.gguf (llama.cpp's BGE vocabulary,
which is bert-base-uncased's) through `tokenkit convert`. GGUFTests' goldens for that file (HF tokenizers on the
original model) then check the vocab.txt reader too.

usage: make_bert_vocab.py TOKENKIT
"""
import json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "tokenizer.json")
    subprocess.run([sys.argv[1], "convert", "-q", os.path.join(ROOT, "Fixtures", "gguf", "ggml-vocab-bert-bge.gguf"), "-o", out], check=True)
    vocab = json.load(open(out, encoding="utf-8"))["model"]["vocab"]
by_id = sorted(vocab, key=vocab.get)
assert [vocab[t] for t in by_id] == list(range(len(by_id))), "ids are not 0..n-1"
dest = os.path.join(ROOT, "Fixtures", "models", "bert-vocab", "vocab.txt")
with open(dest, "w", encoding="utf-8", newline="\n") as f:
    f.write("".join(t + "\n" for t in by_id))
print(f"wrote {dest}: {len(by_id)} tokens")
