#!/usr/bin/env python3
"""tekken.json checks (run by Scripts/test): tokenkit reading Mistral's tekken files gives mistral-common's ids.

Models: the two tekken files inside the mistral-common wheel (tekken_240718, tekken_240911: v3, no special
token list, 131,072 ids of which 1,000 special), and variants written here from 240911 that take the other
paths of the format: a v13 file with its own special-token list and a smaller vocabulary, a v7 file with
100 special ids, and a pattern that is not tekken's (the general regex engine instead of the scanner).

For each: encode (Fixtures' texts in 12 languages, code, edge cases) against Tekkenizer.encode(text, bos,
eos=False) with and without BOS; decode against Tekkenizer.decode (IGNORE and KEEP); `tokenkit convert` to
tokenizer.json read by HF tokenizers; and the model cache (a second, warm load).

usage: check_tekken.py TOKENKIT [--only SUBSTRING]   (Python with mistral-common 1.13.1 and tokenizers)
"""
import argparse, json, os, subprocess, sys, tempfile, time

import mistral_common
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
from mistral_common.tokens.tokenizers.tekken import Tekkenizer
from tokenizers import Tokenizer as HFTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Fixtures")
DATA = os.path.join(os.path.dirname(mistral_common.__file__), "data")
EDGE = ["", " ", "\n", "\n\n\n", "  leading,  inner   and trailing  ", "a" * 200, "Ünïcödé ÀÉÎÕÜ ß ﬁ Straße",
        "\t\ttabs\tand\x0bvt\x0cff\r\nCRLF\rCR", "中文字符和日本語のテキスト한국어", "𝐀𝐁𝐂 ①②③ ㎏ ｶﾀｶﾅ", "e\u0301 n\u0303",
        "\u200b zero\u200dwidth\ufeff \u00a0nbsp \u3000ideo", "🙂👍🏽 🇩🇪 👨‍👩‍👧", "don't CAN'T we'Ve HTTPServer iPhone",
        "1,000,000.00 3.14159 0x1F 12345678 ٣٤٥ ૧૨", "a\x00b\x01c\x7f \ufffd", "path/to/file.py:12:\n  x = [1, 2]  # ok\r\n",
        "<s>[INST] literal specials [/INST]</s> <unk> <SPECIAL_999>", "ǅungla ΣΑΣ İstanbul ﬃ"]
SPECIAL_TEXT = ("<s>", "</s>", "[INST]", "[/INST]", "<unk>", "<SPECIAL_", "[THINK]", "<pad>")

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("tokenkit")
ap.add_argument("--only", default="")
args = ap.parse_args()
TK = os.path.abspath(args.tokenkit)
counts = {"passed": 0, "failed": 0}


def texts():
    out = [(f"edge {i}", t) for i, t in enumerate(EDGE)]
    files = [os.path.join(FIX, "text", "golden.txt")]
    for sub in ("mixture", os.path.join("parallel", "udhr")):
        files += sorted(os.path.join(FIX, sub, f) for f in os.listdir(os.path.join(FIX, sub)))
    files += sorted(os.path.join(ROOT, "Scripts", f) for f in os.listdir(os.path.join(ROOT, "Scripts")) if f.endswith(".py"))
    return out + [(os.path.relpath(f, ROOT), open(f, encoding="utf-8", newline="").read()) for f in files]


def run(*argv, data=None):
    r = subprocess.run([TK, *argv], input=data, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"tokenkit {' '.join(argv[:3])}: exit {r.returncode}: {r.stderr.decode(errors='replace')[-400:]}")
    return r.stdout


def check(label, want, got, names):
    bad = [i for i in range(len(want)) if want[i] != got[i]]
    for i in bad[:4]:
        k = next((j for j, (a, b) in enumerate(zip(want[i], got[i])) if a != b), min(len(want[i]), len(got[i])))
        print(f"    {names[i]}: first difference at {k}: expected …{want[i][max(k - 2, 0):k + 6]} got …{got[i][max(k - 2, 0):k + 6]}")
    print(f"  {label}: {len(want) - len(bad)}/{len(want)} equal")
    counts["failed" if bad else "passed"] += 1


def encode_files(model, paths, *extra):
    recs = [json.loads(l) for l in run("encode", "-m", model, "--format", "jsonl", *extra, *paths).decode().splitlines()]
    by_file = {r["file"]: r["ids"] for r in recs}
    return [by_file.get(p) for p in paths]


def check_model(name, path, cases, tmp):
    print(f"\n{name}")
    start = time.time()
    ref = Tekkenizer.from_file(path)
    print(f"  mistral-common load {time.time() - start:.1f} s; vocabulary {ref.n_words}, {ref.num_special_tokens} special ids")
    names = [c[0] for c in cases]
    d = tempfile.mkdtemp(dir=tmp)
    paths = [os.path.join(d, f"{i:04d}.txt") for i in range(len(cases))]
    for p, (_, t) in zip(paths, cases):
        open(p, "wb").write(t.encode("utf-8"))
    want = [ref.encode(t, bos=False, eos=False) for _, t in cases]
    start = time.time()
    check("encode", want, encode_files(path, paths), names)
    print(f"  (tokenkit encode {time.time() - start:.1f} s, cold)")
    check("encode, warm model cache", want, encode_files(path, paths), names)
    check("encode --add-special-tokens = bos", [ref.encode(t, bos=True, eos=False) for _, t in cases],
          encode_files(path, paths, "--add-special-tokens"), names)
    info = json.loads(run("info", path, "--format", "json"))
    check("info vocab_size", [[ref.n_words]], [[info["vocab_size"]]], ["info"])

    # Decode: whole texts, and ids with special ids between texts (mistral-common decodes each run of
    # ordinary ids on its own, so special ids only ever sit between whole texts here).
    specials = [ref.bos_id, ref.get_special_token("[INST]"), ref.eos_id, ref.num_special_tokens - 1]
    mixed = [specials[i % 4:i % 4 + 1] + ids + [specials[(i + 2) % 4]] for i, ids in enumerate(want)]
    # One process per policy: every text's ids in one sequence, compared as one string.
    joined = [i for ids in mixed for i in ids]
    for label, policy, extra in (("decode --skip-special = IGNORE", SpecialTokenPolicy.IGNORE, ["--skip-special"]),
                                 ("decode = KEEP", SpecialTokenPolicy.KEEP, [])):
        got = run("decode", "-m", path, *extra, data=" ".join(map(str, joined)).encode()).decode("utf-8")
        want_text = "".join(ref.decode(ids, special_token_policy=policy) for ids in mixed)
        same = got == want_text == ref.decode(joined, special_token_policy=policy)
        if not same:
            k = next((i for i, (a, b) in enumerate(zip(got, want_text)) if a != b), min(len(got), len(want_text)))
            print(f"    first difference at character {k}: expected {want_text[k:k + 40]!r} got {got[k:k + 40]!r}")
        print(f"  {label}: {len(mixed)} texts, {len(joined):,} ids, {'equal' if same else 'DIFFERENT'}")
        counts["passed" if same else "failed"] += 1

    # tokenizer.json for HF: same ids on text without special-token spellings (HF matches those in text).
    out = os.path.join(d, "tokenizer.json")
    run("convert", path, "-o", out, "-q")
    hf = HFTokenizer.from_file(out)
    plain = [i for i, (_, t) in enumerate(cases) if not any(s in t for s in SPECIAL_TEXT)]
    check("convert → HF tokenizers", [want[i] for i in plain],
          [hf.encode(cases[i][1], add_special_tokens=False).ids for i in plain], [names[i] for i in plain])
    check("convert → HF, add_special_tokens", [[ref.bos_id] + want[i] for i in plain[:20]],
          [hf.encode(cases[i][1]).ids for i in plain[:20]], [names[i] for i in plain[:20]])


def variants(tmp):
    base = json.load(open(os.path.join(DATA, "tekken_240911.json"), encoding="utf-8"))
    base.pop("image", None)
    listed = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
              "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
              "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]", "[ARGS]", "[CALL_ID]", "[THINK]", "[/THINK]"]
    out = []
    for name, version, nspecial, inner, special_list, pattern in (
            ("v13-listed-40k", "v13", 1000, 40000, listed, None),
            ("v7-100-specials", "v7", 100, 65536, None, None),
            ("v3-other-pattern", "v3", 1000, 30000, None, base["config"]["pattern"].replace(r"\p{N}|", r"\p{N}{1,2}|"))):
        d = dict(base, config=dict(base["config"], version=version, default_num_special_tokens=nspecial,
                                   default_vocab_size=nspecial + inner))
        if special_list:
            d["special_tokens"] = [{"rank": i, "token_str": s, "is_control": True} for i, s in enumerate(special_list)]
        if pattern:
            d["config"]["pattern"] = pattern
        path = os.path.join(tmp, f"tekken-{name}.json")
        json.dump(d, open(path, "w", encoding="utf-8"), ensure_ascii=False)
        out.append((name, path))
    return out


with tempfile.TemporaryDirectory() as tmp:
    os.environ.setdefault("XDG_CACHE_HOME", tmp)  # tokenkit's model cache: not ~/.cache (Scripts/test sets one)
    cases = texts()
    print(f"{len(cases)} texts, {sum(len(t) for _, t in cases):,} characters; mistral-common {mistral_common.__version__}")
    models = [(f[:-5], os.path.join(DATA, f)) for f in sorted(os.listdir(DATA)) if f.startswith("tekken") and f.endswith(".json")]
    for name, path in models + variants(tmp):
        if args.only in name:
            check_model(name, path, cases, tmp)
print(f"\ntekken: {counts['passed']} passed, {counts['failed']} failed")
sys.exit(1 if counts["failed"] or not counts["passed"] else 0)
