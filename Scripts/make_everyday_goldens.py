#!/usr/bin/env python3
"""Goldens for encode's everyday options (Fixtures/goldens/everyday.json):

- `nbest`: sentencepiece's nbest_encode (ids) for a few lines with the botchan Unigram model,
  which `tokenkit encode --nbest N --list` must reproduce;
- `post_processor`: HF tokenizers' encode(add_special_tokens=True) with the Qwen2.5 fixture
  and a Sequence post-processor (ByteLevel, RobertaProcessing, TemplateProcessing), the case
  `--add-special-tokens` must reproduce; the processor's JSON is stored beside the ids.

Run with the test venv: .venv-test/bin/python Scripts/make_everyday_goldens.py
"""
import json
import sentencepiece
from tokenizers import Tokenizer, processors

sp = sentencepiece.SentencePieceProcessor(model_file="Fixtures/sentencepiece/botchan_en_unigram_1000.model")
lines = ["Hello world.", "New line", "I am a cat.", ""]
nbest = [{"line": l, "n": 4, "ids": sp.nbest_encode(l, nbest_size=4)} for l in lines]

tok = Tokenizer.from_file("Fixtures/models/qwen2.5/tokenizer.json")
tok.post_processor = processors.Sequence([
    processors.ByteLevel(trim_offsets=False),
    processors.RobertaProcessing(("<|im_end|>", 151645), ("<|im_start|>", 151644)),
    processors.TemplateProcessing(single="<|endoftext|> $A <|endoftext|>", special_tokens=[("<|endoftext|>", 151643)]),
])
post = json.loads(tok.to_str())["post_processor"]
text = "Hello world"
golden = {
    "nbest": nbest,
    "post_processor": {"processor": post, "text": text, "ids": tok.encode(text).ids},
}
with open("Fixtures/goldens/everyday.json", "w") as f:
    json.dump(golden, f, ensure_ascii=False, indent=1)
    f.write("\n")
