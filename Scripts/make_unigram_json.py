#!/usr/bin/env python3
"""Makes a Unigram tokenizer.json from a SentencePiece .model with transformers' slow->fast
converter, and its goldens with HF `tokenizers` (run with .venv-golden/bin/python, which
Scripts/make_goldens.sh sets up).

    Scripts/make_unigram_json.py Fixtures/sentencepiece/botchan_en_unigram_1000.model botchan-unigram
writes Fixtures/models/botchan-unigram/tokenizer.json and Fixtures/goldens/hf-botchan-unigram.json.
"""
import json, os, sys

from tokenizers import Tokenizer
from transformers import LlamaTokenizerFast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model, name = sys.argv[1], sys.argv[2]
out_dir = os.path.join(ROOT, "Fixtures", "models", name)
os.makedirs(out_dir, exist_ok=True)
fast = LlamaTokenizerFast(vocab_file=model, from_slow=True, legacy=True, add_prefix_space=True)
path = os.path.join(out_dir, "tokenizer.json")
fast.backend_tokenizer.save(path)
hf = Tokenizer.from_file(path)
assert json.load(open(path))["model"]["type"] == "Unigram"
with open(os.path.join(ROOT, "Fixtures", "goldens", "r50k.json"), encoding="utf-8") as f:
    texts = [(c["name"], c["text"]) for c in json.load(f)["cases"]]
cases = [{"name": n, "text": t, "ids": hf.encode(t, add_special_tokens=False).ids} for n, t in texts]
import tokenizers
with open(os.path.join(ROOT, "Fixtures", "goldens", f"hf-{name}.json"), "w", encoding="utf-8") as f:
    json.dump({"model": f"models/{name}/tokenizer.json", "library": f"tokenizers {tokenizers.__version__}", "cases": cases},
              f, ensure_ascii=False)
print(path, len(cases))
