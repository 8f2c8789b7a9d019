#!/usr/bin/env python3
"""Golden fixture for nn's LoRA comparison test (nn/lora_golden_test.go).

Run by hand, never by tests:  /usr/bin/python3 scripts/torch_lora.py
Writes nn/testdata/lora_golden.safetensors (F32, small).

The model is scripts/torch_golden.py's plain-torch decoder; each targeted
linear computes as PEFT's LoRA Linear does (peft/tuners/lora/layer.py,
Linear.forward): result = base_layer(x) + lora_B(lora_A(dropout(x))) * scaling
with scaling = lora_alpha / r and no dropout. A is drawn as PEFT's default
init (nn.init.kaiming_uniform_(a=sqrt(5))); B is drawn at random instead of
PEFT's zeros, so that A's gradient is not zero. The base is frozen
(requires_grad False). For each case `cK.` it stores:
  w.NAME  base weights           a.NAME  adapters (NAME ends lora_A/B.weight)
  g.NAME  adapter gradients      u.NAME  adapters after one AdamW step
  m.NAME  merged weight W + scale*B@A of each targeted linear
  logits, tokens, targets, mask, lens, loss, gradnorm
and in the metadata cK.config, cK.lora ({"rank", "alpha", "targets"} as
nn.LoRAConfig) and cK.adamw.
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_golden as tg  # noqa: E402

MODULES = dict(q="self_attn.q_proj", k="self_attn.k_proj", v="self_attn.v_proj", o="self_attn.o_proj",
               gate="mlp.gate_proj", up="mlp.up_proj", down="mlp.down_proj")
TARGET_ORDER = ["q", "k", "v", "o", "gate", "up", "down"]
# (index into torch_golden.CONFIGS, rank, alpha, targets)
CASES = [
    (1, 4, 8.0, ["q", "k", "v", "o", "gate", "up", "down"]),  # Qwen2: GQA, q/k/v bias, tied
    (3, 3, 5.0, ["q", "v", "down"]),                          # Qwen3: q_norm/k_norm
    (2, 2, 16.0, ["k", "o", "up"]),                           # Llama: q/k/v/o bias, head_dim 6
]
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, clip=1.0)


def build_case(c, rank, alpha, targets, seed):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    W = tg.init_weights(c, g)
    scale = alpha / rank
    lora, adapters = {}, []  # adapters: (name, tensor) in nn's layout order
    for i in range(c["num_hidden_layers"]):
        for t in TARGET_ORDER:
            if t not in targets:
                continue
            mod = f"model.layers.{i}.{MODULES[t]}"
            out_f, in_f = W[mod + ".weight"].shape
            A = torch.empty(rank, in_f)
            torch.nn.init.kaiming_uniform_(A, a=math.sqrt(5))  # PEFT's default
            assert A.abs().max() <= 1 / math.sqrt(in_f)
            B = 0.3 * torch.randn(out_f, rank, generator=g)
            A.requires_grad_(True)
            B.requires_grad_(True)
            lora[mod] = (A, B, scale)
            adapters += [(mod + ".lora_A.weight", A), (mod + ".lora_B.weight", B)]

    tokens, pos, mask_2d, targets_t, mask_t = tg.packed_batch(c, g)

    logits = tg.forward(c, W, tokens, pos, mask_2d, lora=lora)
    loss = tg.masked_loss(logits, targets_t, mask_t)
    loss.backward()

    params = [t for _, t in adapters]
    init = {n: t.detach().clone() for n, t in adapters}
    grads = {n: t.grad.detach().clone() for n, t in adapters}
    gradnorm = torch.nn.utils.clip_grad_norm_(params, ADAMW["clip"])
    # Hugging Face's Trainer decays every adapter matrix (no bias, no norm).
    opt = torch.optim.AdamW(params, lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                            eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
    opt.step()

    out = {}
    for n, t in W.items():
        out["w." + n] = t
    for n, t in adapters:
        out["a." + n] = init[n]
        out["g." + n] = grads[n]
        out["u." + n] = t.detach().clone()
    for mod in lora:
        A, B = init[mod + ".lora_A.weight"], init[mod + ".lora_B.weight"]
        out["m." + mod + ".weight"] = W[mod + ".weight"] + scale * (B @ A)
    out["logits"] = logits.detach()
    out["tokens"] = tokens.float()
    out["targets"] = targets_t.float()
    out["mask"] = mask_t
    out["lens"] = torch.tensor(tg.LENS).float()
    out["loss"] = loss.detach().reshape(1)
    out["gradnorm"] = gradnorm.detach().reshape(1)
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "nn", "testdata", "lora_golden.safetensors")
    tensors, meta = {}, {"cases": str(len(CASES)), "torch": torch.__version__}
    for k, (ci, rank, alpha, targets) in enumerate(CASES):
        c = tg.CONFIGS[ci]
        for name, t in build_case(c, rank, alpha, targets, seed=3000 + k).items():
            tensors[f"c{k}.{name}"] = t
        meta[f"c{k}.config"] = json.dumps(c)
        meta[f"c{k}.lora"] = json.dumps(dict(rank=rank, alpha=alpha, targets=targets))
        meta[f"c{k}.adamw"] = json.dumps(ADAMW)
    tg.write_safetensors(path, tensors, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
