#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/CMakeLists.txt) into OUT/<target>/.

Seeds come from the ARC data beside the checkout (a few small task files, and Kaggle challenges,
solutions and submission files built from them) and from the repository (models/default's
config.json and tokenizer.json, the golden configs, the safetensors fixtures), plus small files
made here: safetensors files of every float dtype, a byte-level BPE tokenizer.json with the
Llama-3 pre-tokenizer, and SolveRequest messages encoded with protoc. Deterministic; standard
library only.

    fuzz/seeds.py --source . --data ../shared/data/arc-agi-1 --out build-fuzz/seeds
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys


def write(out, target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def small_tasks(data_dir, count):
    """The `count` smallest task files of the training set (by bytes), as (id, task)."""
    training = os.path.join(data_dir, "training")
    if not os.path.isdir(training):
        return []
    files = sorted(os.listdir(training), key=lambda f: (os.path.getsize(os.path.join(training, f)), f))
    tasks = []
    for f in files[:count]:
        with open(os.path.join(training, f)) as fh:
            tasks.append((f[:-5], json.load(fh)))
    return tasks


def task_seeds(out, source, tasks):
    for tid, task in tasks:
        write(out, "fuzz_task_json", tid + ".json", json.dumps(task))
    with open(os.path.join(source, "examples", "flip.json")) as fh:
        write(out, "fuzz_task_json", "flip.json", fh.read())
    write(out, "fuzz_task_json", "minimal.json",
          '{"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]]}]}')


def kaggle_seeds(out, tasks):
    challenges, solutions, submission = {}, {}, {}
    for tid, task in tasks:
        challenges[tid] = {"train": task["train"], "test": [{"input": t["input"]} for t in task["test"]]}
        solutions[tid] = [t["output"] for t in task["test"]]
        submission[tid] = [{"attempt_1": t["output"], "attempt_2": t["input"]} for t in task["test"]]
    write(out, "fuzz_kaggle", "challenges.json", json.dumps(challenges))
    write(out, "fuzz_kaggle", "solutions.json", json.dumps(solutions))
    write(out, "fuzz_kaggle", "submission.json", json.dumps(submission))
    first = tasks[:2]
    write(out, "fuzz_kaggle", "challenges_small.json", json.dumps({t: challenges[t] for t, _ in first}))
    write(out, "fuzz_kaggle", "solutions_small.json", json.dumps({t: solutions[t] for t, _ in first}))
    write(out, "fuzz_kaggle", "submission_small.json", json.dumps({t: submission[t] for t, _ in first}))


def safetensors_file(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw bytes)] in the reference layout's order."""
    header, offset, data = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text.encode() + data


def safetensors_seeds(out, source):
    fixtures = os.path.join(source, "tests", "testdata", "safetensors")
    for f in sorted(os.listdir(fixtures)):
        if f.endswith(".safetensors"):
            shutil.copy(os.path.join(fixtures, f), os.path.join(out, "fuzz_safetensors", f))
    f32 = struct.pack("<6f", 0.0, -1.5, 2.0, 3.25, 1e-3, 65504.0)
    write(out, "fuzz_safetensors", "floats.safetensors", safetensors_file([
        ("w.f64", "F64", [2], struct.pack("<2d", 1.0, -2.0)),
        ("w.f32", "F32", [2, 3], f32),
        ("w.bf16", "BF16", [3], struct.pack("<3H", 0x3f80, 0xbf80, 0x7f80)),
        ("w.f16", "F16", [1, 3], struct.pack("<3H", 0x3c00, 0xbc00, 0x7c00)),
        ("ids", "I64", [2], struct.pack("<2q", 7, -7)),
        ("mask", "BOOL", [2], b"\x01\x00"),
    ], {"format": "pt"}))
    write(out, "fuzz_safetensors", "empty.safetensors", safetensors_file([]))
    write(out, "fuzz_safetensors", "zero_dim.safetensors",
          safetensors_file([("z", "F32", [0, 4], b""), ("u", "U8", [3], b"abc")]))


def bytes_to_unicode():
    """GPT-2's byte-level alphabet: byte -> printable character."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


LLAMA3_SPLIT = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def bpe_tokenizer(merges):
    """A byte-level BPE tokenizer.json of the supported shape (core/text/bpe_tokenizer.h)."""
    alphabet = bytes_to_unicode()
    vocab = {alphabet[b]: b for b in range(256)}
    merge_list = []
    for left, right in merges:
        l, r = "".join(alphabet[b] for b in left.encode()), "".join(alphabet[b] for b in right.encode())
        if l + r not in vocab:
            vocab[l + r] = len(vocab)
        merge_list.append(l + " " + r)
    added = [{"id": len(vocab) + i, "content": c, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for i, c in enumerate(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"])]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": merge_list},
    }


def tokenizer_seeds(out, source):
    shutil.copy(os.path.join(source, "models", "default", "tokenizer.json"),
                os.path.join(out, "fuzz_tokenizer_json", "compact.json"))
    write(out, "fuzz_tokenizer_json", "bpe.json", json.dumps(bpe_tokenizer(
        [("H", "e"), ("l", "l"), ("He", "ll"), ("Hell", "o"), (" ", "A"), (" A", "R"),
         (" AR", "C"), ("1", "2")])))
    write(out, "fuzz_tokenizer_json", "bpe_no_merges.json", json.dumps(bpe_tokenizer([])))


def config_seeds(out, source):
    shutil.copy(os.path.join(source, "models", "default", "config.json"),
                os.path.join(out, "fuzz_config_json", "default.json"))
    golden = os.path.join(source, "tests", "testdata", "golden")
    for name in sorted(os.listdir(golden)):
        path = os.path.join(golden, name, "config.json")
        if os.path.isfile(path):
            shutil.copy(path, os.path.join(out, "fuzz_config_json", name + ".json"))


def textproto_grid(grid):
    return "{ " + " ".join('rows: "%s"' % "".join(str(c) for c in row) for row in grid) + " }"


def textproto_task(task):
    parts = []
    for ex in task["train"]:
        parts.append("train { input %s output %s }" % (textproto_grid(ex["input"]),
                                                       textproto_grid(ex["output"])))
    for t in task["test"]:
        parts.append("test { input %s }" % textproto_grid(t["input"]))
    return "task { " + " ".join(parts) + " }"


def solve_request_seeds(out, source, tasks):
    protoc = shutil.which("protoc")
    if not protoc:
        print("seeds: protoc not found; fuzz_solve_request starts from an empty corpus", file=sys.stderr)
        return
    options = [
        "",
        "options { ttt: false seed: 7 }",
        "options { ttt_options { max_samples: 8 epochs: 1 max_steps: 4 batch_size: 2 lora_rank: 4 "
        "lora_alpha: 8 lora_targets: \"q_proj\" lora_targets: \"v_proj\" learning_rate: 0.001 } "
        "inference { batch_size: 4 max_new_tokens: 64 constrained: true } include_views: true }",
        "options { search { max_depth: 2 work_millions: 10 max_seconds: 1.5 } poe_top_k: 2 "
        "poe_views: 3 base_attempt: true }",
    ]
    with open(os.path.join(source, "examples", "flip.json")) as fh:
        flip = json.load(fh)
    requests = [('request_id: "r1" task_id: "flip" ' + textproto_task(flip) + " " + o)
                for o in options]
    for tid, task in tasks[:4]:
        requests.append('task_id: "%s" %s' % (tid, textproto_task(task)))
        requests.append('task_id: "%s" task_json: %s' % (tid, json.dumps(json.dumps(task))))
    proto_dir = os.path.join(source, "proto")
    for i, text in enumerate(requests):
        encoded = subprocess.run(
            [protoc, "--encode=arc.v1.SolveRequest", "-I", proto_dir,
             os.path.join(proto_dir, "arc", "v1", "arc_solver.proto")],
            input=text.encode(), capture_output=True, check=True).stdout
        write(out, "fuzz_solve_request", "request%02d.pb" % i, encoded)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="the repository root")
    parser.add_argument("--data", required=True, help="the ARC-AGI-1 data folder (may be absent)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--tasks", type=int, default=12, help="small task files to take")
    args = parser.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    for target in ("fuzz_task_json", "fuzz_kaggle", "fuzz_safetensors", "fuzz_tokenizer_json",
                   "fuzz_config_json", "fuzz_solve_request"):
        os.makedirs(os.path.join(args.out, target))
    tasks = small_tasks(args.data, args.tasks)
    if not tasks:
        print("seeds: no ARC data at %s; task seeds come from examples/ only" % args.data,
              file=sys.stderr)
        with open(os.path.join(args.source, "examples", "flip.json")) as fh:
            tasks = [("flip", json.load(fh))]
    task_seeds(args.out, args.source, tasks)
    kaggle_seeds(args.out, tasks)
    safetensors_seeds(args.out, args.source)
    tokenizer_seeds(args.out, args.source)
    config_seeds(args.out, args.source)
    solve_request_seeds(args.out, args.source, tasks)
    for target in sorted(os.listdir(args.out)):
        print("seeds: %-20s %d files" % (target, len(os.listdir(os.path.join(args.out, target)))))


if __name__ == "__main__":
    main()
