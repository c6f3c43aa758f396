#!/usr/bin/env python3
"""A small, independent reference of SuperBPE's stage 2 (Liu, Hayase et al. 2025), the test
oracle for `tokenkit train superbpe`. Plain Python (plus the `regex` module for \\p{L}).

The procedure, as the paper's scripts run it:
  - every line of the input (with its "\\n") is a document, pre-tokenized with the superword
    split (Split "isolated": matches and the text between them are pieces);
  - words start as bytes; the inherited merges are replayed one by one over all words, in order:
    a merge whose pair occurs nowhere is skipped (kept in the output by default, dropped and its
    id given to the next token with --drop-unused, as the reference trainer does);
  - then the most frequent pair is merged (ties: smaller left id, then smaller right id; bytes
    are ids 0-255, every new token the next id unless its bytes already are a token) until the
    vocabulary is full or the best pair occurs fewer than --min-frequency times; pairs whose
    token contains ": " or has more than --max-words space-separated words are never merged.

This implementation keeps pair counts and a pair -> words index and applies each merge literally
to the words that hold it; it shares no code or approach with tokenkit's trainer (which replays by
encoding each word once).

usage: superbpe_reference.py --inherit TOKENIZER_JSON --transition T --vocab-size V
                             [--drop-unused] [--max-words 4] [--min-frequency 2] FILE... > merges.json
Prints the merges (byte-level strings) as a JSON list of [left, right].
"""
import argparse, heapq, json, sys
from collections import Counter, defaultdict

import regex

SUPERWORD = r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"


def byte_alphabet():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


TO_CHAR = byte_alphabet()
FROM_CHAR = {c: b for b, c in TO_CHAR.items()}


def show(bs):
    return "".join(TO_CHAR[b] for b in bs)


def unshow(s):
    return bytes(FROM_CHAR[c] for c in s)


def pieces(line, pattern):
    out, last = [], 0
    for m in pattern.finditer(line):
        if m.start() > last:
            out.append(line[last:m.start()])
        if m.end() > m.start():
            out.append(m.group())
        last = m.end()
    if last < len(line):
        out.append(line[last:])
    return out


def count_words(files):
    pattern = regex.compile(SUPERWORD)
    counts = Counter()
    for f in files:
        with open(f, "rb") as fh:
            for raw in fh:  # lines, each keeping its b"\n"
                for p in pieces(raw.decode("utf-8"), pattern):
                    counts[p.encode("utf-8")] += 1
    return counts


def allowed(bs, max_words):
    if b": " in bs:
        return False
    return len([w for w in bs.split(b" ") if w]) <= max_words


def pairs_of(word):
    return Counter(zip(word, word[1:]))


def train(counts, inherited, vocab_size, drop_unused, max_words, min_frequency):
    tokens = [bytes([b]) for b in range(256)]
    ids = {t: i for i, t in enumerate(tokens)}
    words = [list(w) for w in counts]
    freq = [counts[w] for w in counts]
    pair_count = Counter()
    where = defaultdict(set)
    for i, w in enumerate(words):
        for p, k in pairs_of(w).items():
            pair_count[p] += k * freq[i]
            where[p].add(i)
    merges = []

    def apply(a, b, c):
        """Merges (a, b) into c in every word; returns the pairs whose count grew."""
        change = Counter()
        for i in list(where.get((a, b), ())):
            w = words[i]
            old = pairs_of(w)
            out, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and w[k] == a and w[k + 1] == b:
                    out.append(c)
                    k += 2
                else:
                    out.append(w[k])
                    k += 1
            words[i] = out
            new = pairs_of(out)
            for p, n in old.items():
                pair_count[p] -= n * freq[i]
                change[p] -= n * freq[i]
                if p not in new:
                    where[p].discard(i)
            for p, n in new.items():
                pair_count[p] += n * freq[i]
                change[p] += n * freq[i]
                where[p].add(i)
        return [p for p, d in change.items() if d > 0 and pair_count[p] > 0]

    def new_id(bs):
        if bs in ids:
            return ids[bs]
        ids[bs] = len(tokens)
        tokens.append(bs)
        return ids[bs]

    # Replay the inherited merges in order.
    for left, right in inherited:
        if left not in ids or right not in ids:
            # Its parts were never made (dropped earlier): it cannot occur either.
            assert drop_unused, "inherited merge of unknown tokens"
            continue
        a, b = ids[left], ids[right]
        if pair_count[(a, b)] <= 0 and drop_unused:
            continue
        c = new_id(left + right)
        merges.append((left, right))
        if pair_count[(a, b)] > 0:
            apply(a, b, c)

    # Continue with the filters.
    heap = [(-n, p) for p, n in pair_count.items() if n > 0]
    heapq.heapify(heap)
    while len(tokens) < vocab_size and heap:
        n, p = heapq.heappop(heap)
        n = -n
        if pair_count[p] != n:
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
            continue
        if n < min_frequency:
            break
        bs = tokens[p[0]] + tokens[p[1]]
        if not allowed(bs, max_words):
            continue
        c = new_id(bs)
        merges.append((tokens[p[0]], tokens[p[1]]))
        # Pairs that grew are pushed again (the others' entries are corrected when popped).
        for q in apply(p[0], p[1], c):
            heapq.heappush(heap, (-pair_count[q], q))
    return merges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inherit", required=True)
    ap.add_argument("--transition", type=int, required=True)
    ap.add_argument("--vocab-size", type=int, required=True)
    ap.add_argument("--drop-unused", action="store_true")
    ap.add_argument("--max-words", type=int, default=4)
    ap.add_argument("--min-frequency", type=int, default=2)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    with open(args.inherit, encoding="utf-8") as f:
        raw = json.load(f)["model"]["merges"]
    inherited = [tuple(unshow(s) for s in (m.split(" ") if isinstance(m, str) else m)) for m in raw[: args.transition]]
    merges = train(count_words(args.files), inherited, args.vocab_size, args.drop_unused, args.max_words, args.min_frequency)
    json.dump([[show(a), show(b)] for a, b in merges], sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
