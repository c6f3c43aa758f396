#!/usr/bin/env python3
"""tokenkit --lm-command adapter for Hugging Face transformers causal LMs.

Usage: lm_adapter_hf.py MODEL_DIR [--eos-id N] [--top-k K] [--device cpu]

Speaks tokenkit's JSON-lines protocol on stdin/stdout:
  request  {"context": [ID, ...]}
  answer   {"logprobs": {"ID": LOGP, ...}, "eos": LOGP}
The model's ids must be the tokenizer's ids. The end of text is the model's eos token (or
--eos-id); its probability is reported as "eos" and left out of "logprobs". The empty context is
scored after the bos token when the model has one (else after eos, as GPT-2 does). --top-k limits
the answer to the K most likely ids (the rest then count as probability 0: only exact with K = 0,
the default, which sends every id). A key/value cache is kept for the longest previous context
that is a prefix of the new one, so byteprob's growing contexts cost one token each.
"""
import json
import sys


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    opts = {"--eos-id": None, "--top-k": "0", "--device": "cpu"}
    path = None
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            path = args[i]
            i += 1
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_grad_enabled(False)
    model = AutoModelForCausalLM.from_pretrained(path).to(opts["--device"]).eval()
    cfg = model.config
    eos = int(opts["--eos-id"]) if opts["--eos-id"] is not None else cfg.eos_token_id
    start = cfg.bos_token_id if cfg.bos_token_id is not None else eos
    top_k = int(opts["--top-k"])
    cache_ids, cache_kv, cache_logits = None, None, None

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        ctx = [start] + json.loads(line)["context"]
        # Reuse the cache when the previous context is a prefix of this one.
        if cache_ids is not None and len(cache_ids) <= len(ctx) and ctx[:len(cache_ids)] == cache_ids:
            new = ctx[len(cache_ids):]
            if new:
                out = model(torch.tensor([new]), past_key_values=cache_kv, use_cache=True)
                cache_kv, cache_logits = out.past_key_values, out.logits[0, -1]
        else:
            out = model(torch.tensor([ctx]), use_cache=True)
            cache_kv, cache_logits = out.past_key_values, out.logits[0, -1]
        cache_ids = ctx
        logp = torch.log_softmax(cache_logits.double(), dim=-1)
        answer = {"eos": float(logp[eos]) if eos is not None else None}
        if top_k > 0:
            vals, idx = torch.topk(logp, min(top_k, logp.shape[0]))
            pairs = zip(idx.tolist(), vals.tolist())
        else:
            pairs = enumerate(logp.tolist())
        answer["logprobs"] = {str(t): v for t, v in pairs if t != eos}
        if answer["eos"] is None:
            del answer["eos"]
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
