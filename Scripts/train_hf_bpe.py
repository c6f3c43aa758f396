#!/usr/bin/env python3
"""Train a byte-level BPE tokenizer with HF `tokenizers`, as in Hayase et al. (2024) §4.1:
GPT-2 byte-level pre-tokenization with runs of digits kept apart, special token [UNK], the
alphabet limited to the bytes seen, files read line by line (`Tokenizer.train`).

Used by `tokenkit mixture-eval --trainer hf`.
usage: train_hf_bpe.py --vocab-size N -o tokenizer.json FILE...
"""
import argparse

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab-size", type=int, default=30000)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=args.vocab_size, special_tokens=["[UNK]"], show_progress=False)
    tok.train(args.files, trainer)
    tok.save(args.output)


if __name__ == "__main__":
    main()
