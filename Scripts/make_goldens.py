#!/usr/bin/env python3
"""Generate golden token ids for tokenkit's tests.

Reads only files inside this repository (Fixtures/models, Fixtures/text) and writes
Fixtures/goldens/<name>.json, one file per tokenizer:

    {"model": "<path relative to Fixtures/>",
     "library": "<reference library> <version>",
     "cases": [{"name": "...", "text": "...", "ids": [...]}, ...]}

Cases, in order:
  * "whole"     - the whole of Fixtures/text/golden.txt
  * "line-N"    - line N (1-based) of golden.txt, split on "\n" only, keeping the "\n"
                  (the last line has none); "\r", U+2028, U+0085 etc. do NOT split lines
  * "syn-NN"    - short synthetic edge cases (SYNTHETIC below)
  * "long-*"    - long runs of one kind of character
  * "random-mix"- 3000 characters drawn with a fixed seed from RANDOM_POOL
  * "added-NN"  - (Hugging Face models only) text containing that model's added tokens

Reference encodings:
  * tiktoken models (r50k, p50k, cl100k): Encoding.encode_ordinary, i.e. special-token
    strings such as "<|endoftext|>" are encoded as ordinary text.
  * Hugging Face models: tokenizers.Tokenizer.encode(text, add_special_tokens=False).ids;
    added tokens written literally in the text ARE matched (library default).

Optional: --convert-llama2 PATH/llama2_tokenizer.model (re)creates
Fixtures/models/llama2-spm/tokenizer.json from a Llama 2 SentencePiece model using
transformers' slow->fast converter (legacy mode, add_prefix_space=True), and cross-checks
the result against sentencepiece itself.

Run through Scripts/make_goldens.sh, which pins the library versions.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import random
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Fixtures")
GOLDEN_TEXT = os.path.join(FIXTURES, "text", "golden.txt")
OUT_DIR = os.path.join(FIXTURES, "goldens")
LLAMA2_JSON = os.path.join(FIXTURES, "models", "llama2-spm", "tokenizer.json")

# ---------------------------------------------------------------------------
# tiktoken encodings: split patterns, special tokens and file hashes of the OpenAI
# encodings as defined in tiktoken_ext/openai_public.py (checked against the installed
# tiktoken at run time, see check_against_tiktoken_registry).
# ---------------------------------------------------------------------------
R50K_PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

TIKTOKEN_MODELS = {
    "r50k": {
        "encoding": "r50k_base",
        "file": "models/r50k_base.tiktoken",
        "sha256": "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
        "pat_str": R50K_PAT,
        "special_tokens": {"<|endoftext|>": 50256},
        "explicit_n_vocab": 50257,
    },
    "p50k": {
        "encoding": "p50k_base",
        "file": "models/p50k_base.tiktoken",
        "sha256": "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
        "pat_str": R50K_PAT,
        "special_tokens": {"<|endoftext|>": 50256},
        "explicit_n_vocab": 50281,
    },
    "cl100k": {
        "encoding": "cl100k_base",
        "file": "models/cl100k_base.tiktoken",
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "pat_str": CL100K_PAT,
        "special_tokens": {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        "explicit_n_vocab": None,
    },
}

# ---------------------------------------------------------------------------
# Hugging Face tokenizer.json models and the extra cases that use their added tokens.
# ---------------------------------------------------------------------------
HF_MODELS = {
    "qwen2.5": {
        "file": "models/qwen2.5/tokenizer.json",
        "added_cases": [
            "<|im_start|>user\nhi<|im_end|>",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n",
            "<|endoftext|>",
            "a<|endoftext|>b",
            "  <|endoftext|>  \n",
            "<|im_start|><|im_end|><|im_start|>",
            "<|fim_prefix|>def f(x):\n<|fim_suffix|>\n    return y<|fim_middle|>",
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\"}}\n</tool_call>",
            "<|vision_start|><|image_pad|><|image_pad|><|vision_end|>describe",
            "<|repo_name|>tokenkit\n<|file_sep|>README.md\nhello",
            "<|IM_START|> <| im_start |> <|im_start <im_start|>",
            "caf\u0065\u0301<|im_end|>\u0041\u030a",
        ],
    },
    "deepseek-coder": {
        "file": "models/deepseek-coder/tokenizer.json",
        "added_cases": [
            "<\uff5cbegin\u2581of\u2581sentence\uff5c>def add(a, b):\n    return a + b<\uff5cend\u2581of\u2581sentence\uff5c>",
            "<\uff5cfim\u2581begin\uff5c>def f():\n    <\uff5cfim\u2581hole\uff5c>\n    return 1<\uff5cfim\u2581end\uff5c>",
            "<|User|>hi<|Assistant|>hello<|EOT|>",
            "<pad><pad> <pad>",
            # the byte-level alphabet characters below are added tokens of this model
            "sch\u00f6n f\u00fcr Gr\u00f6\u00dfe",
            "\u00f5\u00f7\u00c1\u00fd\u00c0\u00ff\u00f8\u00fa\u00fe\u00fc\u00f9\u00f6\u00fb",
            " \u00f6 \u00fc\u00fc na\u00efve \u00ff",
            "<begin of sentence> <|begin\u2581of\u2581sentence|> <|user|>",
        ],
    },
    "llama2-spm": {
        "file": "models/llama2-spm/tokenizer.json",
        "added_cases": [
            "<s>hello</s>",
            "<s> hello </s>",
            " <s>",
            "a<unk>b",
            "<s>[INST] What is 2+2? [/INST] 4 </s><s>[INST] Thanks! [/INST]",
            "<<s>>",
            "\n<s>\n",
            "<S> < s> <s",
        ],
    },
}

# ---------------------------------------------------------------------------
# Synthetic edge cases.
# ---------------------------------------------------------------------------
SYNTHETIC = [
    "",
    " ",
    "  ",
    "   ",
    "\n",
    " \n",
    "\n\n",
    "\n \n",
    "   \n  ",
    "x  \n\n  y",
    "\t",
    "\t\t x",
    " \t \t",
    "a\u00a0\u00a0b",
    "\u00a0",
    "  hello",
    "hello  ",
    " hello world ",
    "Hello World",
    "HELLO WORLD",
    "'s",
    "'S'LL'Ve",
    "'\u017f",
    "don't DON'T Don'T",
    "we'll've it's' '' '",
    "x's y'S z'sx",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "1234567",
    "1234567890",
    "3.14159",
    "1,000,000",
    " 42 ",
    "x\u0301\u0301",
    "\u0301x",
    "\u0661\u0662\u0663\u0664",
    "\u216b \u2177",
    "\U0001F600\U0001F44D\U0001F3FD\U0001F1E9\U0001F1EA\U0001F468\u200d\U0001F469\u200d\U0001F467",
    " \U0001F600",
    "\r\n\r\n",
    "a\r\nb",
    "\r",
    "a\rb",
    "...\n\nabc",
    "  ?!  ",
    "foo/bar//baz\n",
    "e\u0301tait",
    "\u00c9TAIT's",
    "\u01c5ungla",
    "\u02b0ello",
    "ab\u200bcd",
    "\u3000\u3000x",
    "x\u2028y",
    "\u000b\u000c",
    "\u0085x",
    "<|endoftext|>",
    "a<|endoftext|>b",
    "  <|endoftext|>  ",
    "\u4e2d\u6587\u5b57\u7b26",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "\ud55c\uad6d\uc5b4",
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "\u0939\u093f\u0928\u094d\u0926\u0940",
    "Stra\u00dfe STRA\u1e9eE",
    "na\u00efve caf\u00e9",
    "a\n\n\nb",
    "tail   ",
    "\n  ",
    "$$$ !!!??? ((()))",
    "1+1=2; a.b.c; 0xDEADBEEF",
    "\u0149 \ufb01 \u212b",
    "\U0001D518\U0001D52B\U0001D526",
    "\ufeffBOM at start",
    "\u00ad",
    "\u200d",
]


def _long_cases():
    return [
        ("long-spaces", " " * 300),
        ("long-spaces-then-word", " " * 257 + "word"),
        ("long-newlines", "\n" * 100),
        ("long-mixed-ws", " \t\n\r" * 80),
        ("long-letters", "a" * 1000),
        ("long-digits", "0123456789" * 30),
        ("long-punct", "!?" * 250),
        ("long-cjk", "\u4e2d" * 500),
        ("long-emoji", "\U0001F600" * 200),
        ("long-words", "the quick brown fox jumps over the lazy dog " * 40),
    ]


# A pool of characters (and a few multi-character units) from many Unicode general
# categories. Only long-assigned code points are used so that different Unicode versions
# agree on their properties. No surrogates.
RANDOM_POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")   # Ll Lu
    + list("0123456789")                                             # Nd
    + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")                     # P* S*
    + [" "] * 12 + ["\t", "\n", "\n", "\r", "\r\n", "  ", "   \n"]  # whitespace
    + ["\u00a0", "\u3000", "\u2028", "\u2029", "\u0085", "\u000b", "\u000c", "\u2009", "\u202f", "\u1680"]
    + ["\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad", "\u2060"]  # Cf
    + ["\u0007", "\u001b", "\u007f"]                                 # Cc
    + list("\u00e9\u00fc\u00df\u00f8\u0153\u0142\u0131\u0130\u017f\u01c5\u01c8\u02b0\u02b7\u1d43")  # L*
    + ["\u0301", "\u0308", "\u0323", "\u093f", "\u094d", "\u0e31", "\u0e48", "\u05b8", "\u064e", "\u20dd", "\ufe0f"]  # M*
    + list("\u0430\u0431\u0416\u0451\u03b1\u03a9\u03c2\u05d0\u05e9\u0627\u0644\u0639\u0915\u0937\u0e01\u0e32")
    + list("\u4e2d\u6587\u5b57\u3042\u30ab\u30f3\uac00\ud7a3\u1100\u1161\u11a8\u1000\u1780\u10d0\u0531\u12a0")  # Lo
    + list("\u0660\u0669\u06f4\u0966\u0e51\uff10\uff19\U0001D7D9")  # Nd (non-ASCII)
    + list("\u2160\u216b\u2177\u3007")                              # Nl
    + list("\u00b2\u00bd\u2460\u2070\u2089")                        # No
    + list("\u20ac\u00a3\u00a5\u20b9")                              # Sc
    + list("\u2211\u221e\u2260\u00d7\u00f7\u2192")                  # Sm
    + list("\u00a9\u00ae\u2122\u2605\u2665\u2500")                  # So
    + list("\u2013\u2014\u2018\u2019\u201c\u201d\u00ab\u00bb\u00bf\u00a1\u3001\u3002\uff0c\u2026\u203f")  # P*
    + list("\u02c6\u00b4\u02dc")                                    # Sk
    + ["\U0001F600", "\U0001F44D", "\U0001F3FD", "\U0001F1E9", "\U0001F1EA", "\u2764", "\U0001F468",
       "\U0001F469", "\U0001D518", "\U00010348", "\ue000", "\U000E0067"]
    + ["'s", "'S", "'ll", "'LL", "'ve", "'re", "'d", "'m", "'t", "'\u017f", "<|endoftext|>", "<s>"]
)


def random_mix(length=3000, seed=20240229):
    rng = random.Random(seed)
    out = []
    n = 0
    while n < length:
        unit = rng.choice(RANDOM_POOL)
        out.append(unit)
        n += len(unit)
    return "".join(out)[:length]


def read_golden_text():
    with open(GOLDEN_TEXT, encoding="utf-8", newline="") as f:
        return f.read()


def split_lines(text):
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    assert "".join(lines) == text
    return lines


def common_cases(text):
    cases = [("whole", text)]
    cases += [(f"line-{i}", line) for i, line in enumerate(split_lines(text), start=1)]
    cases += [(f"syn-{i:02d}", s) for i, s in enumerate(SYNTHETIC)]
    cases += _long_cases()
    cases.append(("random-mix", random_mix()))
    return cases


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_against_tiktoken_registry():
    """Make sure the constants above equal those of the installed tiktoken's openai_public
    module, by calling its constructors with the network loader replaced by local files."""
    import tiktoken.load
    from tiktoken_ext import openai_public

    by_url_name = {spec["file"].split("/")[-1]: spec for spec in TIKTOKEN_MODELS.values()}

    def local_loader(url, expected_hash=None):
        spec = by_url_name[url.rsplit("/", 1)[-1]]
        assert expected_hash == spec["sha256"], (url, expected_hash)
        return tiktoken.load.load_tiktoken_bpe(os.path.join(FIXTURES, spec["file"]))

    saved = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = local_loader
    try:
        for spec in TIKTOKEN_MODELS.values():
            ref = getattr(openai_public, spec["encoding"])()
            assert ref["pat_str"] == spec["pat_str"], spec["encoding"]
            assert ref["special_tokens"] == spec["special_tokens"], spec["encoding"]
            assert ref.get("explicit_n_vocab") == spec["explicit_n_vocab"], spec["encoding"]
    finally:
        openai_public.load_tiktoken_bpe = saved


def tiktoken_goldens(text):
    import tiktoken
    import tiktoken.load

    check_against_tiktoken_registry()
    lib = "tiktoken " + importlib.metadata.version("tiktoken")
    results = {}
    for name, spec in TIKTOKEN_MODELS.items():
        path = os.path.join(FIXTURES, spec["file"])
        digest = sha256_file(path)
        if digest != spec["sha256"]:
            sys.exit(f"{path}: sha256 {digest} != expected {spec['sha256']}")
        kwargs = {}
        if spec["explicit_n_vocab"] is not None:
            kwargs["explicit_n_vocab"] = spec["explicit_n_vocab"]
        enc = tiktoken.Encoding(
            name=spec["encoding"],
            pat_str=spec["pat_str"],
            mergeable_ranks=tiktoken.load.load_tiktoken_bpe(path),
            special_tokens=spec["special_tokens"],
            **kwargs,
        )
        cases = []
        for case_name, s in common_cases(text):
            ids = enc.encode_ordinary(s)
            assert enc.decode(ids) == s, (name, case_name)
            cases.append((case_name, s, ids))
        results[name] = {"model": spec["file"], "library": lib, "cases": cases}
    return results


def hf_goldens(text, only=None):
    from tokenizers import Tokenizer

    lib = "tokenizers " + importlib.metadata.version("tokenizers")
    results = {}
    for name, spec in HF_MODELS.items():
        if only is not None and name not in only:
            continue
        path = os.path.join(FIXTURES, spec["file"])
        if not os.path.exists(path):
            print(f"warning: {path} missing, skipping {name}", file=sys.stderr)
            continue
        tok = Tokenizer.from_file(path)
        all_cases = common_cases(text)
        all_cases += [(f"added-{i:02d}", s) for i, s in enumerate(spec["added_cases"])]
        cases = []
        for case_name, s in all_cases:
            ids = tok.encode(s, add_special_tokens=False).ids
            cases.append((case_name, s, ids))
        results[name] = {"model": spec["file"], "library": lib, "cases": cases}
    return results


def convert_llama2(spm_model):
    """Llama-2 SentencePiece model -> tokenizer.json (legacy Prepend+Replace normalizer,
    byte_fallback BPE, Replace/ByteFallback/Fuse/Strip decoder)."""
    from transformers import LlamaTokenizerFast

    fast = LlamaTokenizerFast(
        vocab_file=spm_model, legacy=True, add_prefix_space=True, from_slow=True
    )
    os.makedirs(os.path.dirname(LLAMA2_JSON), exist_ok=True)
    fast.backend_tokenizer.save(LLAMA2_JSON, pretty=True)

    with open(LLAMA2_JSON, encoding="utf-8") as f:
        cfg = json.load(f)
    assert cfg["model"]["type"] == "BPE" and cfg["model"]["byte_fallback"] is True
    assert [n["type"] for n in cfg["normalizer"]["normalizers"]] == ["Prepend", "Replace"]
    assert [d["type"] for d in cfg["decoder"]["decoders"]] == ["Replace", "ByteFallback", "Fuse", "Strip"]
    print(f"wrote {os.path.relpath(LLAMA2_JSON, ROOT)} "
          f"(transformers {importlib.metadata.version('transformers')}, "
          f"sentencepiece {importlib.metadata.version('sentencepiece')})")
    return spm_model


def cross_check_llama2(spm_model, golden):
    """Report where HF ids differ from sentencepiece's own encoding (informational)."""
    import sentencepiece as spm

    # sentencepiece treats "<s>", "</s>", "<unk>" in the input as plain text, while the
    # tokenizers library matches them as added tokens: differences there are expected.
    sp = spm.SentencePieceProcessor(model_file=spm_model)
    expected, unexpected = [], []
    for case_name, s, ids in golden["cases"]:
        if sp.encode(s) != ids:
            literal = any(t in s for t in ("<s>", "</s>", "<unk>"))
            (expected if literal else unexpected).append(case_name)
    print(f"llama2-spm vs sentencepiece: {len(expected)} cases differ because of literal "
          f"<s>/</s>/<unk>; {len(unexpected)} other differences"
          + (": " + ", ".join(unexpected[:20]) if unexpected else ""))


def write_golden(name, golden):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, f"{name}.json")
    dump = lambda v: json.dumps(v, ensure_ascii=False)
    lines = [
        "{",
        f'"model": {dump(golden["model"])},',
        f'"library": {dump(golden["library"])},',
        '"cases": [',
    ]
    rows = [
        "{" + f'"name": {dump(n)}, "text": {dump(s)}, "ids": {dump(ids)}' + "}"
        for n, s, ids in golden["cases"]
    ]
    lines.append(",\n".join(rows))
    lines.append("]")
    lines.append("}")
    data = "\n".join(lines) + "\n"
    json.loads(data)  # sanity
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)
    size = os.path.getsize(path)
    n_ids = sum(len(c[2]) for c in golden["cases"])
    whole = next(len(c[2]) for c in golden["cases"] if c[0] == "whole")
    print(f"{os.path.relpath(path, ROOT)}: {len(golden['cases'])} cases, "
          f"{whole} ids for whole text, {n_ids} ids total, {size} bytes")
    if size >= 2_000_000:
        sys.exit(f"{path} is too large ({size} bytes)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convert-llama2", metavar="MODEL",
                    help="Llama 2 SentencePiece .model to convert into Fixtures/models/llama2-spm/tokenizer.json")
    args = ap.parse_args()

    text = read_golden_text()
    if not text.endswith("   \n  "):
        sys.exit("golden.txt must end with '   \\n  '")

    if args.convert_llama2:
        convert_llama2(args.convert_llama2)

    goldens = {}
    goldens.update(tiktoken_goldens(text))
    goldens.update(hf_goldens(text))
    for name, golden in goldens.items():
        write_golden(name, golden)

    if args.convert_llama2 and "llama2-spm" in goldens:
        cross_check_llama2(args.convert_llama2, goldens["llama2-spm"])


if __name__ == "__main__":
    main()
