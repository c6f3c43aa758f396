#!/usr/bin/env python3
"""Writes Fixtures/tekken/: a small tekken.json cut from mistral-common's tekken_240911.json (its first 3,000
ranks; version v13 with a listed block of 50 special ids, 24 of them named) and goldens made by
mistral-common's Tekkenizer on it: encode without and with BOS, and decode with special tokens kept.

usage: make_tekken_fixture.py   (Python with mistral-common==1.13.1)
"""
import json, os

import mistral_common
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
from mistral_common.tokens.tokenizers.tekken import Tekkenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "tekken")
NAMED = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
         "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
         "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]", "[ARGS]", "[CALL_ID]", "[THINK]", "[/THINK]"]

src = json.load(open(os.path.join(os.path.dirname(mistral_common.__file__), "data", "tekken_240911.json"), encoding="utf-8"))
small = {
    "config": dict(src["config"], version="v13", num_vocab_tokens=3000, default_vocab_size=3050, default_num_special_tokens=50),
    "vocab": src["vocab"][:3000],
    "special_tokens": [{"rank": i, "token_str": s, "is_control": True} for i, s in enumerate(NAMED)],
}
os.makedirs(OUT, exist_ok=True)
model = os.path.join(OUT, "tekken-3k.json")
with open(model, "w", encoding="utf-8") as f:
    json.dump(small, f, ensure_ascii=False, indent=0)
    f.write("\n")

tok = Tekkenizer.from_file(model)
udhr = os.path.join(ROOT, "Fixtures", "parallel", "udhr")
texts = ["", " ", "Hello, world! 12345 don't", "  two  spaces\n\n\tand tabs\r\n", "path/to/file.py:12: x = [1, 2]  # ok\n",
         "HTTPServer iPhone ÀÉÎ ß ﬁ", "<s>[INST] literal specials [/INST]</s>", "🙂👍🏽 中文 日本語 한국어", "a\x00b\x7f\ufffd ٣٤٥"]
texts += [open(os.path.join(udhr, f), encoding="utf-8").read()[:400] for f in sorted(os.listdir(udhr))]
cases = []
for t in texts:
    ids = tok.encode(t, bos=False, eos=False)
    mixed = [tok.bos_id, tok.get_special_token("[INST]")] + ids + [tok.eos_id, 49]
    cases.append({"text": t, "ids": ids, "bos": tok.encode(t, bos=True, eos=False), "mixed": mixed,
                  "keep": tok.decode(mixed, special_token_policy=SpecialTokenPolicy.KEEP)})
with open(os.path.join(OUT, "goldens.json"), "w", encoding="utf-8") as f:
    json.dump({"reference": f"mistral-common {mistral_common.__version__}", "cases": cases}, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{model}: {os.path.getsize(model):,} bytes; {len(cases)} cases")
