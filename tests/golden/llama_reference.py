#!/usr/bin/python3
"""Independent reference for the Llama decoder's golden-numerics test (tests/llama_test.cc).

A from-scratch Llama forward in float64, written without looking at core/model/llama.cc's structure:
rotary embeddings as explicit 2-D rotations of the pairs (i, i + D/2) (equivalent to the Hugging
Face rotate_half convention), attention head by head with an explicit causal loop, Llama-3 rope
scaling per frequency in plain Python floats. Each sequence is run ALONE, unpadded; the C++ test
feeds the same sequences as one left-padded batch and must reproduce these logits at every real
position, so the reference also pins down the padding/position-id behaviour.

Outputs (committed; regenerate only when the fixture itself must change):
  tests/testdata/golden/tied/{config.json,model.safetensors}     tie_word_embeddings, plain RoPE
  tests/testdata/golden/untied/{config.json,model.safetensors}   separate lm_head, plain RoPE
  tests/testdata/golden/untied_llama3/config.json                untied weights + llama3 rope_scaling
  tests/golden/llama_expected.json                               token sequences + expected logits

The safetensors files are written by hand (struct + json), not with the safetensors package, so
the fixture does not depend on the code under test nor on a writer we also use.

Regenerate (Debian's python3-torch, not a pyenv/venv python):
  apt-get install -y python3-torch python3-numpy
  /usr/bin/python3 tests/golden/llama_reference.py        # from the repository root
"""

import json
import math
import os
import struct

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIR = os.path.join(ROOT, "tests", "testdata", "golden")
EXPECTED = os.path.join(ROOT, "tests", "golden", "llama_expected.json")

BASE = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 20,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "hidden_act": "silu",
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "max_position_embeddings": 128,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
    "attention_bias": False,
    "mlp_bias": False,
    "torch_dtype": "float32",
}

VARIANTS = {
    "tied": dict(BASE, tie_word_embeddings=True),
    "untied": dict(BASE, tie_word_embeddings=False),
    # Same weights as "untied". With head_dim 16, theta 20000 and an original context of 64, the
    # 8 frequencies fall in all three bands of the Llama-3 rule (kept, interpolated, divided).
    "untied_llama3": dict(
        BASE,
        tie_word_embeddings=False,
        rope_theta=20000.0,
        rope_scaling={
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 64,
        },
    ),
}
WEIGHTS_OF = {"tied": "tied", "untied": "untied", "untied_llama3": "untied"}

# Token sequences (ids 1..19; 0 is the pad id). The C++ test runs them as one left-padded batch.
SEQUENCES = [
    [1, 5, 9, 3, 17, 4, 4, 12, 19, 7, 8, 15, 6],
    [1, 11, 2, 13, 14, 3],
    [1, 18, 16, 10, 5, 5, 9, 4, 2],
]


def make_weights(cfg, seed):
    """Seeded float32 weights with magnitudes that give O(1) logits."""
    g = torch.Generator().manual_seed(seed)
    c, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    h, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = c // h

    def randn(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * std).contiguous()

    w = {"model.embed_tokens.weight": randn(v, c, std=0.3)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = 1.0 + randn(c, std=0.1)
        w[p + "self_attn.q_proj.weight"] = randn(h * d, c, std=0.25)
        w[p + "self_attn.k_proj.weight"] = randn(kv * d, c, std=0.25)
        w[p + "self_attn.v_proj.weight"] = randn(kv * d, c, std=0.15)
        w[p + "self_attn.o_proj.weight"] = randn(c, h * d, std=0.15)
        w[p + "post_attention_layernorm.weight"] = 1.0 + randn(c, std=0.1)
        w[p + "mlp.gate_proj.weight"] = randn(i, c, std=0.15)
        w[p + "mlp.up_proj.weight"] = randn(i, c, std=0.15)
        w[p + "mlp.down_proj.weight"] = randn(c, i, std=0.1)
    w["model.norm.weight"] = 1.0 + randn(c, std=0.1)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = randn(v, c, std=0.2)
    return w


def write_safetensors(path, tensors):
    """Minimal safetensors writer: u64 header length, JSON header padded to 8, raw little-endian."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        assert t.dtype == torch.float32 and t.is_contiguous()
        raw = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def inverse_frequencies(cfg):
    d = cfg["hidden_size"] // cfg["num_attention_heads"]
    theta = cfg["rope_theta"]
    freqs = [theta ** (-(2.0 * i) / d) for i in range(d // 2)]
    rs = cfg["rope_scaling"]
    if rs is None:
        return freqs
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    out = []
    for f in freqs:
        wavelength = 2.0 * math.pi / f
        if wavelength < old / high:  # high frequency: untouched
            out.append(f)
        elif wavelength > old / low:  # low frequency: divided by the factor
            out.append(f / factor)
        else:  # in between: interpolate in 1/wavelength
            smooth = (old / wavelength - low) / (high - low)
            out.append((1.0 - smooth) * f / factor + smooth * f)
    return out


def rms_norm(x, weight, eps):
    return weight * (x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps))


def rotate(x, freqs):
    """x (T, heads, D): rotate each pair (i, i + D/2) at position t by angle t * freqs[i]."""
    t_len, _, d = x.shape
    half = d // 2
    out = x.clone()
    for t in range(t_len):
        for i in range(half):
            a = t * freqs[i]
            c, s = math.cos(a), math.sin(a)
            x1 = x[t, :, i]
            x2 = x[t, :, i + half]
            out[t, :, i] = x1 * c - x2 * s
            out[t, :, i + half] = x2 * c + x1 * s
    return out


def reference_logits(cfg, weights, tokens):
    w = {k: v.to(torch.float64) for k, v in weights.items()}
    c, h, kv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = c // h
    eps = cfg["rms_norm_eps"]
    freqs = inverse_frequencies(cfg)
    t_len = len(tokens)
    x = w["model.embed_tokens.weight"][torch.tensor(tokens)]  # (T, C)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = rotate((a @ w[p + "self_attn.q_proj.weight"].T).view(t_len, h, d), freqs)
        k = rotate((a @ w[p + "self_attn.k_proj.weight"].T).view(t_len, kv, d), freqs)
        v = (a @ w[p + "self_attn.v_proj.weight"].T).view(t_len, kv, d)
        heads = []
        for head in range(h):
            g = head // (h // kv)  # the key/value head this query head shares
            out = torch.zeros(t_len, d, dtype=torch.float64)
            for t in range(t_len):
                scores = torch.tensor([float(q[t, head] @ k[j, g]) / math.sqrt(d) for j in range(t + 1)],
                                      dtype=torch.float64)
                p_att = torch.exp(scores - scores.max())
                p_att = p_att / p_att.sum()
                out[t] = (p_att.unsqueeze(1) * v[: t + 1, g]).sum(0)
            heads.append(out)
        attn = torch.cat(heads, dim=1)  # (T, H*D), head-major like the o_proj input
        x = x + attn @ w[p + "self_attn.o_proj.weight"].T
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = m @ w[p + "mlp.gate_proj.weight"].T
        up = m @ w[p + "mlp.up_proj.weight"].T
        x = x + ((gate / (1.0 + torch.exp(-gate))) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["lm_head.weight"] if "lm_head.weight" in w else w["model.embed_tokens.weight"]
    return (x @ head.T).tolist()  # (T, V)


def main():
    os.makedirs(DATA_DIR, exist_ok=True)
    weights = {
        "tied": make_weights(VARIANTS["tied"], seed=20240601),
        "untied": make_weights(VARIANTS["untied"], seed=20240602),
    }
    for name in ("tied", "untied"):
        os.makedirs(os.path.join(DATA_DIR, name), exist_ok=True)
        write_safetensors(os.path.join(DATA_DIR, name, "model.safetensors"), weights[name])
    expected = {
        "comment": "Generated by tests/golden/llama_reference.py (float64 reference, each sequence alone).",
        "tolerance_abs": 1e-4,
        "pad_token_id": 0,
        "sequences": SEQUENCES,
        "variants": {},
    }
    for name, cfg in VARIANTS.items():
        os.makedirs(os.path.join(DATA_DIR, name), exist_ok=True)
        with open(os.path.join(DATA_DIR, name, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        w = weights[WEIGHTS_OF[name]]
        expected["variants"][name] = {
            "config": f"golden/{name}/config.json",
            "weights": f"golden/{WEIGHTS_OF[name]}/model.safetensors",
            "logits": [reference_logits(cfg, w, seq) for seq in SEQUENCES],
        }
    with open(EXPECTED, "w") as f:
        json.dump(expected, f)
        f.write("\n")
    print("wrote", EXPECTED)


if __name__ == "__main__":
    main()
