#!/usr/bin/env python3
"""Writes Fixtures/models/rwkv-world/: RWKV's world vocabulary as the `rwkv` wheel ships it, the same
vocabulary as a llama.cpp GGUF file of kind "rwkv" (metadata only, written as llama.cpp's
convert_hf_to_gguf.py writes it: token 0 "<s>", tokens as repr(bytes) without b'' quotes, [PADn]
fillers up to 65,536), and goldens made by the wheel's TRIE_TOKENIZER (encodeBytes).

usage: make_rwkv_fixture.py   (Python with rwkv==0.8.32 and gguf==0.19.0)
"""
import json, os, shutil

import gguf
import rwkv
from rwkv.rwkv_tokenizer import TRIE_TOKENIZER

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "models", "rwkv-world")
NAME = "rwkv_vocab_v20230424.txt"

os.makedirs(OUT, exist_ok=True)
vocab = os.path.join(OUT, NAME)
shutil.copyfile(os.path.join(os.path.dirname(rwkv.__file__), NAME), vocab)
tok = TRIE_TOKENIZER(vocab)

# The GGUF: as convert_hf_to_gguf.py's _set_vocab_rwkv_world.
tokens, types = [b"<s>"], [gguf.TokenType.CONTROL]
for i in range(1, max(tok.idx2token) + 1):
    tokens.append(repr(tok.idx2token[i])[2:-1].encode("utf-8"))
    types.append(gguf.TokenType.NORMAL)
for i in range(len(tokens), 65536):
    tokens.append(f"[PAD{i}]".encode("utf-8"))
    types.append(gguf.TokenType.UNUSED)
writer = gguf.GGUFWriter(os.path.join(OUT, "rwkv-world.gguf"), "rwkv7")
writer.add_tokenizer_model("rwkv")
writer.add_token_list(tokens)
writer.add_token_types(types)
writer.add_bos_token_id(0)
writer.add_eos_token_id(0)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()

udhr = os.path.join(ROOT, "Fixtures", "parallel", "udhr")
texts = ["", " ", "\n\n", "Hello, world! 12345 don't", "  two  spaces\n\n\tand tabs\r\n", "path/to/file.py:12: x = [1, 2]  # ok\n",
         "def f(x):\n    return {'a': x ** 2}  # 注释\n", "HTTPServer iPhone ÀÉÎ ß ﬁ", "<s> [PAD65530] literal specials",
         "🙂👍🏽 中文 日本語 한국어", "a\x00b\x7f\ufffd ٣٤٥", "x" * 300]
texts += [open(os.path.join(udhr, f), encoding="utf-8").read()[:600] for f in sorted(os.listdir(udhr))]
texts += [open(os.path.join(ROOT, "Fixtures", "text", "golden.txt"), encoding="utf-8").read()[:4000]]
cases = [{"text": t, "ids": tok.encodeBytes(t.encode("utf-8"))} for t in texts]
# Bytes that are not UTF-8: the wheel's encodeBytes takes them as they are.
for raw in [b"\xff\xfe", b"caf\xe9 \xe4\xb8", b"\xc3(\x80abc"]:
    cases.append({"hex": raw.hex(), "ids": tok.encodeBytes(raw)})
with open(os.path.join(OUT, "goldens.json"), "w", encoding="utf-8") as f:
    json.dump({"reference": "rwkv 0.8.32 TRIE_TOKENIZER.encodeBytes", "cases": cases}, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{OUT}: {len(cases)} cases")
