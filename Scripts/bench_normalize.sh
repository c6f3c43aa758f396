#!/usr/bin/env bash
# Measures ICU against utf8proc on the normalization forms tokenkit runs, per script (the
# bundled UDHR translations, each repeated to ~1 MB, and the same texts decomposed to NFD
# so that composition has work to do). Figures go to BENCHMARKS.md.
# Usage: Scripts/bench_normalize.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
Scripts/setup libutf8proc-dev
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cc -O2 -o "$TMP/bench" Scripts/bench_normalize.c -licuuc -lutf8proc
files=()
for lang in eng spa rus arb hin cmn_hans jpn kor tha amh; do
    src=Fixtures/parallel/udhr/$lang.txt
    for _ in $(seq $((1000000 / $(wc -c <"$src") + 1))); do cat "$src"; done >"$TMP/$lang.txt"
    files+=("$TMP/$lang.txt")
done
# Decomposed inputs: the same texts after NFD (Python's unicodedata).
for lang in spa kor hin; do
    python3 -c 'import sys, unicodedata; sys.stdout.write(unicodedata.normalize("NFD", open(sys.argv[1], encoding="utf-8").read()))' \
        "$TMP/$lang.txt" >"$TMP/$lang-nfd.txt"
    files+=("$TMP/$lang-nfd.txt")
done
"$TMP/bench" "${files[@]}"
