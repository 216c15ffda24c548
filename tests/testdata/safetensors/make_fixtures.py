#!/usr/bin/env python3
"""Writes the small safetensors fixtures used by tests/safetensors_test.cc.

Plain python3 (struct + json), no pip packages. The layout rules are those of the Hugging Face
`safetensors` library (Rust core, used by `safetensors.torch.save_file`):
  * tensors ordered by decreasing dtype alignment rank (U64 > I64 > F64 > F32 > U32 > I32 > BF16 >
    F16 > U16 > I16 > F8_E4M3 > F8_E5M2 > I8 > U8 > BOOL), then by name;
  * header = compact JSON (serde_json), "__metadata__" first, then the tensors in data order, each
    entry's keys in the order dtype, shape, data_offsets;
  * header padded with spaces to a multiple of 8 bytes; u64 little-endian length in front.

Run from anywhere:  python3 tests/testdata/safetensors/make_fixtures.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

RANK = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32",
        "F32", "F64", "I64", "U64"]


def bf16_bytes(values):
    out = b""
    for v in values:
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        assert bits & 0xFFFF == 0, f"{v} is not exact in bfloat16"
        out += struct.pack("<H", bits >> 16)
    return out


def encode(dtype, values):
    if dtype == "F32":
        return struct.pack(f"<{len(values)}f", *values)
    if dtype == "F16":
        return struct.pack(f"<{len(values)}e", *values)
    if dtype == "BF16":
        return bf16_bytes(values)
    if dtype == "I64":
        return struct.pack(f"<{len(values)}q", *values)
    if dtype in ("BOOL", "U8"):
        return bytes(values)
    raise ValueError(dtype)


def hf_layout(tensors, metadata):
    """tensors: {name: (dtype, shape, values)} -> bytes as safetensors.torch.save_file writes."""
    order = sorted(tensors, key=lambda n: (-RANK.index(tensors[n][0]), n))
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name in order:
        dtype, shape, values = tensors[name]
        blob = encode(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def legacy_unpadded():
    """An early-format file: name-ordered data, pretty separators, no padding (so the F32 data is
    unaligned), no metadata."""
    a = bytes([7, 8, 9])                       # "a": U8 [3]
    b = struct.pack("<2f", 0.25, -1.0)         # "b": F32 [2]
    header = {"a": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [3, 11]}}
    text = json.dumps(header).encode()         # ", " and ": " separators
    return struct.pack("<Q", len(text)) + text + a + b


# The values tests/safetensors_test.cc checks.
HF_TENSORS = {
    "model.embed_tokens.weight": ("F32", [2, 3], [1.0, -2.5, 0.5, 3.0, -0.0, 65504.0]),
    "model.norm.weight": ("BF16", [3], [1.0, -2.5, 0.15625]),
    "lm_head.weight": ("F16", [2, 2], [1.0, -2.5, 65504.0, 2.0 ** -24]),
    "position_ids": ("I64", [1, 4], [0, 1, 2, 3]),
    "attention_mask": ("BOOL", [4], [1, 0, 1, 1]),
}

if __name__ == "__main__":
    with open(os.path.join(HERE, "hf_layout.safetensors"), "wb") as f:
        f.write(hf_layout(HF_TENSORS, {"format": "pt"}))
    with open(os.path.join(HERE, "legacy_unpadded.safetensors"), "wb") as f:
        f.write(legacy_unpadded())
