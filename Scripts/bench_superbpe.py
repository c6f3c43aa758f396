#!/usr/bin/env python3
"""One-off benchmark: encoding with a superword (SuperBPE) tokenizer.json, tokenkit against HF
tokenizers, in one run, with the ids checked.

usage: RAYON_NUM_THREADS=2 bench_superbpe.py TOKENKIT TOKENIZER_JSON TEXT [--threads 2] [--repeats 3]

- HF tokenizers: load time (Tokenizer.from_file), then encode_batch over ~10 kB chunks cut after
  line ends (the bench harness's chunks), on RAYON_NUM_THREADS threads.
- tokenkit: `count --threads N` as a whole process (exec, load, read, encode), and on an empty
  file (its start-up alone).
- ids: HF on the whole text in one call must equal `tokenkit encode --format bin` of the file.
Every time is the best of --repeats runs. Needs the `tokenizers` package (e.g. .venv-test).
"""
import argparse, array, os, subprocess, tempfile, time

from tokenizers import Tokenizer


def chunks_of(text, size=10_000):
    pieces, start, n = [], 0, len(text)
    while start < n:
        end = text.find("\n", min(start + size, n) - 1)
        end = n if end < 0 else end + 1
        pieces.append(text[start:end])
        start = end
    return pieces


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


ap = argparse.ArgumentParser()
ap.add_argument("tokenkit")
ap.add_argument("model")
ap.add_argument("text")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
a = ap.parse_args()

text = open(a.text, encoding="utf-8", newline="").read()
chunks = chunks_of(text)
holder = {}
hf_load = best(lambda: holder.__setitem__("tok", Tokenizer.from_file(a.model)), a.repeats)
tok = holder["tok"]
hf_encode = best(lambda: tok.encode_batch(chunks, add_special_tokens=False), a.repeats)

with tempfile.TemporaryDirectory() as tmp:
    empty = os.path.join(tmp, "empty.txt")
    open(empty, "w").close()
    run = lambda path: subprocess.run([a.tokenkit, "count", "-m", a.model, "--threads", str(a.threads), path],
                                      check=True, capture_output=True)
    tk_start = best(lambda: run(empty), a.repeats)
    tk_total = best(lambda: run(a.text), a.repeats)
    out = os.path.join(tmp, "ids.bin")
    subprocess.run([a.tokenkit, "encode", "-m", a.model, "--format", "bin", "--dtype", "u32", "-o", out, a.text],
                   check=True, capture_output=True)
    ours = array.array("I", open(out, "rb").read()).tolist()
whole = tok.encode(text, add_special_tokens=False).ids

mb = len(text.encode("utf-8")) / 1e6
print(f"text: {a.text} ({mb:.1f} MB), {len(chunks)} chunks; threads {a.threads}; best of {a.repeats}")
print(f"HF tokenizers: load {hf_load:.2f} s, encode_batch {hf_encode:.2f} s ({mb / hf_encode:.1f} MB/s)")
print(f"tokenkit: start-up {tk_start:.2f} s, whole process {tk_total:.2f} s ({mb / tk_total:.1f} MB/s)")
print(f"ratio, tokenkit whole process vs HF encode_batch alone: {hf_encode / tk_total:.2f}x; "
      f"vs HF load + encode_batch: {(hf_load + hf_encode) / tk_total:.2f}x")
print(f"ids: {len(whole)} tokens, tokenkit {'identical to' if ours == whole else 'DIFFERENT from'} HF on the whole text")
