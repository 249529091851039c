#!/usr/bin/env python3
"""Writes the generated part of the fuzz seed corpora (small IDX, CIFAR-10,
safetensors files and the JSON side files / manifests that go with them) into
tests/fuzz/corpus/<parser>/.  The text seeds (configs/, tests/data/hw/) are
copied.  Deterministic: rerunning it rewrites the same bytes.
usage: make_corpus.py [SRC_DIR]"""
import gzip
import io
import json
import os
import shutil
import struct
import sys

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(SRC, "tests", "fuzz", "corpus")


def put(parser, name, data):
    d = os.path.join(OUT, parser)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def gz(b):
    o = io.BytesIO()
    with gzip.GzipFile(fileobj=o, mode="wb", mtime=0) as f:
        f.write(b)
    return o.getvalue()


def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


def safetensors(tensors, meta):
    """tensors: [(name, dtype, shape, raw bytes)] like hn_ckpt_writer_serialize."""
    h = {}
    if meta:
        h["__metadata__"] = meta
    off = 0
    for name, dt, shape, raw in tensors:
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    hj = json.dumps(h, separators=(",", ":")).encode()
    pad = (len(hj) + 8 + 7) // 8 * 8 - 8
    hj += b" " * (pad - len(hj))
    return struct.pack("<Q", len(hj)) + hj + b"".join(t[3] for t in tensors)


def side(file, tensors, meta, json_keys):
    m = {k: (json.loads(v) if k in json_keys else v) for k, v in meta.items()}
    t = {n: {"dtype": dt, "shape": s} for n, dt, s, _ in tensors}
    return json.dumps({"file": file, "format": "safetensors", "metadata": m,
                       "tensors": t}, indent=2) + "\n"


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def main():
    # ---- IDX: images and labels, plain and gzip ----
    px = bytes((i * 37) % 256 for i in range(3 * 4 * 5))
    put("idx", "images3x4x5.idx", idx(0x803, [3, 4, 5], px))
    put("idx", "images3x4x5.idx.gz", gz(idx(0x803, [3, 4, 5], px)))
    put("idx", "labels7.idx", idx(0x801, [7], bytes([0, 1, 2, 3, 4, 5, 9])))
    put("idx", "labels7.idx.gz", gz(idx(0x801, [7], bytes([0, 1, 2, 3, 4, 5, 9]))))
    put("idx", "images1x28x28.idx.gz", gz(idx(0x803, [1, 28, 28], bytes(range(256)) * 3 + bytes(16))))

    # ---- CIFAR-10: one and two records ----
    rec = lambda lab, k: bytes([lab]) + bytes((i * k) % 256 for i in range(3072))
    put("cifar10", "one.bin", rec(3, 5))
    put("cifar10", "two.bin", rec(0, 1) + rec(9, 7))

    # ---- safetensors (+ side files, manifests for the JSON reader) ----
    hist = json.dumps([{"epoch": 1, "lr": 0.1, "train_loss": 2.3, "train_acc": 0.1,
                        "val_loss": 2.2, "val_acc": 0.15, "seconds": 1.5, "img_s": 900.0}])
    exp = json.dumps({"name": "tiny", "seed": 5, "model": {"name": "resnet8", "width": 0.125}})
    meta = {"format": "hetnas-checkpoint", "epoch": "1", "best_epoch": "1",
            "bad_epochs": "0", "best_val_acc": "0.15",
            "sched_state": "0.1 0.15 0 1", "history": hist, "experiment": exp}
    rng = struct.pack("<QQ", 0x853C49E6748FEA9B, 0x1405_7B7E_F767_814F | 1)
    small = [
        ("rng", "I64", [2], rng),
        ("u8", "U8", [2, 3], bytes(range(6))),
        ("i32", "I32", [3], struct.pack("<3i", -1, 0, 7)),
        ("step", "I64", [], struct.pack("<q", 12)),
        ("w", "F32", [2, 2], f32([0.5, -1.0, 2.0, 0.0])),
    ]
    put("safetensors", "small.safetensors", safetensors(small, meta))
    put("safetensors", "empty.safetensors", safetensors([], {}))
    # Tensors named as the fuzzer's tiny ResNet-8 (in_c 1, width 0.125:
    # 2/4/8 filters) so a model import reaches the copy.
    model = [("conv1.weight", "F32", [2, 1, 3, 3], f32([0.1] * 18)),
             ("bn1.weight", "F32", [2], f32([1.0, 1.0])),
             ("bn1.bias", "F32", [2], f32([0.0, 0.0])),
             ("bn1.running_mean", "F32", [2], f32([0.0, 0.0])),
             ("bn1.running_var", "F32", [2], f32([1.0, 1.0])),
             ("bn1.num_batches_tracked", "I64", [], struct.pack("<q", 3)),
             ("fc.bias", "F32", [10], f32([0.0] * 10))]
    put("safetensors", "model.safetensors", safetensors(model, {"epoch": "2"}))
    put("json", "small.json", side("small.safetensors", small, meta, {"history", "experiment"}))
    put("json", "model.json", side("model.safetensors", model, {"epoch": "2"}, set()))
    put("json", "manifest.json", json.dumps({
        "command": ["hetnas", "train", "exp.yaml"], "seeds": {"experiment": 5},
        "git": "0123abc", "tools": {"cc": "gcc 12.2.0"}, "start": "2024-01-01T00:00:00Z",
        "resumes": [], "experiment": json.loads(exp), "num": [-0.0, 1e308, 18446744073709551615],
        "esc": "a\"b\\\u00e9\ud83d\ude00"}, indent=2) + "\n")
    put("json", "history.json", hist)

    # ---- copies of real text files ----
    for f in sorted(os.listdir(os.path.join(SRC, "configs"))):
        if f.endswith(".yaml"):
            shutil.copy(os.path.join(SRC, "configs", f), os.path.join(OUT, "experiment", f))
    for f in ("small.json", "multibit.json"):
        shutil.copy(os.path.join(SRC, "tests", "data", "hw", f), os.path.join(OUT, "hwjob", f))
    shutil.copy(os.path.join(SRC, "tests", "data", "hw", "mixed.expected.json"),
                os.path.join(OUT, "json", "hw_expected.json"))
    put("experiment", "set_override.yaml", "#set optim.lr=0.01\nname: s\nmodel: {name: resnet8}\n"
        "config: [4, 4]\nschedule: {name: step, milestones: [2, 4]}\n")
    put("experiment", "inline_widths.yaml", "model: {name: resnet8, width: 0.5, input: 1x28x28}\n"
        "data: {name: mnist, dir: /nonexistent}\nconfig: {width_mult: 0.5}\n"
        "slim: {widths: [0.25, 1.0]}\nquant: {weight_sharing: per_op}\n")
    put("experiment", "config_file.yaml", "config: nets/a.yaml\noptim: {name: adam, lr: 0.001}\n")


if __name__ == "__main__":
    os.makedirs(os.path.join(OUT, "experiment"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "hwjob"), exist_ok=True)
    main()
