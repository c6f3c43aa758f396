#!/usr/bin/env python3
"""Plain reference for tokenkit's token n-gram LM: interpolated modified Kneser-Ney computed
directly from counts (Chen & Goodman 1998, with KenLM's conventions: <s>-initial n-grams keep raw
counts, unigrams interpolate with the uniform distribution over all token ids and </s>).

Usage: kn_reference.py TRAIN HELDOUT ORDER VOCAB_SIZE [--arpa-kenlm FILE.arpa]
TRAIN and HELDOUT hold one document per line as space-separated token ids. Prints a JSON line
with the held-out total natural log-probability, token count and perplexity. With --arpa-kenlm
it also scores HELDOUT with the kenlm package on tokenkit's ARPA file.
"""
import json
import math
import sys
from collections import defaultdict


def read_docs(path):
    with open(path) as f:
        return [[int(t) for t in line.split()] for line in f if line.strip()]


def train(docs, order, vocab):
    eos, bos = vocab, vocab + 1
    raw = [defaultdict(int) for _ in range(order)]
    for d in docs:
        seq = [bos] + d + [eos]
        for i in range(1, len(seq)):
            g = tuple(seq[max(0, i - order + 1):i + 1])
            raw[len(g) - 1][g] += 1
    adj = [dict(r) for r in raw]
    for k in range(order - 1, 0, -1):
        # distinct left extensions of each lower-order n-gram
        ext = defaultdict(int)
        for g in adj[k]:
            ext[g[1:]] += 1
        for g, c in ext.items():
            if g[0] != bos:
                adj[k - 1][g] = c
    disc = []
    for k in range(order):
        t = [0] * 5
        for a in adj[k].values():
            if a <= 4:
                t[a] += 1
        if min(t[1:]) == 0:
            disc.append((0.5, 1.0, 1.5))
            continue
        y = t[1] / (t[1] + 2 * t[2])
        d = (1 - 2 * y * t[2] / t[1], 2 - 3 * y * t[3] / t[2], 3 - 4 * y * t[4] / t[3])
        disc.append(d if all(x > 0 for x in d) else (0.5, 1.0, 1.5))
    tot = [defaultdict(lambda: [0.0, 0.0]) for _ in range(order)]
    for k in range(order):
        for g, a in adj[k].items():
            s = tot[k][g[:-1]]
            s[0] += a
            s[1] += disc[k][min(a, 3) - 1]
    return adj, disc, tot, vocab + 1


def prob(model, hist, w):
    adj, disc, tot, nwords = model
    # interpolate from the unigram up to the longest history present
    root = tot[0][()]
    p = root[1] / root[0] / nwords
    a = adj[0].get((w,), 0)
    if a:
        p += (a - disc[0][min(a, 3) - 1]) / root[0]
    for k in range(1, len(hist) + 1):
        h = tuple(hist[-k:])
        if h not in tot[k]:
            break
        s = tot[k][h]
        a = adj[k].get(h + (w,), 0)
        p = (s[1] / s[0]) * p + ((a - disc[k][min(a, 3) - 1]) / s[0] if a else 0.0)
    return p


def main():
    args = sys.argv[1:]
    arpa = None
    if "--arpa-kenlm" in args:
        i = args.index("--arpa-kenlm")
        arpa = args[i + 1]
        del args[i:i + 2]
    train_path, held_path, order, vocab = args[0], args[1], int(args[2]), int(args[3])
    model = train(read_docs(train_path), order, vocab)
    eos, bos = vocab, vocab + 1
    total, n = 0.0, 0
    held = read_docs(held_path)
    for d in held:
        seq = [bos] + d + [eos]
        for i in range(1, len(seq)):
            total += math.log(prob(model, seq[max(0, i - order + 1):i], seq[i]))
            n += 1
    out = {"logprob": total, "tokens": n, "perplexity": math.exp(-total / n)}
    if arpa:
        import kenlm
        m = kenlm.Model(arpa)
        t10 = sum(m.score(" ".join(map(str, d)), bos=True, eos=True) for d in held)
        out["kenlm_logprob"] = t10 * math.log(10)
        out["kenlm_perplexity"] = math.exp(-out["kenlm_logprob"] / n)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
