#!/usr/bin/env python3
"""SuperBPE checks (run by Scripts/test): `tokenkit train superbpe` against the independent
stage-2 reference (Scripts/superbpe_reference.py), and its output in HF tokenizers.

1. Full training (stage 1 by tokenkit): stage 2's merges equal the reference's, given the
   first T merges.
2. --from-merges a tokenizer trained on other text, where many inherited merges never occur in
   stage 2: identical merges with unused merges kept (default) and dropped (--drop-unused-merges).
3. Sharded stage 2 (count-superwords, merge-counts, --from-stage2-counts) equals 2.
5. A --random-chunks (TokenAdapt) tokenizer gives tokenkit's ids in HF tokenizers.
6. `supertokens add` (MWT): HF tokenizers gives tokenkit's ids with the added n-grams.
4. HF tokenizers loads the output and gives tokenkit's ids on the golden text and on the
   training text, line by line and whole; the --tiktoken ranks give the same ids in tokenkit.

usage: check_superbpe.py TOKENKIT [TEXT...]   (default text: three Fixtures/mixture files)
"""
import json, os, subprocess, sys, tempfile

from tokenizers import Tokenizer

from golden_io import FIX, ROOT, Checks
tokenkit = sys.argv[1]
texts = sys.argv[2:] or [os.path.join(FIX, "mixture", n + ".txt") for n in ("en_fiction", "code_python", "lang_fr")]
check = Checks()


def merges_of(path):
    raw = json.load(open(path, encoding="utf-8"))["model"]["merges"]
    return [m.split(" ") if isinstance(m, str) else list(m) for m in raw]


def reference(inherit, transition, vocab, extra=()):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "Scripts", "superbpe_reference.py"), "--inherit", inherit,
                          "--transition", str(transition), "--vocab-size", str(vocab), *extra, *texts],
                         check=True, capture_output=True, text=True).stdout
    return [list(m) for m in json.loads(out)]


def same_merges(name, ours, ref):
    first = next((i for i, (a, b) in enumerate(zip(ours, ref)) if a != b), None)
    check(f"{name}: {len(ours)} merges identical to the reference", ours == ref,
          f"lengths {len(ours)} vs {len(ref)}, first difference at {first}: "
          f"{ours[first] if first is not None else ''} vs {ref[first] if first is not None else ''}")


def ids(path, fmt_args, text_path):
    out = subprocess.run([tokenkit, "encode", "-m", path, *fmt_args, "--lines", "--format", "jsonl", text_path],
                         check=True, capture_output=True).stdout.decode()
    return [json.loads(l)["ids"] for l in out.splitlines()]


with tempfile.TemporaryDirectory() as tmp:
    V, T = 1600, 700
    # 1.
    full = os.path.join(tmp, "full.json")
    ranks = os.path.join(tmp, "full.tiktoken")
    subprocess.run([tokenkit, "train", "superbpe", "-q", "--vocab-size", str(V), "--transition", str(T),
                    "-o", full, "--tiktoken", ranks, *texts], check=True)
    same_merges("full training", merges_of(full), reference(full, T, V))

    # 2.
    other = os.path.join(tmp, "other.json")
    subprocess.run([tokenkit, "train", "bpe", "-q", "--vocab-size", "1200", "--pre-tokenizer", "superbpe", "-o", other,
                    os.path.join(FIX, "mixture", "lang_de.txt"), os.path.join(FIX, "mixture", "lang_ru.txt")], check=True)
    for label, flag, ref_flag in (("unused kept", [], []), ("unused dropped", ["--drop-unused-merges"], ["--drop-unused"])):
        out = os.path.join(tmp, "from.json")
        subprocess.run([tokenkit, "train", "superbpe", "-q", "--vocab-size", str(V), "--transition", "600",
                        "--from-merges", other, *flag, "-o", out, *texts], check=True)
        same_merges(f"--from-merges, {label}", merges_of(out), reference(other, 600, V, ref_flag))
        if not flag:
            kept = merges_of(out)

    # 3.
    shards = []
    for k, t in enumerate(texts):
        shards.append(os.path.join(tmp, f"s{k}.counts"))
        subprocess.run([tokenkit, "count-superwords", "-q", "-o", shards[-1], t], check=True)
    total = os.path.join(tmp, "all.counts")
    subprocess.run([tokenkit, "merge-counts", "-o", total, *shards], check=True)
    sharded = os.path.join(tmp, "sharded.json")
    subprocess.run([tokenkit, "train", "superbpe", "-q", "--vocab-size", str(V), "--transition", "600",
                    "--from-merges", other, "--from-stage2-counts", total, "-o", sharded], check=True)
    check("sharded stage 2 equals stage 2 on the text", merges_of(sharded) == kept)

    # 4.
    hf = Tokenizer.from_file(full)
    for text_path in [os.path.join(FIX, "text", "golden.txt"), *texts]:
        with open(text_path, encoding="utf-8", newline="") as f:
            whole_text = f.read()
        # tokenkit --lines ends a line at "\n" or "\r\n"; give HF the same lines.
        lines = [l[:-1] if l.endswith("\r") else l for l in whole_text.split("\n")]
        if lines and lines[-1] == "":
            lines.pop()
        lines_path = os.path.join(tmp, "lines.txt")
        with open(lines_path, "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines) + "\n")
        ours = ids(full, [], lines_path)
        bad = [repr(t[:40]) for t, o in zip(lines, ours) if hf.encode(t, add_special_tokens=False).ids != o]
        check(f"HF tokenizers on tokenkit's SuperBPE, {os.path.basename(text_path)} ({len(lines)} lines)",
              not bad and len(ours) == len(lines), f"{len(bad)} differ, e.g. {bad[:3]}")
        whole = subprocess.run([tokenkit, "encode", "-m", full, "--format", "json", text_path],
                               check=True, capture_output=True).stdout.decode()
        want = hf.encode(whole_text, add_special_tokens=False).ids
        check(f"HF tokenizers on tokenkit's SuperBPE, {os.path.basename(text_path)} whole", json.loads(whole) == want)
        check(f"--tiktoken ranks give the tokenizer.json's ids, {os.path.basename(text_path)}",
              ids(ranks, ["--pattern", "superword"], lines_path) == ours)

    # 5. TokenAdapt-style training on random windows: the tokenizer (no pre-tokenizer) in HF.
    rc = os.path.join(tmp, "rc.json")
    subprocess.run([tokenkit, "train", "bpe", "-q", "--vocab-size", "1500", "--random-chunks", "paper", "--seed", "1",
                    "--max-token-length", "30", "-o", rc, *texts], check=True)
    hf = Tokenizer.from_file(rc)
    golden_path = os.path.join(FIX, "text", "golden.txt")
    want = hf.encode(open(golden_path, encoding="utf-8", newline="").read(), add_special_tokens=False).ids
    got = json.loads(subprocess.run([tokenkit, "encode", "-m", rc, "--format", "json", golden_path],
                                    check=True, capture_output=True).stdout.decode())
    check("--random-chunks tokenizer in HF tokenizers, golden.txt", got == want)

    # 6. MWT: n-grams added to a tokenizer as single_word + lstrip tokens; HF gives the same ids.
    mwt = os.path.join(tmp, "mwt.json")
    subprocess.run([tokenkit, "supertokens", "add", "-m", full, "--top", "300", "-o", mwt, *texts], check=True)
    hf = Tokenizer.from_file(mwt)
    for text_path in [golden_path, *texts]:
        want = hf.encode(open(text_path, encoding="utf-8", newline="").read(), add_special_tokens=False).ids
        got = json.loads(subprocess.run([tokenkit, "encode", "-m", mwt, "--format", "json", text_path],
                                        check=True, capture_output=True).stdout.decode())
        check(f"supertokens add: HF tokenizers gives tokenkit's ids, {os.path.basename(text_path)}", got == want)

sys.exit(check.report("superbpe"))
