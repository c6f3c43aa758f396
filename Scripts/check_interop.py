#!/usr/bin/env python3
"""Interop checks against the reference libraries (run by Scripts/test).

1. `tokenkit convert` turns each tiktoken fixture into tokenizer.json; HF `tokenizers` must load
   it and give tiktoken's ids on every golden case.
2. A tokenizer.json fixture converted by tokenkit must give the original's ids in HF `tokenizers`.
3. `tokenkit encode` on the golden text must equal the goldens (the CLI end to end).
4–6. Tokenizers trained by tokenkit, and by HF tokenizers in many shapes, agree across libraries.
7. A Unigram model trained by tokenkit: its .model gives sentencepiece's ids in tokenkit, its
   tokenizer.json HF tokenizers' ids in tokenkit.
8. `tokenkit mixture-eval --trainer hf --overlap`: mixtures of the fixture languages, tokenizers
   trained by HF tokenizers, inferred to log10 MSE <= -5 in every trial.
9. ByteSpan tokenizer.json files written by tokenkit: HF tokenizers gives tokenkit's ids.
10. BERT's vocab.txt with four tokenizer_config.json settings: HF's BertWordPieceTokenizer's ids.
Prints `N passed, N failed` and exits non-zero on any failure.
"""
import json, os, subprocess, sys, tempfile

import tiktoken
import tiktoken.load
from tokenizers import Tokenizer

from golden_io import FIX, ROOT, Checks
tokenkit = sys.argv[1]
check = Checks()


def golden(name):
    with open(os.path.join(FIX, "goldens", name + ".json"), encoding="utf-8") as f:
        return json.load(f)


R50K = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
ENCODINGS = {
    "r50k": ("r50k_base.tiktoken", R50K, {"<|endoftext|>": 50256}),
    "p50k": ("p50k_base.tiktoken", R50K, {"<|endoftext|>": 50256}),
    "cl100k": ("cl100k_base.tiktoken", CL100K, {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                                                "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}),
}

with tempfile.TemporaryDirectory() as tmp:
    # 1. tiktoken -> tokenizer.json -> HF tokenizers, same ids as tiktoken (which, like HF,
    #    is told to recognise the special tokens).
    for name, (model, pattern, specials) in ENCODINGS.items():
        path = os.path.join(FIX, "models", model)
        enc = tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=tiktoken.load.load_tiktoken_bpe(path),
                                special_tokens=specials)
        out = os.path.join(tmp, name + ".json")
        subprocess.run([tokenkit, "convert", path, "-o", out], check=True)
        hf = Tokenizer.from_file(out)
        g = golden(name)
        bad = [c["name"] for c in g["cases"]
               if hf.encode(c["text"], add_special_tokens=False).ids != enc.encode(c["text"], allowed_special="all")]
        check(f"convert {model} -> tokenizer.json", not bad, f"{len(bad)} cases differ, e.g. {bad[:5]}")

    # 2. tokenizer.json -> tokenkit convert -> HF tokenizers, same ids as the original.
    for name, model in [("qwen2.5", "qwen2.5/tokenizer.json"), ("deepseek-coder", "deepseek-coder/tokenizer.json"),
                        ("llama2-spm", "llama2-spm/tokenizer.json"), ("hf-botchan-unigram", "botchan-unigram/tokenizer.json")]:
        out = os.path.join(tmp, name + ".json")
        subprocess.run([tokenkit, "convert", os.path.join(FIX, "models", model), "-o", out], check=True)
        hf = Tokenizer.from_file(out)
        g = golden(name)
        bad = [c["name"] for c in g["cases"] if hf.encode(c["text"], add_special_tokens=False).ids != c["ids"]]
        check(f"roundtrip {model}", not bad, f"{len(bad)} cases differ, e.g. {bad[:5]}")

    # 3. The CLI end to end on the whole golden text.
    for name in ["r50k", "cl100k", "qwen2.5", "llama2-spm"]:
        g = golden(name)
        whole = next(c for c in g["cases"] if c["name"] == "whole")
        path = os.path.join(tmp, "whole.txt")
        with open(path, "wb") as f:
            f.write(whole["text"].encode("utf-8"))
        for threads in ["1", "2"]:
            args = [tokenkit, "encode", "-m", os.path.join(FIX, g["model"]), "--format", "json", "--threads", threads, path]
            if name in ("r50k", "cl100k"):
                args += ["--disallowed-special", "none"]
            ids = json.loads(subprocess.run(args, check=True, capture_output=True).stdout)
            check(f"cli encode {name} threads={threads}", ids == whole["ids"])

    # 4. A tokenizer trained by tokenkit loads in HF tokenizers (and its ranks in tiktoken) with
    #    the ids tokenkit gives.
    corpus = os.path.join(FIX, "text", "golden.txt")
    for pre, pattern in [("r50k", R50K), ("cl100k", CL100K)]:
        out, ranks = os.path.join(tmp, f"trained-{pre}.json"), os.path.join(tmp, f"trained-{pre}.tiktoken")
        subprocess.run([tokenkit, "train", "bpe", "--vocab-size", "1000", "--pre-tokenizer", pre, "--special-tokens",
                        "<|endoftext|>", "-q", "-o", out, "--tiktoken", ranks, corpus], check=True)
        hf = Tokenizer.from_file(out)
        enc = tiktoken.Encoding("t", pat_str=pattern, mergeable_ranks=tiktoken.load.load_tiktoken_bpe(ranks), special_tokens={})
        # Every golden case, one file each, encoded in one run (jsonl: one record per file).
        cases = golden("r50k")["cases"]
        paths = []
        for k, c in enumerate(cases):
            paths.append(os.path.join(tmp, f"case{k}.txt"))
            with open(paths[-1], "wb") as f:
                f.write(c["text"].encode("utf-8"))
        records = subprocess.run([tokenkit, "encode", "-m", out, "--format", "jsonl", *paths], check=True,
                                 capture_output=True).stdout.decode().splitlines()
        bad = [] if len(records) == len(cases) else [f"{len(records)} records for {len(cases)} cases"]
        for c, line in zip(cases, records):
            ours = json.loads(line)["ids"]
            if ours != hf.encode(c["text"], add_special_tokens=False).ids:
                bad.append(c["name"])
            elif "<|endoftext|>" not in c["text"] and ours != enc.encode_ordinary(c["text"]):
                bad.append(c["name"] + " (tiktoken)")
        check(f"trained {pre} tokenizer in HF tokenizers and tiktoken, {len(cases)} cases", not bad, f"differs on {bad[:6]}")

    # 5. Character-level BPE with byte fallback, trained by tokenkit, in HF tokenizers.
    out = os.path.join(tmp, "trained-chars.json")
    subprocess.run([tokenkit, "train", "bpe", "--vocab-size", "1500", "--character-level", "--character-coverage", "0.98",
                    "-q", "-o", out, corpus], check=True)
    hf = Tokenizer.from_file(out)
    whole = next(c for c in golden("r50k")["cases"] if c["name"] == "whole")
    ours = json.loads(subprocess.run([tokenkit, "encode", "-m", out, "--format", "json", corpus], check=True,
                                     capture_output=True).stdout)
    check("trained character-level tokenizer in HF tokenizers", ours == hf.encode(whole["text"], add_special_tokens=False).ids)

    # 6. tokenizer.json files of many shapes and model families, trained by HF tokenizers: same ids.
    variety = os.path.join(tmp, "variety")
    names = subprocess.run([sys.executable, os.path.join(ROOT, "Scripts", "hf_variety.py"), corpus, variety],
                           check=True, capture_output=True, text=True).stdout.split()
    cases = golden("r50k")["cases"]
    # Texts aimed at added tokens (normalized, special, overlapping), Greek capital sigma under
    # Lowercase, byte fallback and Metaspace runs, beside the golden cases.
    aimed = ["a <tool> b", "say my tok", "a<tool>b", "<|sys|>x my tokmy tok", "Hello HELLO hello, Hellos",
             "ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ Σ σ ς", "abcd abc abcde xabcdx", "café é", "zé zzé", "   x", "the  end   "]
    for name in names:
        path = os.path.join(variety, name + ".json")
        hf = Tokenizer.from_file(path)
        # One tokenkit process over all cases: JSONL in, one record per line out.
        texts = [c["text"] for c in cases if "\n" not in c["text"][:-1] and "\r" not in c["text"]] + aimed
        lines_path = os.path.join(tmp, "lines.txt")
        with open(lines_path, "wb") as f:
            f.write("\n".join(t.rstrip("\n") for t in texts).encode("utf-8"))
        got = subprocess.run([tokenkit, "encode", "-m", path, "--lines", "--format", "jsonl", lines_path], check=True,
                             capture_output=True).stdout.decode().splitlines()
        bad = []
        for t, line in zip(texts, got):
            want = hf.encode(t.rstrip("\n"), add_special_tokens=False).ids
            if json.loads(line)["ids"] != want:
                bad.append(repr(t[:40]))
        check(f"HF-trained {name} tokenizer.json ({len(texts)} cases)", not bad and len(got) == len(texts),
              f"{len(bad)} differ, e.g. {bad[:3]}")
        if name in ("llama2-added", "lowercase-added", "added-overlap", "metaspace-nosplit"):
            # Decoding HF's ids gives HF's text (byte-exact output read as UTF-8 with U+FFFD, as HF does).
            records = "\n".join(json.dumps({"ids": hf.encode(t, add_special_tokens=False).ids}) for t in aimed)
            decoded = subprocess.run([tokenkit, "decode", "-m", path, "--lines", "-"], input=records.encode(), check=True,
                                     capture_output=True).stdout.decode("utf-8", "replace").split("\n")
            bad = [t for t, d in zip(aimed, decoded)
                   if d != hf.decode(hf.encode(t, add_special_tokens=False).ids, skip_special_tokens=False)]
            check(f"HF-trained {name}: decode of HF's ids", not bad and len(decoded) >= len(aimed), f"differ on {bad[:3]}")

    # 7. Unigram trained by tokenkit: the .model in sentencepiece, its tokenizer.json in HF
    #    tokenizers and tokenkit itself give the same ids, line by line.
    import sentencepiece as spm
    lines = [c["text"].rstrip("\n") for c in golden("r50k")["cases"] if "\n" not in c["text"][:-1] and "\r" not in c["text"]]
    with open(os.path.join(FIX, "sentencepiece", "botchan.txt"), encoding="utf-8") as f:
        train_lines = f.read().splitlines()[:3000]
    train_path = os.path.join(tmp, "unigram-train.txt")
    with open(train_path, "w", encoding="utf-8") as f:
        f.write("\n".join(train_lines + lines) + "\n")
    lines_path = os.path.join(tmp, "unigram-lines.txt")
    with open(lines_path, "wb") as f:
        f.write("\n".join(lines).encode("utf-8"))
    for label, extra in (("default normalization", []),
                         ("extra spaces kept, space-only pieces", ["--no-remove-extra-whitespaces", "--allow-whitespace-only-pieces"])):
        model, tj = os.path.join(tmp, "u.model"), os.path.join(tmp, "u.json")
        subprocess.run([tokenkit, "train", "unigram", "--vocab-size", "2000", "--byte-fallback", *extra, "-q",
                        "-o", model, "--json", tj, train_path], check=True)
        sp = spm.SentencePieceProcessor(model_file=model)
        hf = Tokenizer.from_file(tj)
        ours = [json.loads(l)["ids"] for l in subprocess.run(
            [tokenkit, "encode", "-m", model, "--lines", "--format", "jsonl", lines_path],
            check=True, capture_output=True).stdout.decode().splitlines()]
        ours_json = [json.loads(l)["ids"] for l in subprocess.run(
            [tokenkit, "encode", "-m", tj, "--lines", "--format", "jsonl", lines_path],
            check=True, capture_output=True).stdout.decode().splitlines()]
        bad_spm = [repr(t[:30]) for t, o in zip(lines, ours) if sp.encode(t) != o]
        bad_hf = [repr(t[:30]) for t, o in zip(lines, ours_json) if hf.encode(t, add_special_tokens=False).ids != o]
        check(f"tokenkit-trained Unigram ({label}) in sentencepiece ({len(lines)} lines)",
              not bad_spm and len(ours) == len(lines), f"{len(bad_spm)} differ, e.g. {bad_spm[:3]}")
        check(f"tokenkit-trained Unigram ({label}) as tokenizer.json in HF tokenizers",
              not bad_hf and len(ours_json) == len(lines), f"{len(bad_hf)} differ, e.g. {bad_hf[:3]}")
        # HF's Unigram breaks ties between equal-score segmentations its own way (see
        # Scripts/make_tie_goldens.py), so the two libraries may differ, but only on ties: where
        # they differ, both totals must be equal. HF also applies the nmt_nfkc charsmap per
        # grapheme cluster (Scripts/make_precompiled_golden.py), so lines it normalizes unlike
        # sentencepiece (NFD text, half-width kana) are compared on their normalization alone.
        def score(ids):
            return sum(sp.get_score(i) for i in ids)
        # Lines holding a control piece's text ("<s>") are left out: HF matches it as a special
        # token, spm as plain text.
        specials = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)]
        plain = [t for t in lines if not any(p in t for p in specials)]
        same_norm = [t for t in plain if hf.normalizer.normalize_str(t) == sp.normalize(t)]
        differ = [(t, hf.encode(t, add_special_tokens=False).ids, sp.encode(t)) for t in same_norm]
        differ = [(t, h, s) for t, h, s in differ if h != s]
        not_ties = [repr(t[:30]) for t, h, s in differ if abs(score(h) - score(s)) > 1e-3]
        check(f"HF tokenizers and sentencepiece on the tokenkit-trained Unigram ({label}) differ only on ties "
              f"({len(differ)} tie lines of {len(same_norm)}; {len(plain) - len(same_norm)} lines normalized otherwise by HF)",
              not not_ties and len(same_norm) >= len(plain) - 5, f"{len(not_ties)} lines differ in score, e.g. {not_ties[:3]}")

    # 7b. SentencePiece models of many shapes, trained by sentencepiece (user-defined pieces,
    #     no dummy prefix, digits split, whitespace as suffix, no whitespace split, char and word
    #     models): tokenkit reads the .model and gives spm's ids, line by line.
    spm_shapes = {
        "bpe-user-defined": dict(model_type="bpe", vocab_size=700, byte_fallback=True, add_dummy_prefix=False, split_digits=True,
                                 user_defined_symbols=["<h1>", "\t\t"], remove_extra_whitespaces=False,
                                 normalization_rule_name="identity", allow_whitespace_only_pieces=True),
        "unigram-nfkc-cf": dict(model_type="unigram", vocab_size=700, normalization_rule_name="nfkc_cf", control_symbols=["<ctl>"],
                                user_defined_symbols=["@@"]),
        "unigram-suffix": dict(model_type="unigram", vocab_size=700, treat_whitespace_as_suffix=True, byte_fallback=True),
        "bpe-no-whitespace-split": dict(model_type="bpe", vocab_size=700, split_by_whitespace=False, byte_fallback=True),
        "char": dict(model_type="char", vocab_size=300),
        "word": dict(model_type="word", vocab_size=700),
    }
    for label, options in spm_shapes.items():
        prefix = os.path.join(tmp, "spm-" + label)
        spm.SentencePieceTrainer.train(input=train_path, model_prefix=prefix, minloglevel=2, character_coverage=0.99,
                                       hard_vocab_limit=False, **options)
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        ours = [json.loads(l)["ids"] for l in subprocess.run(
            [tokenkit, "encode", "-m", prefix + ".model", "--lines", "--format", "jsonl", lines_path],
            check=True, capture_output=True).stdout.decode().splitlines()]
        bad = [repr(t[:30]) for t, o in zip(lines, ours) if sp.encode(t) != o]
        check(f"sentencepiece-trained {label} .model ({len(lines)} lines)", not bad and len(ours) == len(lines),
              f"{len(bad)} differ, e.g. {bad[:3]}")

    # 8. Mixture inference on tokenizers trained by HF tokenizers (Hayase et al.'s protocol: the
    #    training text repeats each category to its share; the category files are the samples).
    #    The fixture samples are 150 kB, so the bound is looser than BENCHMARKS.md's 3 MiB runs.
    def mixture_eval(label, names, trials, extra):
        cats = [f"--category={n}={os.path.join(FIX, 'mixture', n + '.txt')}" for n in names]
        run = subprocess.run([tokenkit, "mixture-eval", *cats, "--mix", str(len(names)), "--trials", str(trials),
                              "--seed", "7", "--trainer", "hf", "--python", sys.executable, "--overlap", *extra,
                              "--vocab-size", "2256", "--merges", "1000", "--format", "json", "-q"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            check(label, False, run.stderr.strip()[-300:])
            return
        mse = [t["log10_mse"] for t in json.loads(run.stdout)["trials"]]
        check(f"{label} (worst log10 MSE {max(mse):.2f})", max(mse) <= -5, json.dumps([round(x, 2) for x in mse]))

    mixture_eval("mixture-eval with HF-trained tokenizers (3 languages, 3 trials)",
                 ("lang_de", "lang_fr", "lang_ru"), 3, ["--train-bytes", str(4 << 20)])
    #    The same with cl100k's split before HF's byte level, on a mixture with code.
    mixture_eval("mixture-eval with HF-trained cl100k-split tokenizers (language, code, fiction)",
                 ("lang_de", "code_python", "en_fiction"), 2, ["--pre-tokenizer", "cl100k", "--train-bytes", "4M"])

    # 9. ByteSpan: tokenizer.json files written by `tokenkit train bytespan` (frequency and
    #    seeding modes) load in HF tokenizers and give tokenkit's ids, line by line and whole.
    golden_txt = os.path.join(FIX, "text", "golden.txt")
    for mode in ["frequency", "seeding"]:
        out = os.path.join(tmp, f"bytespan-{mode}.json")
        subprocess.run([tokenkit, "train", "bytespan", "--order", "3", "--mode", mode, "--seed-fraction", "0.3",
                        "--vocab-size", "1500", "-q", "-o", out, golden_txt], check=True)
        hf = Tokenizer.from_file(out)
        with open(golden_txt, encoding="utf-8", newline="") as f:
            whole = f.read()
        # `encode --lines` encodes each line without its "\n" or "\r\n".
        lines = [l[:-1] if l.endswith("\r") else l for l in whole.split("\n")]
        run = subprocess.run([tokenkit, "encode", "-m", out, "--lines", "--format", "jsonl", golden_txt],
                             capture_output=True, text=True)
        ours = [json.loads(l)["ids"] if l.startswith("{") else json.loads(l) for l in run.stdout.splitlines()]
        bad = [repr(t[:30]) for t, o in zip(lines, ours) if hf.encode(t).ids != o]
        check(f"tokenkit-trained ByteSpan ({mode}) in HF tokenizers ({len(ours)} lines)",
              run.returncode == 0 and not bad and len(ours) >= len(lines) - 1, f"{len(bad)} differ, e.g. {bad[:3]} {run.stderr[-200:]}")
        run = subprocess.run([tokenkit, "encode", "-m", out, "--format", "json", golden_txt], capture_output=True, text=True)
        check(f"tokenkit-trained ByteSpan ({mode}), whole text", run.returncode == 0 and json.loads(run.stdout) == hf.encode(whole).ids,
              run.stderr[-200:])

    # 10. BERT's vocab.txt (bert-base-uncased's, in Fixtures) read with tokenizer_config.json
    #     settings, against HF's BertWordPieceTokenizer built from the same file and settings.
    from tokenizers.implementations import BertWordPieceTokenizer
    texts = []
    for name in ["text/golden.txt", "parallel/udhr/eng.txt", "parallel/udhr/cmn_hans.txt", "parallel/udhr/hin.txt", "parallel/udhr/spa.txt", "mixture/lang_de.txt"]:
        with open(os.path.join(FIX, name), encoding="utf-8") as f:
            texts += [l for l in f.read().split("\n") if l.strip()][:150]
    texts += ["[CLS] x [SEP] y [MASK]", "Ça  va?\tÉtÉ ǅ ﬁ", "\u00a0nbsp \u200bzw 中文字 ｶﾀｶﾅ", "a" * 120]
    lines_path = os.path.join(tmp, "bert-lines.txt")
    with open(lines_path, "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    for config in [{}, {"do_lower_case": False}, {"do_lower_case": True, "strip_accents": False}, {"tokenize_chinese_chars": False}]:
        folder = tempfile.mkdtemp(dir=tmp)
        with open(os.path.join(FIX, "models", "bert-vocab", "vocab.txt"), "rb") as src, open(os.path.join(folder, "vocab.txt"), "wb") as dst:
            dst.write(src.read())
        if config:
            with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
                json.dump(config, f)
        hf = BertWordPieceTokenizer(os.path.join(folder, "vocab.txt"), lowercase=config.get("do_lower_case", True),
                                    strip_accents=config.get("strip_accents"), handle_chinese_chars=config.get("tokenize_chinese_chars", True))
        run = subprocess.run([tokenkit, "encode", "-m", folder, "--lines", "--add-special-tokens", "--format", "jsonl", lines_path],
                             capture_output=True, text=True)
        ours = [json.loads(l)["ids"] for l in run.stdout.splitlines()]
        bad = [repr(t[:30]) for t, o in zip(texts, ours) if hf.encode(t).ids != o]
        check(f"BERT vocab.txt {json.dumps(config)} ({len(texts)} lines, [CLS]/[SEP] added)",
              run.returncode == 0 and not bad and len(ours) == len(texts), f"{len(bad)} differ, e.g. {bad[:3]} {run.stderr[-200:]}")

sys.exit(check.report("interop"))
