#!/usr/bin/env bash
# The Spark recipe, tested: Scripts/spark_train_bpe.py in Spark local mode with 4 partitions
# must write the same tokenizer.json, byte for byte, as single-process `train bpe --lines`
# on the same text. Usage: Scripts/check_spark.sh [TOKENKIT_BINARY]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOKENKIT="${1:-$(swift build --show-bin-path)/tokenkit}"
# ~460 KB of English prose, Python code and Russian from the mixture fixtures.
INPUTS=(Fixtures/mixture/en_fiction.txt Fixtures/mixture/code_python.txt Fixtures/mixture/lang_ru.txt)
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

"$TOKENKIT" train bpe --lines --quiet --vocab-size 3000 --pre-tokenizer cl100k -o "$TMP/single.json" "${INPUTS[@]}"
python3 Scripts/spark_train_bpe.py --tokenkit "$TOKENKIT" --master 'local[4]' --partitions 4 --vocab-size 3000 \
    -o "$TMP/spark.json" --counts "$TMP/all.counts" "${INPUTS[@]}" -- --pre-tokenizer cl100k 2>"$TMP/log" \
    || { cat "$TMP/log" >&2; exit 1; }
cmp "$TMP/single.json" "$TMP/spark.json"
# The text really was cut: at least 4 partitions were counted separately and summed.
parts=$(grep -ao 'spark_train_bpe: [0-9]* partitions counted' "$TMP/log" | grep -o '[0-9][0-9]*' || true)
[ "${parts:-0}" -ge 4 ] || { echo "check_spark: expected at least 4 partitions, got '${parts}'" >&2; exit 1; }
"$TOKENKIT" count-words --lines --quiet --pre-tokenizer cl100k -o "$TMP/direct.counts" "${INPUTS[@]}"
cmp "$TMP/direct.counts" "$TMP/all.counts"
echo "check_spark: Spark (4 partitions) and single-process training give the same tokenizer.json ($(wc -c <"$TMP/spark.json") bytes)"
