#!/usr/bin/env python3
"""Start-up benchmark (issue 17): how long a model takes to load, and what a short run costs.

Usage:
    Scripts/bench_startup.py [--tokenkit PATH] [--repeats N] [--model PATH ...] [--premium-corpus DIR]

For each model (default: the bundled cl100k and Qwen2.5 files; add more with --model):
  - tokenkit load without the cache (--no-cache) and from a warm cache, timed inside the process
    (the hidden --load-timing option: file hashed, entry read and checked, tokenizer built), as
    the loading thread's CPU time (user + system, page faults included) and as wall time: on a
    shared, busy machine the wall time mostly measures the wait for a core;
  - tiktoken's load of the same rank file (load_tiktoken_bpe + Encoding) and HF tokenizers'
    Tokenizer.from_file of the same tokenizer.json, timed the same two ways around the call in
    a Python process; a rank file's tokenizer.json for HF is made by `tokenkit convert`, and a
    tokenizer.json's rank file for tiktoken too when it is byte-level BPE;
  - whole-process `count` of a small file (4 kB of the bundled UDHR English): tokenkit with a
    warm cache and without one, and `python3 -c` running tiktoken's and HF's load + encode
    (interpreter start and import included, as a user running a script waits for them).
With --premium-corpus DIR it also times `tokenkit premium --corpus DIR` over four models
(cl100k, Qwen2.5 and the given ones), cold and warm.
Every figure is the median of N runs (default 5). The reference libraries (tiktoken 0.12,
tokenizers 0.22.1) are taken from .venv-test/ (made by Scripts/test).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_PY = os.path.join(ROOT, ".venv-test", "bin", "python")


def median_time(cmd, repeats, env=None):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def load_ms(tokenkit, model, extra, repeats, empty):
    """tokenkit's own load time (ms), from --load-timing: (wall, CPU) medians."""
    wall, cpu = [], []
    for _ in range(repeats):
        r = subprocess.run([tokenkit, "count", "-m", model, "--load-timing", *extra, empty],
                           check=True, capture_output=True, text=True)
        line = [l for l in r.stderr.splitlines() if "loaded" in l][0]
        wall.append(float(line.split(" in ")[1].split(" ms")[0]))
        cpu.append(float(line.split("CPU ")[1].split(" ms")[0]))
    return statistics.median(wall), statistics.median(cpu)


PY_TIMING = r"""
import sys, time
kind, path = sys.argv[1], sys.argv[2]
if kind == "tiktoken":
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    t, c = time.perf_counter(), time.thread_time()
    ranks = load_tiktoken_bpe(path)
    enc = tiktoken.Encoding("bench", pat_str=r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s", mergeable_ranks=ranks, special_tokens={})
else:
    from tokenizers import Tokenizer
    t, c = time.perf_counter(), time.thread_time()
    tok = Tokenizer.from_file(path)
print((time.perf_counter() - t) * 1000, (time.thread_time() - c) * 1000)
"""

PY_COUNT = r"""
import sys
kind, path, text = sys.argv[1], sys.argv[2], open(sys.argv[3], encoding="utf-8").read()
if kind == "tiktoken":
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    enc = tiktoken.Encoding("bench", pat_str=r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s", mergeable_ranks=load_tiktoken_bpe(path), special_tokens={})
    print(len(enc.encode_ordinary(text)))
else:
    from tokenizers import Tokenizer
    print(len(Tokenizer.from_file(path).encode(text, add_special_tokens=False).ids))
"""


def py_load_ms(kind, path, repeats):
    """(wall, CPU of the calling thread) medians, in ms."""
    wall, cpu = [], []
    for _ in range(repeats):
        r = subprocess.run([VENV_PY, "-c", PY_TIMING, kind, path], check=True, capture_output=True, text=True)
        w, c = r.stdout.split()
        wall.append(float(w))
        cpu.append(float(c))
    return statistics.median(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenkit", default=os.path.join(ROOT, ".build", "release", "tokenkit"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--premium-corpus")
    args = ap.parse_args()
    tk = args.tokenkit
    models = [os.path.join(ROOT, "Fixtures/models/cl100k_base.tiktoken"),
              os.path.join(ROOT, "Fixtures/models/qwen2.5/tokenizer.json")] + args.model
    work = tempfile.mkdtemp(prefix="tokenkit-bench-startup-")
    cache = os.path.join(work, "cache")
    empty = os.path.join(work, "empty.txt")
    open(empty, "w").close()
    small = os.path.join(work, "small.txt")
    with open(os.path.join(ROOT, "Fixtures/parallel/udhr/eng.txt"), encoding="utf-8") as f:
        open(small, "w", encoding="utf-8").write(f.read()[:4096])

    print("Loads: CPU time of the loading thread (wall time in parentheses); processes: wall time.")
    print("| model | size | tokenkit cold | tokenkit warm cache | tiktoken load | HF load |"
          " count 4 kB: tokenkit warm / cold | tiktoken process | HF process |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in models:
        name = os.path.basename(os.path.dirname(m)) if m.endswith("tokenizer.json") else os.path.basename(m)
        is_ranks = m.endswith(".tiktoken")
        as_json, as_ranks = (os.path.join(work, name + ".json"), m) if is_ranks else (m, os.path.join(work, name + ".tiktoken"))
        convert_from = m
        target = as_json if is_ranks else as_ranks
        ok = subprocess.run([tk, "convert", "--no-cache", convert_from, "-o", target], capture_output=True).returncode == 0
        if not ok:
            as_ranks = None
        cold = load_ms(tk, m, ["--no-cache"], args.repeats, empty)
        subprocess.run([tk, "count", "-m", m, "--cache-dir", cache, empty], check=True, capture_output=True)
        warm = load_ms(tk, m, ["--cache-dir", cache], args.repeats, empty)
        tt = py_load_ms("tiktoken", as_ranks, args.repeats) if as_ranks else None
        hf = py_load_ms("hf", as_json, args.repeats)
        p_warm = median_time([tk, "count", "-m", m, "--cache-dir", cache, small], args.repeats)
        p_cold = median_time([tk, "count", "-m", m, "--no-cache", small], args.repeats)
        p_tt = median_time([VENV_PY, "-c", PY_COUNT, "tiktoken", as_ranks, small], args.repeats) if as_ranks else None
        p_hf = median_time([VENV_PY, "-c", PY_COUNT, "hf", as_json, small], args.repeats)
        size = os.path.getsize(m) / 1e6
        fmt = lambda x: "–" if x is None else f"{x[1]:.1f} ms ({x[0]:.0f})"
        fs = lambda x: "–" if x is None else f"{x * 1000:.0f} ms"
        print(f"| {name} | {size:.1f} MB | {fmt(cold)} | {fmt(warm)} | {fmt(tt)} | {fmt(hf)} |"
              f" {fs(p_warm)} / {fs(p_cold)} | {fs(p_tt)} | {fs(p_hf)} |", flush=True)

    if args.premium_corpus:
        ms = [x for m in models for x in ("-m", m)]
        for label, extra in (("no cache", ["--no-cache"]), ("warm cache", ["--cache-dir", cache])):
            t = median_time([tk, "premium", "--corpus", args.premium_corpus, *ms, *extra, "-q"], max(1, args.repeats // 2))
            print(f"premium over {args.premium_corpus} × {len(models)} models, {label}: {t:.2f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
