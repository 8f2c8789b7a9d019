#!/usr/bin/env python3
"""Fixture for nn's mixed-precision test (nn/bf16_test.go).

Run by hand, never by tests:  /usr/bin/python3 scripts/torch_bf16.py
Writes nn/testdata/bf16.safetensors (F32).

One forward and backward of three tiny configs of scripts/torch_golden.py
(the same weights, tokens and masked token-mean cross-entropy), with every
matrix product that involves a linear weight (q, k, v, o, gate, up, down
and the LM head, tied or not) in bf16 as nn.Model.SetPrecision(nn.BF16)
runs it: the operands of the forward y = x W^T, of the input gradient
dx = dy W and of the weight gradient dW = dy^T x are each rounded to bf16
(round to nearest even: torch's .bfloat16()), the products summed in
float32. Everything else (embedding, RMSNorm, RoPE, attention, softmax,
loss) is float32. Autograd through .bfloat16().float() would round the
gradients after the product instead of dy before it, so the rounding lives
in a custom autograd function.

Stored per config `cK.`: w.NAME (initial weights), g.NAME (gradients),
logits (T, V), loss, tokens, targets, mask, lens; metadata cK.config.
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_golden as tg  # noqa: E402

CASES = [0, 1, 3]  # Llama untied; Qwen2 biases + tied; Qwen3 q/k norms + tied


def bf(t):
    return t.bfloat16().float()


class BF16MatMulT(torch.autograd.Function):
    """y = x W^T with bf16 operands in the forward and in both gradients."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return bf(x) @ bf(w).t()

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        return bf(dy) @ bf(w), bf(dy).t() @ bf(x)


def forward(c, W, tokens, pos, mask_2d):
    """torch_golden.forward with the linear products in bf16."""
    C, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    D = c.get("head_dim") or C // H
    T = tokens.shape[0]
    eps = c["rms_norm_eps"]

    def lin(x, name):
        y = BF16MatMulT.apply(x, W[name + ".weight"])
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        return y

    x = W["model.embed_tokens.weight"][tokens]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = tg.rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj").view(T, H, D)
        k = lin(h, p + "self_attn.k_proj").view(T, KV, D)
        if c["model_type"] == "qwen3":
            q = tg.rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = tg.rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q = tg.rope(q, pos, c)
        k = tg.rope(k, pos, c)
        v = lin(h, p + "self_attn.v_proj").view(T, KV, D)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(D)
        s = s.masked_fill(~mask_2d[None], float("-inf"))
        a = torch.einsum("hts,shd->thd", torch.softmax(s, dim=-1), v).reshape(T, H * D)
        x = x + lin(a, p + "self_attn.o_proj")
        h = tg.rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, p + "mlp.gate_proj")
        u = lin(h, p + "mlp.up_proj")
        x = x + lin(torch.nn.functional.silu(g) * u, p + "mlp.down_proj")
    x = tg.rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if c["tie_word_embeddings"] else W["lm_head.weight"]
    return BF16MatMulT.apply(x, head)


def build_case(c, seed):
    """torch_golden.build_case's weights and batch, forward and backward only."""
    g = torch.Generator().manual_seed(seed)
    specs = tg.param_specs(c)
    W = {n: t.requires_grad_(True) for n, t in tg.init_weights(c, g).items()}
    tokens, pos, mask_2d, targets_t, mask_t = tg.packed_batch(c, g)

    logits = forward(c, W, tokens, pos, mask_2d)
    loss = tg.masked_loss(logits, targets_t, mask_t)
    loss.backward()

    out = {}
    for n, _, _ in specs:
        out["w." + n] = W[n].detach().clone()
        out["g." + n] = W[n].grad.detach().clone()
    out["logits"] = logits.detach()
    out["tokens"] = tokens.float()
    out["targets"] = targets_t.float()
    out["mask"] = mask_t
    out["lens"] = torch.tensor(tg.LENS).float()
    out["loss"] = loss.detach().reshape(1)
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "nn", "testdata", "bf16.safetensors")
    tensors, meta = {}, {"cases": str(len(CASES)), "torch": torch.__version__}
    for i, k in enumerate(CASES):
        c = tg.CONFIGS[k]
        for name, t in build_case(c, seed=1000 + k).items():
            tensors[f"c{i}.{name}"] = t
        meta[f"c{i}.config"] = json.dumps(c)
    tg.write_safetensors(path, tensors, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
