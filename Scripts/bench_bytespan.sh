#!/usr/bin/env bash
# Measurements for BENCHMARKS.md (byte LM and ByteSpan). Usage:
#   Scripts/bench_bytespan.sh TOKENKIT CORPUS(100 MB) CORPUS10 MORPH.csv OUTDIR
# CORPUS10 must be CORPUS's first bytes; the LM is trained on CORPUS without them.
set -euo pipefail
TK=$1; CORPUS=$2; C10=$3; MORPH=$4; OUT=$5
mkdir -p "$OUT"; cd "$OUT"
t() { /usr/bin/time -f "%e s wall, %U s user, %M kB peak" "$@"; }
n10=$(stat -c %s "$C10")
tail -c +$((n10 + 1)) "$CORPUS" > train90.txt
echo "== load"; uptime
for order in 5 6 7; do
  echo "== train lm order $order"; t "$TK" train lm --bytes --order "$order" -o o$order.bytelm train90.txt; ls -l o$order.bytelm
  echo "== score order $order"; t "$TK" lm score --format json o$order.bytelm "$C10"
done
echo "== xz -9"; xz -9 -c "$C10" | wc -c
echo "== 7z PPMd"; rm -f c10.7z; 7z a -m0=PPMd -mx=9 c10.7z "$C10" >/dev/null && stat -c %s c10.7z
echo "== bpe 32k"; t "$TK" train bpe -q --vocab-size 32000 -o bpe32k.json "$CORPUS"
echo "== bpe-wordpiece 32k"; t "$TK" train bytespan --mode seeding --seed-fraction 0 --vocab-size 32000 -o bpewp32k.json "$CORPUS"
for c in combined monotonic global; do
  for m in frequency seeding; do
    echo "== bytespan $c $m 32k"; t "$TK" train bytespan --order 6 --constraint "$c" --mode "$m" --vocab-size 32000 -o bs-$c-$m-32k.json "$CORPUS"
  done
done
for v in 16000 64000; do
  echo "== bytespan combined frequency $v"; t "$TK" train bytespan --order 6 --vocab-size $v -o bs-combined-frequency-$v.json "$CORPUS"
done
echo "== evaluate"
t "$TK" evaluate --text "$C10" --morph "$MORPH" -m bpe32k.json -m bpewp32k.json \
  $(for c in combined monotonic global; do for m in frequency seeding; do echo -m bs-$c-$m-32k.json; done; done)
t "$TK" evaluate --text "$C10" --morph "$MORPH" --format json -m bpe32k.json -m bpewp32k.json \
  $(for c in combined monotonic global; do for m in frequency seeding; do echo -m bs-$c-$m-32k.json; done; done) > evaluate32k.json
echo "== load"; uptime
