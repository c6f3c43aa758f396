#!/usr/bin/env python3
"""Reference decodes for the id goldens: for every case of Fixtures/goldens/NAME.json, the text
that the reference library gives back from the golden ids (tiktoken decode_bytes, HF tokenizers
decode without skipping special tokens, sentencepiece DecodeIds). Lossy models (normalizers,
dummy prefixes) do not give the input back, so GoldenTests.decodeMatchesReference compares
with these. Writes Fixtures/goldens/decoded/NAME.json as {"case name": text}; bytes that are not
UTF-8 are written as U+FFFD, as the libraries return them.

Usage: python Scripts/make_decode_goldens.py   (tokenizers 0.22.1, tiktoken 0.12.0, sentencepiece 0.2.1)
"""
import base64, json, os, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIX = os.path.join(ROOT, "Fixtures")
NAMES = ["r50k", "p50k", "cl100k", "qwen2.5", "deepseek-coder", "llama2-spm", "hf-botchan-unigram",
         "spm-llama2", "spm-mistral-v1", "spm-mistral-v3", "spm-botchan-bpe", "spm-botchan-unigram", "spm-kyoto-unigram",
         "wordpiece-bert", "wordpiece-bertnorm", "wordpiece-bytelevel"]


def decoder(golden):
    model = os.path.join(FIX, golden["model"])
    lib = golden["library"].split()[0]
    if lib == "tiktoken":
        import tiktoken
        ranks = {}
        for line in open(model, "rb"):
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
        enc = tiktoken.Encoding(name="golden", pat_str=r"\s+", mergeable_ranks=ranks, special_tokens={})
        return lambda ids: enc.decode_bytes(ids).decode("utf-8", errors="replace")
    if lib == "tokenizers":
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(model)
        return lambda ids: tok.decode(ids, skip_special_tokens=False)
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=model)
    return lambda ids: sp.decode_ids(ids)


def main():
    out_dir = os.path.join(FIX, "goldens", "decoded")
    os.makedirs(out_dir, exist_ok=True)
    for name in NAMES:
        golden = json.load(open(os.path.join(FIX, "goldens", name + ".json"), encoding="utf-8"))
        decode = decoder(golden)
        result = {c["name"]: decode(c["ids"]) for c in golden["cases"]}
        with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
            json.dump({"library": golden["library"], "decoded": result}, f, ensure_ascii=False, indent=0)
            f.write("\n")
        print(name, len(result), file=sys.stderr)


if __name__ == "__main__":
    main()
