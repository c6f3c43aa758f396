#!/usr/bin/env python3
"""Re-solves the trials kept by `tokenkit mixture-eval --keep-trials KEPT` with a variant of the
inference, so variants are compared on the very same tokenizers (BENCHMARKS.md, issue 19).

    Scripts/mixture_variants.py --data DIR --tokenkit .build/release/tokenkit KEPT SAMPLES [mixture options...]

SAMPLES: `whole` (each category's whole file in DIR, as `mixture-eval --overlap`), `train` (each
trial's exact training part: the replay then sees the trainer's own counts) or `rest` (the file
without its training part, i.e. disjoint text; the whole file when the part covers it). The truth is
the byte share of each kept training part. Prints each trial's log10 MSE, user CPU and peak RSS
(`/usr/bin/time`), and the mean ± sd, and keeps each trial's TSV output in KEPT.

    Scripts/mixture_variants.py --data DIR KEPT split TAG

splits the error of the kept `whole` outputs TAG (e.g. merges_30000) after a `train` run: the LP's
pair shares against the training parts' (which the `train` run recovers), and the byte shares
converted with the training parts' bytes per pair instead of the samples'."""
import argparse, glob, math, os, subprocess, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True, help="folder of the category files NAME.txt")
ap.add_argument("--tokenkit", default="tokenkit")
ap.add_argument("kept")
ap.add_argument("samples", choices=["whole", "train", "rest", "split"])
args, extra = ap.parse_known_args()


def log_mse(a, b):
    return math.log10(sum((x - y) ** 2 for x, y in zip(a, b)) / len(a))


def read_tsv(path):
    rows = [r.split("\t") for r in open(path).read().strip().split("\n")[1:]]
    return {r[0]: (float(r[1]), float(r[2])) for r in rows}


if args.samples == "split":
    for path in sorted(glob.glob(f"{args.kept}/out-whole-{extra[0]}-*.tsv")):
        k = path.rsplit("-", 1)[1][:-4]
        train, whole = read_tsv(glob.glob(f"{args.kept}/out-train-*-{k}.tsv")[0]), read_tsv(path)
        names = sorted(train)
        truth, pair_truth = [train[n][0] for n in names], [train[n][1] for n in names]
        estimate, pairs = [whole[n][0] for n in names], [whole[n][1] for n in names]
        converted = [a * t / p for a, t, p in zip(pairs, truth, pair_truth)]
        converted = [c / sum(converted) for c in converted]
        print(f"trial {k}: bytes {log_mse(estimate, truth):.2f}, pairs {log_mse(pairs, pair_truth):.2f}, "
              f"bytes converted with the training parts' B/P {log_mse(converted, truth):.2f}")
    raise SystemExit(0)
rest_dir = tempfile.mkdtemp(prefix="mixture-rest-")
scores = []
trials = sorted({int(os.path.basename(p).split("-")[1]) for p in glob.glob(f"{args.kept}/trial-*-*.txt")})
for k in trials:
    parts = sorted(glob.glob(f"{args.kept}/trial-{k}-*.txt"))
    names = [os.path.basename(p)[len(f"trial-{k}-"):-4] for p in parts]
    sizes = [os.path.getsize(p) for p in parts]
    truth = [s / sum(sizes) for s in sizes]
    cats = []
    for name, part, size in zip(names, parts, sizes):
        path = f"{args.data}/{name}.txt"
        if args.samples == "train":
            path = part
        elif args.samples == "rest":
            whole = open(path, "rb").read()
            head = open(part, "rb").read()
            if size < len(whole):
                # Head draws only: the part is the file's first bytes.
                assert whole.startswith(head), f"{part} is not the head of {path} (use whole with --draw lines)"
                path = f"{rest_dir}/{name}-{size}.txt"
                open(path, "wb").write(whole[size:])
        cats += ["--category", f"{name}={path}"]
    run = subprocess.run(["/usr/bin/time", "-f", "%U %M", "nice", args.tokenkit, "mixture", "-m", f"{args.kept}/tokenizer-{k}.json",
                          "--format", "tsv", *extra, *cats], capture_output=True, text=True, check=True)
    out = run.stdout
    user, peak = run.stderr.strip().split("\n")[-1].split()
    tag = "_".join(extra).replace("-", "")
    with open(f"{args.kept}/out-{args.samples}-{tag}-{k}.tsv", "w") as f:
        f.write(out)
    estimate = {r.split("\t")[0]: float(r.split("\t")[1]) for r in out.strip().split("\n")[1:]}
    score = math.log10(sum((estimate[n] - t) ** 2 for n, t in zip(names, truth)) / len(names))
    scores.append(score)
    print(f"trial {k} {score:7.3f}  user {float(user):.1f} s, peak {int(peak) / 1e6:.2f} GB  " + ", ".join(f"{n} {t:.4f}→{estimate[n]:.4f}" for n, t in zip(names, truth)), flush=True)
mean = sum(scores) / len(scores)
sd = (sum((s - mean) ** 2 for s in scores) / max(1, len(scores) - 1)) ** 0.5
print(f"{args.samples} {' '.join(extra)}: " + " ".join(f"{s:.2f}" for s in scores) + f"  mean {mean:.2f} ± {sd:.2f}")
