#!/usr/bin/env python3
"""PyTorch twin of `go run ./cmd/bench decode`, for comparison (run by hand).

  /usr/bin/python3 scripts/torch_bench_decode.py [--threads 1 2] [--batch 1 16]
  /usr/bin/python3 scripts/torch_bench_decode.py --shape qwen2.5-0.5b --threads 2 --batch 1 16 64 --new 32
  /usr/bin/python3 scripts/torch_bench_decode.py --prefill-only --shape qwen2.5-0.5b --prompt 512

Generation with a KV cache in the same models (configs a and b of
cmd/bench/train.go, or --shape, a real model of cmd/bench/shapes.json, with
the layers of torch_golden.py, random init): a 16-token random prompt per
sequence is prefilled in one forward, then 256 tokens are sampled one step at
a time at temperature 1 (softmax + multinomial), each step feeding the
batch's last tokens and attending over a preallocated (B, KV, T, D) cache.
Under torch.inference_mode, one untimed generation first. Prints the same
JSON lines as the Go suite, with "suite": "decode-torch"; tokens_per_s counts
generated tokens over the whole generation, prefill included.
--prefill-only times the prompt's forward alone ("suite": "prefill-torch",
tokens_per_s = prompt tokens of the batch / time), as `cmd/bench prefill`.
peak_rss_mib is getrusage's ru_maxrss of this process: run one line per
process to read it for one line.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench_train import SHAPES, init_weights, lin, model_config, peak_rss_mib  # noqa: E402
from torch_golden import rms_norm, rope_inv_freq, rotate_half  # noqa: E402


class Llama:
    """Llama/Qwen2/Qwen3 forward over a KV cache; weights W by Hugging Face
    name."""

    def __init__(self, c, W, batch, max_len):
        self.c, self.W = c, W
        L, KV, D = c["num_hidden_layers"], c["num_key_value_heads"], c["head_dim"]
        emb = torch.arange(max_len).float()[:, None] * rope_inv_freq(c, D)[None, :]
        emb = torch.cat((emb, emb), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()  # (max_len, D)
        self.k = torch.zeros(L, batch, KV, max_len, D)
        self.v = torch.zeros(L, batch, KV, max_len, D)
        self.w = [{n: W[f"model.layers.{i}.{n}"].t().contiguous() for n in (
            "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
            "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight")}
            for i in range(L)]
        for i, w in enumerate(self.w):
            for n in ("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias", "self_attn.o_proj.bias"):
                if f"model.layers.{i}.{n}" in W:
                    w[n] = W[f"model.layers.{i}.{n}"]
        head = W["model.embed_tokens.weight"] if c["tie_word_embeddings"] else W["lm_head.weight"]
        self.lm_head = head.t().contiguous()

    def forward(self, tokens, start):
        """tokens (B, S) at positions start..start+S-1; returns the last
        position's logits (B, V) and appends the keys and values to the cache."""
        c, W = self.c, self.W
        H, KV, D, eps = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["rms_norm_eps"]
        B, S = tokens.shape
        end = start + S
        cos, sin = self.cos[start:end][None, None], self.sin[start:end][None, None]
        x = W["model.embed_tokens.weight"][tokens]
        mask = None
        if S > 1:  # causal within the new tokens; everything before is visible
            mask = torch.ones(S, end, dtype=torch.bool).tril(diagonal=start)
        def proj(h, w, n):
            y = h @ w[n + ".weight"]
            return y + w[n + ".bias"] if n + ".bias" in w else y

        for i, w in enumerate(self.w):
            p = f"model.layers.{i}."
            h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
            q = proj(h, w, "self_attn.q_proj").view(B, S, H, D)
            k = proj(h, w, "self_attn.k_proj").view(B, S, KV, D)
            v = proj(h, w, "self_attn.v_proj").view(B, S, KV, D).transpose(1, 2)
            if c["model_type"] == "qwen3":
                q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
                k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
            q, k = q.transpose(1, 2), k.transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            self.k[i, :, :, start:end] = k
            self.v[i, :, :, start:end] = v
            # Grouped-query attention: each group of H/KV query heads reads one
            # cached head, viewed as (B, KV, H/KV*S, D) without copying the cache.
            qg = q.reshape(B, KV, H // KV * S, D)
            s = (qg @ self.k[i, :, :, :end].transpose(-1, -2)) / D ** 0.5  # (B, KV, H/KV*S, end)
            if mask is not None:
                s = s.view(B, KV, H // KV, S, end).masked_fill(~mask, float("-inf")).view(B, KV, H // KV * S, end)
            a = (torch.softmax(s, dim=-1) @ self.v[i, :, :, :end]).view(B, H, S, D)
            x = x + proj(a.transpose(1, 2).reshape(B, S, H * D), w, "self_attn.o_proj")
            h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
            g = h @ w["mlp.gate_proj.weight"]
            u = h @ w["mlp.up_proj.weight"]
            x = x + (torch.nn.functional.silu(g) * u) @ w["mlp.down_proj.weight"]
        x = rms_norm(x[:, -1], W["model.norm.weight"], eps)
        return x @ self.lm_head


def generate(model, prompts, new_tokens, gen):
    """Samples new_tokens tokens after prompts (B, P) at temperature 1;
    returns the time of the prefill and of the whole generation."""
    t0 = time.perf_counter()
    logits = model.forward(prompts, 0)
    prefill = time.perf_counter() - t0
    pos = prompts.shape[1]
    out = []
    for i in range(new_tokens):
        tok = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen)  # (B, 1)
        out.append(tok)
        if i + 1 < new_tokens:
            logits = model.forward(tok, pos)
            pos += 1
    return prefill, time.perf_counter() - t0


def bench_prefill(name, threads, batch, prompt_len, reps):
    torch.set_num_threads(threads)
    c = model_config(name)
    W = init_weights(c, torch.Generator().manual_seed(1))
    prompts = torch.randint(0, c["vocab_size"], (batch, prompt_len), generator=torch.Generator().manual_seed(2))
    model = Llama(c, W, batch, prompt_len)
    times = []
    with torch.inference_mode():
        for rep in range(reps + 1):
            t0 = time.perf_counter()
            model.forward(prompts, 0)
            if rep > 0:
                times.append(time.perf_counter() - t0)
    mean = sum(times) / len(times)
    print(json.dumps(dict(
        suite="prefill-torch", config=name, batch=batch, threads=threads, prompt_len=prompt_len,
        tokens_per_s=batch * prompt_len / mean, best_tokens_per_s=batch * prompt_len / min(times), ms=mean * 1e3,
        reps=reps, params=sum(w.numel() for w in W.values()), backend=f"torch {torch.__version__}",
        peak_rss_mib=peak_rss_mib())), flush=True)


def bench(name, threads, batch, prompt_len, new_tokens, reps):
    torch.set_num_threads(threads)
    c = model_config(name)
    g = torch.Generator().manual_seed(1)
    W = init_weights(c, g)
    prompts = torch.randint(0, c["vocab_size"], (batch, prompt_len), generator=g)
    model = Llama(c, W, batch, prompt_len + new_tokens)
    totals, prefills = [], []
    with torch.inference_mode():
        for rep in range(reps + 1):
            prefill, total = generate(model, prompts, new_tokens, torch.Generator().manual_seed(rep))
            if rep > 0:
                totals.append(total)
                prefills.append(prefill)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    gen_tokens = batch * new_tokens
    print(json.dumps(dict(
        suite="decode-torch", config=name, batch=batch, threads=threads, prompt_len=prompt_len,
        new_tokens=new_tokens, tokens_per_s=gen_tokens / mean(totals), best_tokens_per_s=gen_tokens / min(totals),
        prefill_ms=mean(prefills) * 1e3, ms_per_step=(mean(totals) - mean(prefills)) * 1e3 / new_tokens,
        reps=reps, params=sum(w.numel() for w in W.values()), backend=f"torch {torch.__version__}",
        peak_rss_mib=peak_rss_mib())), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="+", default=["a", "b"])
    ap.add_argument("--shape", choices=sorted(SHAPES), help="a real model's shape (cmd/bench/shapes.json), instead of --configs")
    ap.add_argument("--prefill-only", action="store_true", help="time the prompt's forward alone")
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--batch", nargs="+", type=int, default=[1, 16])
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--new", type=int, default=256)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    for name in [a.shape] if a.shape else a.configs:
        for th in a.threads:
            for b in a.batch:
                if a.prefill_only:
                    bench_prefill(name, th, b, a.prompt, a.reps)
                else:
                    bench(name, th, b, a.prompt, a.new, a.reps)


if __name__ == "__main__":
    main()
