#!/usr/bin/env python3
"""Golden fixture for nn's PyTorch comparison test (nn/golden_test.go).

Run by hand, never by tests:  /usr/bin/python3 scripts/torch_golden.py
Writes nn/testdata/golden.safetensors (F32, < 1 MB), and two tiny Hugging Face
folders with BF16 weights, nn/testdata/hf-qwen3 and nn/testdata/hf-llama3
(their logits under "hf-qwen3." and "hf-llama3." in golden.safetensors).

It builds Llama/Qwen2/Qwen3 decoder layers in plain torch (transformers is
not needed), exactly as Hugging Face's modeling_llama / modeling_qwen2 /
modeling_qwen3 compute them: RMSNorm, rotate-half RoPE (plain, or with
rope_scaling "linear" or "llama3" as modeling_rope_utils remaps the
frequencies), Qwen3's per-head q_norm/k_norm before RoPE, grouped-query
attention, SwiGLU MLP, tied or untied LM head. For each tiny config it takes seeded weights, runs a packed
batch of three sequences (attention never crosses a sequence; positions
restart at 0 in each), the token-mean masked cross-entropy, backward, global
gradient-norm clipping and one AdamW step (no decay on norms and biases), and
stores, per config `cK.`:
  w.NAME  initial weights       g.NAME  gradients (before clipping)
  u.NAME  weights after AdamW   logits  (T, V)
  tokens, targets, mask, lens   (as float32)
  loss, gradnorm                (scalars, shape [1])
  gen.prompt, gen.tokens        greedy generation: prompt ids and the
                                GEN_STEPS ids generated after it (as float32)
  gen.logits                    (GEN_STEPS, V) the logits each id was taken from
  rope.inv_freq                 (D/2) RoPE's inverse frequencies after scaling
and in the metadata: cK.config (config.json), cK.adamw (hyper-parameters).
"""
import json
import math
import os
import struct

import torch

torch.set_default_dtype(torch.float32)

CONFIGS = [
    # Llama, multi-head attention, untied head.
    dict(model_type="llama", vocab_size=32, hidden_size=16, num_hidden_layers=2,
         num_attention_heads=4, num_key_value_heads=4, intermediate_size=40,
         rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
         attention_bias=False, max_position_embeddings=64),
    # Qwen2: grouped-query attention, q/k/v biases, tied embeddings.
    dict(model_type="qwen2", vocab_size=32, hidden_size=16, num_hidden_layers=2,
         num_attention_heads=4, num_key_value_heads=2, intermediate_size=24,
         rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
         max_position_embeddings=64),
    # Llama with attention_bias (q/k/v/o) and head_dim != hidden/heads.
    dict(model_type="llama", vocab_size=24, hidden_size=16, num_hidden_layers=2,
         num_attention_heads=4, num_key_value_heads=1, head_dim=6, intermediate_size=20,
         rope_theta=500.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
         attention_bias=True, max_position_embeddings=64),
    # Qwen3: q_norm/k_norm, head_dim 8 != hidden/heads 4, GQA, tied embeddings.
    dict(model_type="qwen3", vocab_size=32, hidden_size=16, num_hidden_layers=2,
         num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=24,
         rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
         attention_bias=False, max_position_embeddings=64, rope_scaling=None,
         bos_token_id=1, eos_token_id=2),
    # Llama 3.x RoPE: theta 500 and head_dim 8 give inverse frequencies with
    # wavelengths 6.3 and 30 (kept: below 256/4), 140 (blended) and 664
    # (divided by 8: above 256/1), well clear of the band edges.
    dict(model_type="llama", vocab_size=32, hidden_size=16, num_hidden_layers=2,
         num_attention_heads=2, num_key_value_heads=1, head_dim=8, intermediate_size=20,
         rope_theta=500.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
         attention_bias=False, max_position_embeddings=64,
         rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                           high_freq_factor=4.0, original_max_position_embeddings=256),
         bos_token_id=0, eos_token_id=[2, 3]),
    # Qwen3 with attention_bias (q/k/v/o biases), untied head, linear RoPE.
    dict(model_type="qwen3", vocab_size=24, hidden_size=16, num_hidden_layers=2,
         num_attention_heads=4, num_key_value_heads=1, head_dim=6, intermediate_size=20,
         rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
         attention_bias=True, max_position_embeddings=64,
         rope_scaling=dict(rope_type="linear", factor=2.0)),
]
LENS = [7, 3, 5]
GEN_PROMPT_LEN, GEN_STEPS = 5, 12
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, clip=1.0)


def param_specs(c):
    """(name, shape, decay) in the order nn.New lays them out."""
    C, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    D = c.get("head_dim") or C // H
    F, V = c["intermediate_size"], c["vocab_size"]
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    o_bias = c["model_type"] != "qwen2" and c.get("attention_bias", False)
    qk_norm = c["model_type"] == "qwen3"
    s = [("model.embed_tokens.weight", (V, C), True)]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        s.append((p + "input_layernorm.weight", (C,), False))
        s += [(p + "self_attn.q_proj.weight", (H * D, C), True),
              (p + "self_attn.k_proj.weight", (KV * D, C), True),
              (p + "self_attn.v_proj.weight", (KV * D, C), True)]
        if qkv_bias:
            s += [(p + "self_attn.q_proj.bias", (H * D,), False),
                  (p + "self_attn.k_proj.bias", (KV * D,), False),
                  (p + "self_attn.v_proj.bias", (KV * D,), False)]
        s.append((p + "self_attn.o_proj.weight", (C, H * D), True))
        if o_bias:
            s.append((p + "self_attn.o_proj.bias", (C,), False))
        if qk_norm:
            s += [(p + "self_attn.q_norm.weight", (D,), False),
                  (p + "self_attn.k_norm.weight", (D,), False)]
        s += [(p + "post_attention_layernorm.weight", (C,), False),
              (p + "mlp.gate_proj.weight", (F, C), True),
              (p + "mlp.up_proj.weight", (F, C), True),
              (p + "mlp.down_proj.weight", (C, F), True)]
    s.append(("model.norm.weight", (C,), False))
    if not c["tie_word_embeddings"]:
        s.append(("lm_head.weight", (V, C), True))
    return s


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_inv_freq(c, D):
    """RoPE's inverse frequencies as modeling_rope_utils computes them (float32)."""
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    rs = c.get("rope_scaling")
    kind = (rs or {}).get("rope_type", (rs or {}).get("type", "default"))
    if kind == "default":
        return inv_freq
    if kind == "linear":
        return inv_freq / rs["factor"]
    assert kind == "llama3", kind
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / lo, old / hi
    wavelen = 2 * math.pi / inv_freq
    # Long wavelengths are divided by factor, short ones kept, the band
    # between blended linearly in old/wavelen.
    out = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - lo) / (hi - lo)
    blended = (1 - smooth) * out / factor + smooth * out
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, blended, out)


def rope(x, pos, c):
    # x is (T, heads, D); pos is (T).
    D = x.shape[-1]
    inv_freq = rope_inv_freq(c, D)
    freqs = pos[:, None].float() * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return x * emb.cos()[:, None, :] + rotate_half(x) * emb.sin()[:, None, :]


def forward(c, W, tokens, pos, mask_2d, lora=None):
    """lora, when given, maps a module name (model.layers.0.self_attn.q_proj)
    to its adapter (A, B, scale): the module computes PEFT's
    base(x) + (x A^T) B^T * scale (scripts/torch_lora.py)."""
    C, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    D = c.get("head_dim") or C // H
    T = tokens.shape[0]
    eps = c["rms_norm_eps"]

    def lin(x, name):
        y = x @ W[name + ".weight"].t()
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        if lora and name in lora:
            A, B, scale = lora[name]
            y = y + (x @ A.t()) @ B.t() * scale
        return y

    x = W["model.embed_tokens.weight"][tokens]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj").view(T, H, D)
        k = lin(h, p + "self_attn.k_proj").view(T, KV, D)
        if c["model_type"] == "qwen3":
            # One RMSNorm over each head's D values, weight shared by heads.
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q = rope(q, pos, c)
        k = rope(k, pos, c)
        v = lin(h, p + "self_attn.v_proj").view(T, KV, D)
        k = k.repeat_interleave(H // KV, dim=1)  # repeat_kv
        v = v.repeat_interleave(H // KV, dim=1)
        s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(D)
        s = s.masked_fill(~mask_2d[None], float("-inf"))
        a = torch.einsum("hts,shd->thd", torch.softmax(s, dim=-1), v).reshape(T, H * D)
        x = x + lin(a, p + "self_attn.o_proj")
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, p + "mlp.gate_proj")
        u = lin(h, p + "mlp.up_proj")
        x = x + lin(torch.nn.functional.silu(g) * u, p + "mlp.down_proj")
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if c["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.t()


def init_weights(c, g):
    """Random weights of config c drawn from g, by Hugging Face name."""
    W = {}
    for name, shape, _ in param_specs(c):
        if name.endswith("norm.weight"):
            t = 1 + 0.1 * torch.randn(shape, generator=g)
        elif name.endswith(".bias"):
            t = 0.1 * torch.randn(shape, generator=g)
        else:
            t = 0.2 * torch.randn(shape, generator=g)
        W[name] = t
    return W


def packed_batch(c, g):
    """Random tokens drawn from g for the sequences LENS packed in one row:
    tokens, positions, the block-causal attention mask, next-token targets
    (-1 past each sequence's end) and the loss mask, which drops the last
    token of each sequence and a few more to exercise the mask."""
    T = sum(LENS)
    tokens = torch.randint(0, c["vocab_size"], (T,), generator=g)
    pos, targets, mask, seq_id = [], [], [], []
    start = 0
    for si, n in enumerate(LENS):
        for j in range(n):
            pos.append(j)
            seq_id.append(si)
            last = j == n - 1
            targets.append(-1 if last else int(tokens[start + j + 1]))
            mask.append(0.0 if last or (start + j) % 4 == 1 else 1.0)
        start += n
    sid = torch.tensor(seq_id)
    causal = torch.arange(T)[:, None] >= torch.arange(T)[None, :]
    mask_2d = causal & (sid[:, None] == sid[None, :])
    return tokens, torch.tensor(pos), mask_2d, torch.tensor(targets), torch.tensor(mask)


def masked_loss(logits, targets_t, mask_t):
    """Token-mean cross-entropy over the tokens mask_t keeps."""
    logp = torch.log_softmax(logits, dim=-1).gather(1, targets_t.clamp(min=0)[:, None])[:, 0]
    return -(logp * mask_t).sum() / mask_t.sum()


def build_case(c, seed):
    g = torch.Generator().manual_seed(seed)
    specs = param_specs(c)
    W = {n: t.requires_grad_(True) for n, t in init_weights(c, g).items()}
    tokens, pos, mask_2d, targets_t, mask_t = packed_batch(c, g)

    logits = forward(c, W, tokens, pos, mask_2d)
    loss = masked_loss(logits, targets_t, mask_t)
    loss.backward()

    params = [W[n] for n, _, _ in specs]
    grads = {n: W[n].grad.detach().clone() for n, _, _ in specs}
    gradnorm = torch.nn.utils.clip_grad_norm_(params, ADAMW["clip"])
    decay = [W[n] for n, _, d in specs if d]
    no_decay = [W[n] for n, _, d in specs if not d]
    opt = torch.optim.AdamW(
        [dict(params=decay, weight_decay=ADAMW["weight_decay"]), dict(params=no_decay, weight_decay=0.0)],
        lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]), eps=ADAMW["eps"])
    init = {n: W[n].detach().clone() for n, _, _ in specs}
    opt.step()

    out = {}
    for n, _, _ in specs:
        out["w." + n] = init[n]
        out["g." + n] = grads[n]
        out["u." + n] = W[n].detach().clone()
    out["logits"] = logits.detach()
    out["tokens"] = tokens.float()
    out["targets"] = targets_t.float()
    out["mask"] = mask_t
    out["lens"] = torch.tensor(LENS).float()
    out["loss"] = loss.detach().reshape(1)
    out["gradnorm"] = gradnorm.detach().reshape(1)
    out["rope.inv_freq"] = rope_inv_freq(c, c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"])
    out.update(greedy(c, init, g))
    return out


def greedy(c, W, g):
    """Greedy generation from a random prompt, the whole sequence rerun for
    every new token (no cache): what a KV-cached decoder must reproduce."""
    ids = torch.randint(0, c["vocab_size"], (GEN_PROMPT_LEN,), generator=g).tolist()
    prompt, rows = list(ids), []
    with torch.no_grad():
        for _ in range(GEN_STEPS):
            T = len(ids)
            causal = torch.arange(T)[:, None] >= torch.arange(T)[None, :]
            logits = forward(c, W, torch.tensor(ids), torch.arange(T), causal)[-1]
            top = torch.topk(logits, 2).values
            # A near tie could flip under float32 rounding: refuse to write a
            # fixture that a correct implementation might fail.
            assert top[0] - top[1] > 1e-3, f"near tie in greedy generation: {top}"
            rows.append(logits)
            ids.append(int(torch.argmax(logits)))
    return {"gen.prompt": torch.tensor(prompt).float(), "gen.tokens": torch.tensor(ids[len(prompt):]).float(),
            "gen.logits": torch.stack(rows)}


def write_safetensors(path, tensors, meta):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if t.dtype == torch.bfloat16:
            dtype, b = "BF16", t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            dtype, b = "F32", t.float().numpy().astype("<f4").tobytes()
        header[name] = dict(dtype=dtype, shape=list(t.shape), data_offsets=[off, off + len(b)])
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# Hugging Face folders as a downloaded checkpoint has them: config.json with
# the keys the published Qwen3-0.6B / Llama-3.2-1B configs carry (the ones nn
# ignores included) and BF16 weights, at the sizes of CONFIGS[3] / CONFIGS[4].
FOLDERS = {
    "hf-qwen3": (3, dict(architectures=["Qwen3ForCausalLM"], attention_dropout=0.0, hidden_act="silu",
                         initializer_range=0.02, max_window_layers=2, sliding_window=None,
                         use_sliding_window=False, use_cache=True, torch_dtype="bfloat16",
                         transformers_version="4.51.0")),
    "hf-llama3": (4, dict(architectures=["LlamaForCausalLM"], attention_dropout=0.0, hidden_act="silu",
                          initializer_range=0.02, mlp_bias=False, pretraining_tp=1, use_cache=True,
                          torch_dtype="bfloat16", transformers_version="4.45.0.dev0")),
}


def build_folder(dirname, c, extra, seed):
    """Writes a BF16 folder and returns the F32 logits of the BF16 weights."""
    g = torch.Generator().manual_seed(seed)
    W = {}
    for name, shape, _ in param_specs(c):
        if name.endswith("norm.weight"):
            t = 1 + 0.1 * torch.randn(shape, generator=g)
        else:
            t = 0.2 * torch.randn(shape, generator=g)
        W[name] = t.to(torch.bfloat16)
    os.makedirs(dirname, exist_ok=True)
    write_safetensors(os.path.join(dirname, "model.safetensors"), W, {"format": "pt"})
    with open(os.path.join(dirname, "config.json"), "w") as f:
        json.dump(dict(c, **extra), f, indent=2, sort_keys=True)
        f.write("\n")
    T = sum(LENS)
    tokens = torch.randint(0, c["vocab_size"], (T,), generator=g)
    pos = torch.cat([torch.arange(n) for n in LENS])
    sid = torch.cat([torch.full((n,), i) for i, n in enumerate(LENS)])
    causal = torch.arange(T)[:, None] >= torch.arange(T)[None, :]
    W32 = {n: t.float() for n, t in W.items()}
    with torch.no_grad():
        logits = forward(c, W32, tokens, pos, causal & (sid[:, None] == sid[None, :]))
    return {"tokens": tokens.float(), "logits": logits}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "nn", "testdata", "golden.safetensors")
    tensors, meta = {}, {"cases": str(len(CONFIGS)), "torch": torch.__version__}
    for k, c in enumerate(CONFIGS):
        for name, t in build_case(c, seed=1000 + k).items():
            tensors[f"c{k}.{name}"] = t
        meta[f"c{k}.config"] = json.dumps(c)
        meta[f"c{k}.adamw"] = json.dumps(ADAMW)
    for i, (folder, (k, extra)) in enumerate(sorted(FOLDERS.items())):
        out = build_folder(os.path.join(root, "nn", "testdata", folder), CONFIGS[k], extra, seed=2000 + i)
        for name, t in out.items():
            tensors[f"{folder}.{name}"] = t
    write_safetensors(path, tensors, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
