#!/usr/bin/env python3
"""Writes a tiny GPT-2 with random weights (seeded; nothing downloaded) to DIR, for testing
Scripts/lm_adapter_hf.py with tokenkit's r50k tokenizer (same 50,257 ids, eos 50256).
Usage: make_tiny_gpt2.py DIR"""
import sys

import torch
from transformers import GPT2Config, GPT2LMHeadModel

torch.manual_seed(0)
cfg = GPT2Config(vocab_size=50257, n_positions=256, n_embd=32, n_layer=2, n_head=2,
                 bos_token_id=50256, eos_token_id=50256)
GPT2LMHeadModel(cfg).save_pretrained(sys.argv[1])
