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


QUANT_IMPL = "fused"


def fake_quant(x, clamp, levels_lo, levels_hi, axis):
    """Per-channel fake quantization with a learned clamp a = |clamp|,
    q = s * clamp(round(x / s), lo, hi), s = a / hi.

    "fused" (timed): PyTorch's fused LSQ kernel, the fastest fake-quant
    PyTorch has; its STE passes dq/dx = 1 where round(x/s) lies in [lo, hi],
    i.e. half a bin wider than the clamp range.
    "explicit" (the correctness check): clamp then round with a
    straight-through estimator, exactly hetnas' gradients: dq/dx = 1 inside
    the clamp range, dq/da = (round(x/s) - x/s)/hi inside, +-1 beyond."""
    hi = float(levels_hi)
    if QUANT_IMPL == "fused":
        scale = clamp.abs() / hi
        zp = torch.zeros(clamp.shape[0], dtype=torch.float32)
        return torch._fake_quantize_learnable_per_channel_affine(
            x, scale, zp, axis, levels_lo, levels_hi, 1.0)
    shape = [1] * x.dim()
    shape[axis] = -1
    a = clamp.abs().view(shape)
    s = a / hi
    xc = torch.minimum(x, a)
    xc = torch.maximum(xc, -a) if levels_lo < 0 else F.relu(xc)
    v = xc / s
    return (v + (rhu(v) - v).detach()) * s


def rhu(v):
    """Round half up, exactly as hetnas (docs/nn.md "Quantization contract")."""
    r = torch.floor(v)
    return r + ((v - r) >= 0.5).to(v.dtype)


def act_quant(x, clamp, bits):
    """hetnas' activation quantizer: one clamp a = |clamp| per tensor, nested
    power-of-two grid q = rhu(min(relu(x), a(1-2^-b)) 2^b / a) a 2^-b; STE
    dq/dx = 1 inside, dq/da = (rhu(v) - v)/2^b inside, 1 - 2^-b above."""
    L = float(2 ** bits)
    if QUANT_IMPL == "fused":
        scale = clamp.abs() / L
        zp = torch.zeros(1, dtype=torch.float32)
        return torch._fake_quantize_learnable_per_tensor_affine(
            x, scale, zp, 0, int(L) - 1, 1.0)
    a = clamp.abs()
    s = a / L
    xc = F.relu(torch.minimum(x, a * ((L - 1) / L)))
    v = xc / s
    return (v + (rhu(v) - v).detach()) * s


class QConv(nn.Conv2d):
    """Conv with per-filter symmetric fake-quantized weights (learned clamp);
    1 bit = binary a*sign(w)."""

    def __init__(self, cin, cout, k, stride, pad, wbits):
        super().__init__(cin, cout, k, stride, pad, bias=False)
        self.wbits = wbits
        if wbits < 32:
            self.weight_clamp = nn.Parameter(torch.ones(cout))

    def forward(self, x):
        w = self.weight
        if self.wbits == 1:
            a = self.weight_clamp.abs().view(-1, 1, 1, 1)
            ad = a.detach()
            wc = torch.maximum(torch.minimum(w, ad), -ad)
            w = a * torch.where(w >= 0, 1.0, -1.0) + (wc - wc.detach())  # STE
        elif self.wbits < 32:
            levels = 2 ** (self.wbits - 1) - 1
            w = fake_quant(w, self.weight_clamp, -levels, levels, 0)
        return F.conv2d(x, w, None, self.stride, self.padding)


class QReLU(nn.Module):
    """ReLU, or a clipped ReLU with a learned per-tensor clamp on a nested
    power-of-two grid (STE) when abits < 32."""

    def __init__(self, c, abits):
        super().__init__()
        self.abits = abits
        if abits < 32:
            self.clamp = nn.Parameter(torch.full((1,), 3.0))

    def forward(self, x):
        if self.abits >= 32:
            return F.relu(x)
        return act_quant(x, self.clamp, self.abits)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, wb, ab):
        super().__init__()
        self.conv1 = QConv(cin, cout, 3, stride, 1, wb)
        self.bn1 = nn.BatchNorm2d(cout)
        self.act1 = QReLU(cout, ab)
        self.conv2 = QConv(cout, cout, 3, 1, 1, wb)
        self.bn2 = nn.BatchNorm2d(cout)
        self.act2 = QReLU(cout, ab)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(QConv(cin, cout, 1, stride, 0, wb),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        o = self.act1(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        s = x if self.downsample is None else self.downsample(x)
        return self.act2(o + s)


class ResNet(nn.Module):
    def __init__(self, n=3, wb=32, ab=32, classes=10):
        super().__init__()
        self.conv1 = QConv(3, 16, 3, 1, 1, wb)
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = QReLU(16, ab)
        cin = 16
        for s, c in enumerate([16, 32, 64]):
            blocks = []
            for b in range(n):
                stride = 2 if (s > 0 and b == 0) else 1
                blocks.append(Block(cin, c, stride, wb, ab))
                cin = c
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def torch_name(name):
    """hetnas parameter name -> this model's (activation clamps differ)."""
    if name.endswith(".act_clamp"):
        conv = name[: -len(".act_clamp")]
        if conv == "conv1":
            return "act1.clamp"
        if conv.endswith(".conv1"):
            return conv[: -len(".conv1")] + ".act1.clamp"
        if conv.endswith(".conv2"):
            return conv[: -len(".conv2")] + ".act2.clamp"
    return name


def check(prefix, x, y, bits):
    """Loads hetnas' parameters (prefix.txt: `name numel` lines, prefix.bin:
    their float32 data), runs one train-mode forward/backward and writes
    logits then each listed tensor's gradient (NaN for buffers and names
    torch lacks) to prefix.out.bin."""
    global QUANT_IMPL
    QUANT_IMPL = "explicit"
    m = ResNet(3, bits, bits)
    sd = m.state_dict()
    raw = np.fromfile(prefix + ".bin", dtype=np.float32)
    names, off = [], 0
    for line in open(prefix + ".txt"):
        if not line.strip():
            continue
        name, numel = line.split()
        numel = int(numel)
        name = torch_name(name)
        names.append((name, numel))
        if name in sd:
            sd[name].copy_(torch.from_numpy(raw[off:off + numel].copy()).view_as(sd[name]))
        off += numel
    m.train()
    logits = m(x)
    F.cross_entropy(logits, y).backward()
    params = dict(m.named_parameters())
    out = [logits.detach().numpy().ravel()]
    for name, numel in names:
        p = params.get(name)
        g = p.grad.numpy().ravel() if p is not None and p.grad is not None else np.full(numel, np.nan, np.float32)
        out.append(g.astype(np.float32))
    np.concatenate(out).astype(np.float32).tofile(prefix + ".out.bin")
    ours = {n for n, _ in names}
    missing = sorted(k for k in sd if k not in ours and not k.endswith("num_batches_tracked"))
    print("torch_keys_missing_in_hetnas=" + ",".join(missing))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--input", help="raw float32 (N,3,32,32) batch + N int32 labels")
    p.add_argument("--modes", default="train_fp32,train_q22,infer_fp32")
    p.add_argument("--check", help="prefix of hetnas parameters to compare")
    p.add_argument("--check-bits", type=int, default=32)
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
    if a.check:
        check(a.check, x, y, a.check_bits)
        return
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
