"""PyTorch reference for resnet-dfdx: the seed's ResNet-18 (d2l's), plain SGD, cross-entropy —
the workload of `resnet-tui bench` and the recipe of `resnet-tui train` — so that every
PyTorch figure in BENCHMARKS.md can be measured again on the same machine.

Setup (once; PyTorch from PyPI, about 4 GB with its CUDA libraries):
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
Throughput of a training step and of inference on one random batch (as `resnet-tui bench`):
    /tmp/torchenv/bin/python scripts/pytorch_resnet.py speed --res 28 --batch 256 --steps 5 --threads 2
(add --channels-last for PyTorch's NHWC layout, oneDNN's faster path on some CPUs)
d2l's train_ch6 on real Fashion-MNIST (Debian package dataset-fashion-mnist):
    /tmp/torchenv/bin/python scripts/pytorch_resnet.py train --res 28 --epochs 2
Both take --device cpu|cuda and --precision fp32|tf32 (tf32: PyTorch's default for convolutions
on a GPU). Output: one JSON object per line.
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F


class Residual(nn.Module):
    """The seed's residual block: two 3x3 convs with BN, optional 1x1 conv shortcut (no BN)."""

    def __init__(self, cin, cout, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv3 = nn.Conv2d(cin, cout, 1, stride=strides) if use_1x1conv else None
        self.bn1, self.bn2 = nn.BatchNorm2d(cout), nn.BatchNorm2d(cout)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.conv3(x) if self.conv3 is not None else x))


def stage(cin, cout, n, first=False):
    """n residual blocks; all but the first stage halve the image and widen the channels."""
    return nn.Sequential(*[Residual(cin if i == 0 else cout, cout, i == 0 and not first, 2 if i == 0 and not first else 1)
                           for i in range(n)])


def resnet18(in_channels=1, classes=10):
    """The chapter's ResNet-18: a 7x7 stem, four stages of two blocks, global pool, linear."""
    b1 = nn.Sequential(nn.Conv2d(in_channels, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
    return nn.Sequential(b1, stage(64, 64, 2, True), stage(64, 128, 2), stage(128, 256, 2), stage(256, 512, 2),
                         nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, classes))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_mb(device):
    """Peak memory: the GPU's allocations on CUDA, the process's resident set on the CPU."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed(fn, steps, device):
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    sync(device)
    return time.perf_counter() - t


def speed(a, device):
    torch.manual_seed(0)
    net = resnet18().to(device)
    x = torch.rand(a.batch, 1, a.res, a.res, device=device)
    if a.channels_last:  # oneDNN's NHWC path on the CPU
        net, x = net.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    y = torch.randint(0, 10, (a.batch,), device=device)

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    def infer():
        with torch.no_grad():
            net(x)

    train, inference = [], []
    for _ in range(a.repeats):
        net.train()
        timed(step, 2, device)  # warm-up
        train.append(a.batch * a.steps / timed(step, a.steps, device))
        net.eval()
        timed(infer, 2, device)
        inference.append(a.batch * a.steps / timed(infer, a.steps, device))
    print(json.dumps({"bench": "speed", "framework": "pytorch " + torch.__version__, "device": str(device),
                      "precision": a.precision, "channels_last": a.channels_last, "res": a.res, "batch": a.batch, "threads": torch.get_num_threads(),
                      "train_img_per_s": round(statistics.median(train), 1),
                      "infer_img_per_s": round(statistics.median(inference), 1), "peak_mb": peak_mb(device)}))


def idx(path, offset):
    import numpy as np
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def images(d, name):
    raw = idx(os.path.join(d, name), 16).reshape(-1, 1, 28, 28)
    return torch.tensor(raw, dtype=torch.float32) / 255


def train(a, device):
    torch.manual_seed(a.seed)
    d = a.data_dir
    xtr, xte = images(d, "train-images-idx3-ubyte.gz"), images(d, "t10k-images-idx3-ubyte.gz")
    ytr = torch.tensor(idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), 8), dtype=torch.long)
    yte = torch.tensor(idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), 8), dtype=torch.long)
    if a.res != 28:
        # torchvision's Resize on tensors: bilinear with antialiasing.
        xtr = F.interpolate(xtr, size=a.res, mode="bilinear", antialias=True)
        xte = F.interpolate(xte, size=a.res, mode="bilinear", antialias=True)
    xtr, ytr, xte, yte = xtr.to(device), ytr.to(device), xte.to(device), yte.to(device)
    net = resnet18().to(device)
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr)
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xtr), device=device)
        loss_sum = correct = n = 0
        sync(device)
        t = time.perf_counter()
        for i in range(0, len(xtr), a.batch):
            b = perm[i:i + a.batch]
            opt.zero_grad()
            out = net(xtr[b])
            loss = F.cross_entropy(out, ytr[b])
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(b)
            correct += (out.argmax(1) == ytr[b]).sum().item()
            n += len(b)
        sync(device)
        dt = time.perf_counter() - t
        net.eval()
        with torch.no_grad():
            test_correct = sum((net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
                               for i in range(0, len(xte), 1000))
        print(json.dumps({"bench": "train", "device": str(device), "res": a.res, "epoch": epoch + 1,
                          "loss": round(loss_sum / n, 4), "train_acc": round(correct / n, 4),
                          "test_acc": round(test_correct / len(xte), 4), "examples_per_sec": round(n / dt, 1),
                          "seconds": round(dt, 1)}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["speed", "train"])
    p.add_argument("--res", type=int, default=28, help="image side")
    p.add_argument("--batch", type=int, default=256, help="images per step")
    p.add_argument("--steps", type=int, default=5, help="timed steps per repeat (speed)")
    p.add_argument("--repeats", type=int, default=3, help="repeats; the median is reported (speed)")
    p.add_argument("--epochs", type=int, default=2, help="epochs (train)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--channels-last", action="store_true",
                   help="model and batch in channels_last memory format (speed)")
    p.add_argument("--precision", choices=["fp32", "tf32"], default=None,
                   help="tf32 lets convolutions and matrix products use TF32 (default: PyTorch's own)")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == "cuda" and not torch.cuda.is_available():
        p.error("no CUDA GPU is available to PyTorch; use --device cpu")
    if a.precision is None:
        a.precision = "tf32" if a.device == "cuda" and torch.backends.cudnn.allow_tf32 else "fp32"
    torch.backends.cudnn.allow_tf32 = a.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = a.precision == "tf32"
    device = torch.device(a.device)
    speed(a, device) if a.mode == "speed" else train(a, device)


if __name__ == "__main__":
    main()
