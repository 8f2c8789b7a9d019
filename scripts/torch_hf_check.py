#!/usr/bin/env python3
"""Independent check of a Hugging Face folder written by nn/export.

Reads config.json and model.safetensors (or the shards of
model.safetensors.index.json) with plain Python and torch.frombuffer (the
`safetensors` and `transformers` packages are not installable here), runs a
Llama/Qwen2/Qwen3 forward written from Hugging Face's modeling_llama.py,
modeling_qwen2.py and modeling_qwen3.py in plain torch (RMSNorm, rotate-half
RoPE with Llama 3 / linear rope_scaling, Qwen3's per-head q_norm/k_norm,
grouped-query attention, SwiGLU, tied or untied head), and prints or
compares the log-probability of every next token. Nothing here imports
project code.

Two uses, both by hand (tests never run Python):

  # 1. The committed fixture of nn/export/torch_test.go:
  ARPO_EXPORT_FIXTURE_DIR=/tmp/fx go test -run TestExportMatchesTorch ./nn/export
  /usr/bin/python3 scripts/torch_hf_check.py --fixture /tmp/fx \
      --out nn/export/testdata/torch_logprobs.json

  # 2. Any exported folder against cmd/generate --score:
  echo '[4,5,14,6,7]' | go run ./cmd/generate --model RUN/hf --ids --score > scores.jsonl
  /usr/bin/python3 scripts/torch_hf_check.py --model RUN/hf --scores scores.jsonl
"""
import argparse
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    """name -> float32 tensor, from the raw header and bytes."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).to(torch.float32)
    return out


def read_folder(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(d, "model.safetensors.index.json")
    weights = {}
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        for s in shards:
            weights.update(read_safetensors(os.path.join(d, s)))
    else:
        weights = read_safetensors(os.path.join(d, "model.safetensors"))
    return cfg, weights


def scale_rope(cfg, inv_freq):
    """transformers' _compute_linear_scaling / _compute_llama3_parameters."""
    rs = cfg.get("rope_scaling")
    if not rs:
        return inv_freq
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return inv_freq / rs["factor"]
    assert kind == "llama3", kind
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    out = torch.where(wavelen > old / lo, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = ~(wavelen < old / hi) & ~(wavelen > old / lo)
    return torch.where(medium, smoothed, out)


def forward(cfg, W, ids):
    """Logits (T, V) of one sequence, in float32, as transformers computes."""
    assert cfg["model_type"] in ("llama", "qwen2", "qwen3"), cfg["model_type"]
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    D = cfg.get("head_dim") or (128 if cfg["model_type"] == "qwen3" else C // H)
    eps, theta = cfg.get("rms_norm_eps", 1e-6), cfg.get("rope_theta", 10000.0)
    T = len(ids)

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    inv_freq = scale_rope(cfg, 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D)))
    ang = torch.outer(torch.arange(T).float(), inv_freq)
    emb = torch.cat([ang, ang], dim=-1)
    cos, sin = emb.cos(), emb.sin()

    def rope(x):  # (heads, T, D)
        x1, x2 = x[..., : D // 2], x[..., D // 2:]
        return x * cos + torch.cat([-x2, x1], dim=-1) * sin

    def linear(x, name):
        y = x @ W[name + ".weight"].T
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        return y

    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    causal = torch.full((T, T), float("-inf")).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = linear(h, p + "self_attn.q_proj").view(T, H, D).transpose(0, 1)
        k = linear(h, p + "self_attn.k_proj").view(T, KV, D).transpose(0, 1)
        v = linear(h, p + "self_attn.v_proj").view(T, KV, D).transpose(0, 1)
        if p + "self_attn.q_norm.weight" in W:  # Qwen3: RMSNorm of each head before RoPE
            q, k = rms(q, W[p + "self_attn.q_norm.weight"]), rms(k, W[p + "self_attn.k_norm.weight"])
        q, k = rope(q), rope(k)
        k, v = k.repeat_interleave(H // KV, 0), v.repeat_interleave(H // KV, 0)
        s = q @ k.transpose(-1, -2) / math.sqrt(D) + causal
        a = (s.softmax(-1) @ v).transpose(0, 1).reshape(T, H * D)
        x = x + linear(a, p + "self_attn.o_proj")
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        g = torch.nn.functional.silu(linear(h, p + "mlp.gate_proj")) * linear(h, p + "mlp.up_proj")
        x = x + linear(g, p + "mlp.down_proj")
    x = rms(x, W["model.norm.weight"])
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return x @ head.T


def next_logprobs(folder, ids):
    cfg, W = read_folder(folder)
    logp = forward(cfg, W, ids).double().log_softmax(-1)
    return [logp[i, ids[i + 1]].item() for i in range(len(ids) - 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture", help="folder written by TestExportMatchesTorch (cases.json + one folder per case)")
    ap.add_argument("--out", help="with --fixture: write the log-probs here")
    ap.add_argument("--model", help="an exported folder to compare with --scores")
    ap.add_argument("--scores", help="JSON lines of cmd/generate --score --ids for the same folder")
    ap.add_argument("--tol", type=float, default=1e-5, help="largest allowed |log-prob difference|")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.fixture:
        with open(os.path.join(a.fixture, "cases.json")) as f:
            cases = json.load(f)
        for c in cases:
            c["logprobs"] = next_logprobs(os.path.join(a.fixture, c["name"]), c["ids"])
            print(f"{c['name']}: {len(c['ids'])} tokens, mean log-prob {sum(c['logprobs']) / len(c['logprobs']):.4f}")
        if a.out:
            with open(a.out, "w") as f:
                json.dump(cases, f, indent=1)
                f.write("\n")
        return 0
    if not (a.model and a.scores):
        ap.error("give --fixture, or --model and --scores")
    with open(a.scores) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    ids = [r["id"] for r in lines]
    want = next_logprobs(a.model, ids)
    worst = max(abs(w - r["logprob"]) for w, r in zip(want, lines[1:]))
    print(f"{a.model}: {len(ids)} tokens, largest |log-prob difference| to torch {worst:.3g} (tolerance {a.tol})")
    return 0 if worst <= a.tol else 1


if __name__ == "__main__":
    sys.exit(main())
