#!/usr/bin/env python3
"""PyTorch twin of `go run ./cmd/bench train` and `go run ./cmd/bench rl`,
for comparison (run by hand).

  /usr/bin/python3 scripts/torch_bench_train.py [--threads 1 2] [--steps 3]
  /usr/bin/python3 scripts/torch_bench_train.py --shape qwen2.5-0.5b --threads 2 --batch 2 --seq 256
  /usr/bin/python3 scripts/torch_bench_train.py --objective rl --shape qwen2.5-0.5b ...

One full SFT step on random tokens: forward of the same models (configs a
and b of cmd/bench/train.go, or --shape, one of the real models of
cmd/bench/shapes.json with random weights, written with the layers of
torch_golden.py: grouped-query attention, Qwen2's q/k/v biases, Qwen3's
q_norm/k_norm, Llama 3's RoPE scaling, tied heads), masked token-mean
cross-entropy, backward, gradient clipping and AdamW; batch 8 x 256 tokens as
a (B, S) batch (equal lengths, so the same work as the Go engine's packed
batch). Prints the same JSON lines.

--objective rl is one RL update as `cmd/bench rl` runs it: the first --prompt
tokens of each sequence out of the loss, advantages +1 and -1 alternating,
rollout log-probs from the initial weights, the PPO clipped surrogate (clip
0.2, dual clip 3, token-mean), backward, clipping and AdamW (lr 1e-6).
peak_rss_mib is getrusage's ru_maxrss of this process: run one line per
process to read it for one line.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_golden import param_specs, rms_norm, rope_inv_freq, rotate_half  # noqa: E402

CONFIGS = {
    "a": dict(model_type="llama", vocab_size=512, hidden_size=128, num_hidden_layers=4,
              num_attention_heads=4, num_key_value_heads=4, head_dim=32, intermediate_size=512,
              rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False),
    "b": dict(model_type="llama", vocab_size=2048, hidden_size=256, num_hidden_layers=6,
              num_attention_heads=8, num_key_value_heads=8, head_dim=32, intermediate_size=1024,
              rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False),
}


def load_shapes():
    """The real model shapes of cmd/bench/shapes.json (published config.json
    values), with head_dim filled in as nn.ParseConfig fills it."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cmd", "bench", "shapes.json")
    with open(path) as f:
        shapes = json.load(f)
    for c in shapes.values():
        c.setdefault("num_key_value_heads", c["num_attention_heads"])
        if not c.get("head_dim"):
            c["head_dim"] = 128 if c["model_type"] == "qwen3" else c["hidden_size"] // c["num_attention_heads"]
    return shapes


SHAPES = load_shapes()


def model_config(name):
    return CONFIGS[name] if name in CONFIGS else SHAPES[name]


def lin(x, W, name):
    y = x @ W[name + ".weight"].t()
    if name + ".bias" in W:
        y = y + W[name + ".bias"]
    return y


def forward_batched(c, W, tokens):
    """Decoder forward on (B, S) tokens: the golden script's layers, batched
    so attention costs B*S^2, as the Go engine's per-sequence attention does."""
    H, KV, D = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps = c["rms_norm_eps"]
    B, S = tokens.shape
    emb = torch.arange(S).float()[:, None] * rope_inv_freq(c, D)[None, :]
    emb = torch.cat((emb, emb), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    causal = torch.ones(S, S, dtype=torch.bool).tril()
    x = W["model.embed_tokens.weight"][tokens]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = lin(h, W, p + "self_attn.q_proj").view(B, S, H, D)
        k = lin(h, W, p + "self_attn.k_proj").view(B, S, KV, D)
        v = lin(h, W, p + "self_attn.v_proj").view(B, S, KV, D).transpose(1, 2)
        if c["model_type"] == "qwen3":
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if KV != H:  # repeat_kv
            k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-1, -2)) / D ** 0.5
        a = torch.softmax(s.masked_fill(~causal, float("-inf")), dim=-1) @ v
        x = x + lin(a.transpose(1, 2).reshape(B, S, H * D), W, p + "self_attn.o_proj")
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, W, p + "mlp.gate_proj")
        u = lin(h, W, p + "mlp.up_proj")
        x = x + lin(torch.nn.functional.silu(g) * u, W, p + "mlp.down_proj")
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if c["tie_word_embeddings"] else W["lm_head.weight"]
    return (x @ head.t()).reshape(B * S, -1)


def peak_rss_mib():
    """Peak resident set size of this process (getrusage's ru_maxrss), in
    MiB; a high-water mark over the whole process, so run one line per
    process to read it for one of them."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def init_weights(c, g):
    """Random weights by Hugging Face name: normal(0, 0.02), norms 1."""
    W = {}
    for n, shape, _ in param_specs(c):
        W[n] = torch.ones(shape) if n.endswith("norm.weight") else 0.02 * torch.randn(shape, generator=g)
    return W


def bench(name, threads, batch, seq, steps, warmup):
    torch.set_num_threads(threads)
    c = model_config(name)
    g = torch.Generator().manual_seed(1)
    specs = param_specs(c)
    W = {n: t.requires_grad_(True) for n, t in init_weights(c, g).items()}
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


def bench_rl(name, threads, batch, seq, prompt, steps, warmup):
    """One RL update as cmd/bench rl times it (see the module comment)."""
    torch.set_num_threads(threads)
    c = model_config(name)
    g = torch.Generator().manual_seed(1)
    specs = param_specs(c)
    W = {n: t.requires_grad_(True) for n, t in init_weights(c, g).items()}
    decay = [W[n] for n, _, d in specs if d]
    no_decay = [W[n] for n, _, d in specs if not d]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.01), dict(params=no_decay, weight_decay=0.0)],
                            lr=1e-6, betas=(0.9, 0.999), eps=1e-8)
    tokens = torch.randint(0, c["vocab_size"], (batch, seq), generator=g)
    targets = torch.cat([tokens[:, 1:], tokens[:, :1]], dim=1).reshape(-1)
    # Row r predicts token r+1: in the loss when r+1 is past the prompt and
    # r is not a sequence's last row.
    pos = torch.arange(seq).repeat(batch)
    mask = ((pos + 1 >= prompt) & (pos != seq - 1)).float()
    adv = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(batch)]).repeat_interleave(seq)
    with torch.no_grad():
        old = torch.log_softmax(forward_batched(c, W, tokens), dim=-1).gather(1, targets[:, None])[:, 0]
    eps, dual = 0.2, 3.0
    times, loss = [], None
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        logits = forward_batched(c, W, tokens)
        logp = torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
        ratio = torch.exp(logp - old)
        surr = -torch.min(ratio * adv, ratio.clamp(1 - eps, 1 + eps) * adv)
        surr = torch.where(adv < 0, torch.minimum(surr, -dual * adv), surr)
        loss = (surr * mask).sum() / mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(W.values()), 1.0)
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    ms = sum(times) / len(times)
    print(json.dumps(dict(suite="rl", config=name, threads=threads, batch=batch, seq_len=seq, prompt_len=prompt,
                          params=sum(w.numel() for w in W.values()), tokens_per_s=batch * seq / (ms / 1e3),
                          ms_per_step=ms, best_ms=min(times), steps=steps, loss=float(loss),
                          backend=f"torch {torch.__version__}", peak_rss_mib=peak_rss_mib())), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="+", default=["a", "b"])
    ap.add_argument("--shape", choices=sorted(SHAPES), help="a real model's shape (cmd/bench/shapes.json), instead of --configs")
    ap.add_argument("--objective", choices=["sft", "rl"], default="sft")
    ap.add_argument("--prompt", type=int, default=64, help="rl: prompt tokens per sequence, not in the loss")
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    for name in [a.shape] if a.shape else a.configs:
        for th in a.threads:
            if a.objective == "rl":
                bench_rl(name, th, a.batch, a.seq, a.prompt, a.steps, a.warmup)
            else:
                bench(name, th, a.batch, a.seq, a.steps, a.warmup)


if __name__ == "__main__":
    main()
