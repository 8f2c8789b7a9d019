#!/usr/bin/env python3
"""PyTorch twin of `go run ./cmd/bench train`, for comparison (run by hand).

  /usr/bin/python3 scripts/torch_bench_train.py [--threads 1 2] [--steps 3]

One full SFT step on random tokens: forward of the same Llama models (configs
a and b of cmd/bench/train.go, written with the layers of torch_golden.py),
masked token-mean cross-entropy, backward, gradient clipping and AdamW;
batch 8 x 256 tokens as a (B, S) batch (equal lengths, so the same work as
the Go engine's packed batch). Prints the same JSON lines.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_golden import param_specs, rms_norm, rotate_half  # noqa: E402

CONFIGS = {
    "a": dict(model_type="llama", vocab_size=512, hidden_size=128, num_hidden_layers=4,
              num_attention_heads=4, num_key_value_heads=4, head_dim=32, intermediate_size=512,
              rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False),
    "b": dict(model_type="llama", vocab_size=2048, hidden_size=256, num_hidden_layers=6,
              num_attention_heads=8, num_key_value_heads=8, head_dim=32, intermediate_size=1024,
              rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False),
}


def forward_batched(c, W, tokens):
    """Llama forward on (B, S) tokens: the golden script's layers, batched so
    attention costs B*S^2, as the Go engine's per-sequence attention does."""
    C, H, D = c["hidden_size"], c["num_attention_heads"], c["head_dim"]
    B, S = tokens.shape
    inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2).float() / D))
    emb = torch.arange(S).float()[:, None] * inv[None, :]
    emb = torch.cat((emb, emb), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    causal = torch.ones(S, S, dtype=torch.bool).tril()
    x = W["model.embed_tokens.weight"][tokens]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], c["rms_norm_eps"])
        q = (h @ W[p + "self_attn.q_proj.weight"].t()).view(B, S, H, D).transpose(1, 2)
        k = (h @ W[p + "self_attn.k_proj.weight"].t()).view(B, S, H, D).transpose(1, 2)
        v = (h @ W[p + "self_attn.v_proj.weight"].t()).view(B, S, H, D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        s = (q @ k.transpose(-1, -2)) / D ** 0.5
        a = torch.softmax(s.masked_fill(~causal, float("-inf")), dim=-1) @ v
        x = x + a.transpose(1, 2).reshape(B, S, H * D) @ W[p + "self_attn.o_proj.weight"].t()
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], c["rms_norm_eps"])
        g = h @ W[p + "mlp.gate_proj.weight"].t()
        u = h @ W[p + "mlp.up_proj.weight"].t()
        x = x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].t()
    x = rms_norm(x, W["model.norm.weight"], c["rms_norm_eps"])
    return (x @ W["lm_head.weight"].t()).reshape(B * S, -1)


def peak_rss_mib():
    """Peak resident set size of this process (VmHWM), in MiB; a high-water
    mark over the whole process, so run one config and thread count per
    process (--configs a --threads 1) to read it for one of them."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def bench(name, threads, batch, seq, steps, warmup):
    torch.set_num_threads(threads)
    c = CONFIGS[name]
    g = torch.Generator().manual_seed(1)
    specs = param_specs(c)
    W = {}
    for n, shape, _ in specs:
        t = torch.ones(shape) if n.endswith("norm.weight") else 0.02 * torch.randn(shape, generator=g)
        W[n] = t.requires_grad_(True)
    decay = [W[n] for n, _, d in specs if d]
    no_decay = [W[n] for n, _, d in specs if not d]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.01), dict(params=no_decay, weight_decay=0.0)],
                            lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    T = batch * seq
    tokens = torch.randint(0, c["vocab_size"], (T,), generator=g)
    pos = torch.arange(seq).repeat(batch)
    targets = torch.cat([tokens[1:], tokens[:1]])
    loss_mask = (pos != seq - 1).float()
    times, loss = [], None
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        logits = forward_batched(c, W, tokens.view(batch, seq))
        logp = torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
        loss = -(logp * loss_mask).sum() / loss_mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(W.values()), 1.0)
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    ms = sum(times) / len(times)
    nparams = sum(w.numel() for w in W.values())
    print(json.dumps(dict(suite="train", config=name, threads=threads, batch=batch, seq_len=seq, params=nparams,
                          tokens_per_s=T / (ms / 1e3), ms_per_step=ms, best_ms=min(times), steps=steps,
                          loss=float(loss), backend=f"torch {torch.__version__}",
                          peak_rss_mib=peak_rss_mib())), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="+", default=["a", "b"])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    for name in a.configs:
        for th in a.threads:
            bench(name, th, a.batch, a.seq, a.steps, a.warmup)


if __name__ == "__main__":
    main()
