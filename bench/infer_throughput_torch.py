#!/usr/bin/python3
"""PyTorch peer of bench/infer_throughput: FP32 inference of the ResNet-20
hetnas builds (stem conv3x3-BN-ReLU, 9 BasicBlocks 16/32/64, 1x1 stride-2
conv+BN downsample shortcuts, global average pooling, FC), eval mode under
torch.inference_mode(), on a random float32 batch of the given input shape.

Timing as the C side: warm up until two consecutive rates (each over
>= 0.25 s of forwards) agree within 5%, and for at least --warmup-s seconds
(a fresh PyTorch process needs many iterations to reach speed: allocator,
oneDNN primitive caches), capped at --warmup-cap-s; then --rounds rounds,
each the forwards of >= --round-s seconds (at least one); the best round
counts.

Prints torch_version=, torch_warmup_s=, torch_round=<i> img_s=<x> lines and
torch_img_s=<best>.  With --export-onnx PATH it writes the model as ONNX for
the ONNX Runtime peer (bench/infer_throughput_ort.js) instead.  Usage:
  infer_throughput_torch.py --threads 2 --batch 64 --input 3x32x32 --rounds 3
"""
import argparse
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        s = x if self.downsample is None else self.downsample(x)
        return F.relu(o + s)


class ResNet(nn.Module):
    """ResNet-(6n+2) for in_c-channel inputs of any size."""

    def __init__(self, in_c, n=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for s, c in enumerate([16, 32, 64]):
            blocks = []
            for b in range(n):
                stride = 2 if (s > 0 and b == 0) else 1
                blocks.append(Block(cin, c, stride))
                cin = c
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def rate_over(m, x, min_s):
    """img/s of forwards repeated for >= min_s seconds (at least one)."""
    t0 = time.perf_counter()
    it = 0
    while True:
        m(x)
        it += 1
        t = time.perf_counter() - t0
        if t >= min_s:
            return x.shape[0] * it / t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--input", default="3x32x32", help="CxHxW")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--round-s", type=float, default=0.5)
    p.add_argument("--warmup-s", type=float, default=2.0)
    p.add_argument("--warmup-cap-s", type=float, default=60.0)
    p.add_argument("--export-onnx", metavar="PATH",
                   help="write the model (eval mode, batch --batch) to PATH as "
                        "ONNX for the ONNX Runtime peer and exit")
    a = p.parse_args()
    c, h, w = (int(v) for v in a.input.split("x"))
    if a.export_onnx:
        torch.manual_seed(1)
        m = ResNet(c).eval()
        x = torch.randn(a.batch, c, h, w, dtype=torch.float32)
        # opset 13: Conv, BatchNormalization (folded by ORT), Relu, Add,
        # GlobalAveragePool, Gemm
        torch.onnx.export(m, x, a.export_onnx, input_names=["x"],
                          output_names=["logits"], opset_version=13)
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    print(f"torch_version={torch.__version__} threads={torch.get_num_threads()}")
    m = ResNet(c).eval()
    x = torch.randn(a.batch, c, h, w, dtype=torch.float32)  # (B, C, H, W)
    with torch.inference_mode():
        t0 = time.perf_counter()
        prev = rate_over(m, x, 0.25)
        while time.perf_counter() - t0 < a.warmup_cap_s:
            cur = rate_over(m, x, 0.25)
            steady = abs(cur - prev) <= 0.05 * min(cur, prev)
            if steady and time.perf_counter() - t0 >= a.warmup_s:
                break
            prev = cur
        print(f"torch_warmup_s={time.perf_counter() - t0:.1f}")
        best = 0.0
        for r in range(a.rounds):
            v = rate_over(m, x, a.round_s)
            print(f"torch_round={r} img_s={v:.1f}")
            best = max(best, v)
    print(f"torch_img_s={best:.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
