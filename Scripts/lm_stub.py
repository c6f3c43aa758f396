#!/usr/bin/env python3
"""A tiny LM speaking tokenkit's --lm-command protocol, for tests (no dependencies).

Usage: lm_stub.py N. Next-token weights: ids 0..N-1 get 1 + (31*t + 17*last) % 7, where last is
the last context id (or N for the empty context), and the end of text gets 2; everything else
has probability 0. Tests/ByteProbTests computes the same model in Swift.
"""
import json
import math
import sys

n = int(sys.argv[1])
for line in sys.stdin:
    ctx = json.loads(line)["context"]
    last = ctx[-1] if ctx else n
    w = [1 + (31 * t + 17 * last) % 7 for t in range(n)]
    z = sum(w) + 2
    out = {"logprobs": {str(t): math.log(w[t] / z) for t in range(n)}, "eos": math.log(2 / z)}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
