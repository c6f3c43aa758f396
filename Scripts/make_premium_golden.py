#!/usr/bin/env python3
"""Per-language token counts on the parallel sample corpus, made by the reference libraries,
for `tokenkit premium` (Tests/AnalysisTests compare against the output).

    .venv-golden/bin/python Scripts/make_premium_golden.py > Fixtures/goldens/premium-udhr.json

(.venv-golden is made by Scripts/make_spm_goldens.sh and holds tiktoken 0.12.0, tokenizers 0.22.1
and sentencepiece 0.2.1; with .venv-test, which has no sentencepiece, the SentencePiece models
are left out.)

Counting rule (the same as `tokenkit premium`): a language file is cut into lines at "\\n"; a
final empty piece (the file ends with "\\n") is not a line, and one "\\r" before the "\\n" is
dropped. Each line is encoded by itself, without its newline and without added special tokens:
tiktoken `encode_ordinary`, tokenizers `encode(line, add_special_tokens=False)`, sentencepiece
`encode(line)` (no BOS/EOS). A language's
count is the sum over its lines; an empty line counts 0.
"""
import importlib.metadata
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Fixtures")
CORPUS = "parallel/udhr"

TIKTOKEN_MODELS = {"r50k_base": "models/r50k_base.tiktoken", "p50k_base": "models/p50k_base.tiktoken",
                   "cl100k_base": "models/cl100k_base.tiktoken"}
HF_MODELS = {"qwen2.5": "models/qwen2.5/tokenizer.json", "deepseek-coder": "models/deepseek-coder/tokenizer.json",
             "llama2-spm": "models/llama2-spm/tokenizer.json"}

SPM_MODELS = {"llama2_tokenizer.model": "sentencepiece/llama2_tokenizer.model",
              "mistral_instruct_v3_240323.model": "sentencepiece/mistral_instruct_v3_240323.model",
              "kyoto_ja_unigram_8000.model": "sentencepiece/kyoto_ja_unigram_8000.model",
              "botchan_en_unigram_1000.model": "sentencepiece/botchan_en_unigram_1000.model"}


def lines_of(path):
    data = open(path, "rb").read()
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [(p[:-1] if p.endswith(b"\r") else p).decode("utf-8") for p in parts]


def tiktoken_encoders():
    import tiktoken
    from tiktoken_ext import openai_public
    import tiktoken.load

    def local(name):
        # The encodings' own definitions (pattern, special tokens), with ranks from Fixtures.
        saved = openai_public.load_tiktoken_bpe
        openai_public.load_tiktoken_bpe = lambda *a, **k: tiktoken.load.load_tiktoken_bpe(
            os.path.join(FIX, TIKTOKEN_MODELS[name]))
        try:
            spec = getattr(openai_public, name)()
        finally:
            openai_public.load_tiktoken_bpe = saved
        enc = tiktoken.Encoding(**spec)
        return lambda text: len(enc.encode_ordinary(text))

    return {n: local(n) for n in TIKTOKEN_MODELS}


def hf_encoders():
    from tokenizers import Tokenizer

    def local(path):
        tok = Tokenizer.from_file(os.path.join(FIX, path))
        return lambda text: len(tok.encode(text, add_special_tokens=False).ids)

    return {n: local(p) for n, p in HF_MODELS.items()}


def spm_encoders():
    try:
        import sentencepiece as spm
    except ImportError:
        print("sentencepiece is not installed: SentencePiece models left out", file=sys.stderr)
        return {}

    def local(path):
        sp = spm.SentencePieceProcessor(model_file=os.path.join(FIX, path))
        return lambda text: len(sp.encode(text))

    return {n: local(p) for n, p in SPM_MODELS.items()}


def main():
    folder = os.path.join(FIX, CORPUS)
    languages = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".txt"))
    corpus = {lang: lines_of(os.path.join(folder, lang + ".txt")) for lang in languages}
    models = []
    for group, encoders, paths in [("tiktoken", tiktoken_encoders(), TIKTOKEN_MODELS),
                                   ("tokenizers", hf_encoders(), HF_MODELS),
                                   ("sentencepiece", spm_encoders(), SPM_MODELS)]:
        if not encoders:
            continue
        version = importlib.metadata.version(group)
        for name, count in encoders.items():
            models.append({"name": name, "model": paths[name], "library": f"{group} {version}",
                           "tokens": {lang: sum(count(line) for line in lines) for lang, lines in corpus.items()}})
    out = {"corpus": CORPUS, "unit": "line, without its newline, no added special tokens (no BOS/EOS)",
           "lines": {lang: len(lines) for lang, lines in corpus.items()}, "models": models}
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
