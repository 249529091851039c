#!/usr/bin/python3
"""PyTorch peer of bench/train_throughput: the identical ResNet-20 (stem,
9 BasicBlocks 16/32/64, 1x1 stride-2 conv+BN downsample shortcuts, global
average pooling, FC), trained with SGD on the same batch.  Fake quantization
(--bits W,A) is per-filter symmetric weights with a learned clamp and clipped
ReLU activations with a learned clamp, both with straight-through rounding,
placed as in hetnas (conv2's activation quantizer after the residual add).

Prints `torch_<mode>_img_s=X` lines.  Usage:
  train_throughput_torch.py --threads 2 --batch 128 --input batch.f32 --iters 20
"""
import argparse, time, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


class QConv(nn.Conv2d):
    """Conv with per-filter symmetric fake-quantized weights (learned clamp)."""

    def __init__(self, cin, cout, k, stride, pad, wbits):
        super().__init__(cin, cout, k, stride, pad, bias=False)
        self.wbits = wbits
        if wbits < 32:
            self.clamp = nn.Parameter(torch.ones(cout))

    def forward(self, x):
        w = self.weight
        if self.wbits < 32:
            a = self.clamp.abs().view(-1, 1, 1, 1)
            levels = max(1, 2 ** (self.wbits - 1) - 1)
            wc = torch.max(torch.min(w, a), -a)
            w = RoundSTE.apply(wc / a * levels) * a / levels
        return F.conv2d(x, w, None, self.stride, self.padding)


class QReLU(nn.Module):
    """ReLU, or a clipped ReLU with a learned per-channel clamp + unsigned
    rounding (STE) when abits < 32."""

    def __init__(self, c, abits):
        super().__init__()
        self.abits = abits
        if abits < 32:
            self.clamp = nn.Parameter(torch.full((c,), 3.0))

    def forward(self, x):
        if self.abits >= 32:
            return F.relu(x)
        a = self.clamp.abs().view(1, -1, 1, 1)
        levels = 2 ** self.abits - 1
        xc = torch.min(F.relu(x), a)
        return RoundSTE.apply(xc / a * levels) * a / levels


class Block(nn.Module):
    def __init__(self, cin, cout, stride, wb, ab):
        super().__init__()
        self.conv1 = QConv(cin, cout, 3, stride, 1, wb)
        self.bn1 = nn.BatchNorm2d(cout)
        self.act1 = QReLU(cout, ab)
        self.conv2 = QConv(cout, cout, 3, 1, 1, wb)
        self.bn2 = nn.BatchNorm2d(cout)
        self.act2 = QReLU(cout, ab)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(QConv(cin, cout, 1, stride, 0, wb),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        o = self.act1(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        s = x if self.down is None else self.down(x)
        return self.act2(o + s)


class ResNet(nn.Module):
    def __init__(self, n=3, wb=32, ab=32, classes=10):
        super().__init__()
        self.conv1 = QConv(3, 16, 3, 1, 1, wb)
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = QReLU(16, ab)
        layers, cin = [], 16
        for s, c in enumerate([16, 32, 64]):
            for b in range(n):
                stride = 2 if (s > 0 and b == 0) else 1
                layers.append(Block(cin, c, stride, wb, ab))
                cin = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--input", help="raw float32 (N,3,32,32) batch + N int32 labels")
    p.add_argument("--modes", default="train_fp32,train_q22,infer_fp32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    n = a.batch
    if a.input:
        raw = np.fromfile(a.input, dtype=np.float32, count=n * 3 * 32 * 32)
        lab = np.fromfile(a.input, dtype=np.int32, offset=n * 3 * 32 * 32 * 4, count=n)
        x = torch.from_numpy(raw.reshape(n, 3, 32, 32).copy())
        y = torch.from_numpy(lab.astype(np.int64))
    else:
        x = torch.randn(n, 3, 32, 32)
        y = torch.randint(0, 10, (n,))
    print(f"torch_version={torch.__version__} threads={torch.get_num_threads()}")
    for mode in a.modes.split(","):
        bits = 2 if mode.endswith("q22") else 32
        m = ResNet(3, bits, bits)
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        train = mode.startswith("train")
        m.train(train)

        def step():
            if train:
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(m(x), y)
                loss.backward()
                opt.step()
            else:
                with torch.no_grad():
                    m(x)

        for _ in range(a.warmup):
            step()
        times = []
        for _ in range(a.iters):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        times.sort()
        med = times[len(times) // 2]
        print(f"torch_{mode}_img_s={n / med:.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
