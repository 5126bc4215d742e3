#!/usr/bin/python3
"""Eval-mode parity of the whole zoo with PyTorch (not run by CI): see scripts/parity.sh.

    parity.py make NET DIR     writes DIR/torch.safetensors (the PyTorch twin's state dict in its
                               own order, random weights from a fixed seed, random bn statistics
                               where there is bn), DIR/x.npy (two fixed inputs) and
                               DIR/torch_out.npy (the twin's eval-mode output, flattened per image)
    parity.py compare NET DIR  prints "NET: max |diff| X, max |logit| Y, ratio Z" for
                               DIR/torch_out.npy against DIR/go_out.npy (cnnc infer's output) and
                               exits 1 when the ratio is not below 1e-4 (or the shapes differ)

The twins: torchvision's own model for vgg16, vgg19 and resnet18..152 (scripts/weights_check.py's
make); for the others a module below that follows networks/NET.cnn line by line, registering
its parameters in the .cnn's order (cnnc weights pairs by order). GoogLeNet's twin defines the
two auxiliary classifiers (their weights are tensors of the network) but, like cnnc infer, does
not run them at inference. InceptionNaive and InceptionBottleneck end in a feature map
(28x28x672, 28x28x480): the whole map is compared, CHW order, as cnnc infer writes it.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_weights import write  # noqa: E402

TORCHVISION = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg19"]


def lrn(size=5, alpha=1e-4, beta=0.75, k=2.0):
    # cnnc's lrn defaults are AlexNet's (5, 1e-4, 0.75, 2); nn.LocalResponseNorm's k defaults to 1.
    return nn.LocalResponseNorm(size, alpha, beta, k)


class LeNet5(nn.Module):
    """networks/lenet5.cnn"""
    input = (1, 28, 28)

    def __init__(s):
        super().__init__()
        s.conv1, s.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        s.fc1, s.fc2, s.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(s, x):
        x = F.max_pool2d(F.relu(s.conv1(x)), 2)
        x = F.max_pool2d(F.relu(s.conv2(x)), 2)
        x = F.relu(s.fc1(x.flatten(1)))
        return s.fc3(F.relu(s.fc2(x)))


class AlexNet(nn.Module):
    """networks/alexnet.cnn: groups 2 on conv2, conv4, conv5; lrn 5 1e-4 0.75 2 after pools 1, 2."""
    input = (3, 227, 227)

    def __init__(s):
        super().__init__()
        s.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(5, 1e-4, 0.75, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(5, 1e-4, 0.75, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2))
        s.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, 1000))

    def forward(s, x):
        return s.classifier(s.features(x).flatten(1))


class ZFNet(nn.Module):
    """networks/zfnet.cnn: ceil-mode pools, lrn with cnnc's defaults."""
    input = (3, 224, 224)

    def __init__(s):
        super().__init__()
        s.features = nn.Sequential(
            nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
            nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True))
        s.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 1000))

    def forward(s, x):
        return s.classifier(s.features(x).flatten(1))


class Inception(nn.Module):
    """googlenet.cnn's block inception(c1, r3, c3, r5, c5, pp); conv1..conv6 as cnnc numbers them."""

    def __init__(s, cin, c1, r3, c3, r5, c5, pp, reduce=True):
        super().__init__()
        s.reduce = reduce
        s.conv1 = nn.Conv2d(cin, c1, 1)
        if reduce:
            s.conv2 = nn.Conv2d(cin, r3, 1)
            s.conv3 = nn.Conv2d(r3, c3, 3, padding=1)
            s.conv4 = nn.Conv2d(cin, r5, 1)
            s.conv5 = nn.Conv2d(r5, c5, 5, padding=2)
        else:  # inception_naive: no 1x1 reductions, no conv after the pool
            s.conv2 = nn.Conv2d(cin, c3, 3, padding=1)
            s.conv3 = nn.Conv2d(cin, c5, 5, padding=2)
        if pp:
            s.conv6 = nn.Conv2d(cin, pp, 1)
        s.pp = pp

    def forward(s, x):
        p = F.max_pool2d(x, 3, 1, 1, ceil_mode=True)
        if s.reduce:
            b = [F.relu(s.conv1(x)), F.relu(s.conv3(F.relu(s.conv2(x)))), F.relu(s.conv5(F.relu(s.conv4(x))))]
        else:
            b = [F.relu(s.conv1(x)), F.relu(s.conv2(x)), F.relu(s.conv3(x))]
        b.append(F.relu(s.conv6(p)) if s.pp else p)
        return torch.cat(b, 1)


class InceptionNaive(nn.Module):
    """networks/inception_naive.cnn (its pool has no ceil; with stride 1 ceil mode changes nothing)"""
    input = (256, 28, 28)

    def __init__(s):
        super().__init__()
        s.m = Inception(256, 128, 0, 192, 0, 96, 0, reduce=False)

    def forward(s, x):
        return s.m(x)


class InceptionBottleneck(nn.Module):
    """networks/inception_bottleneck.cnn"""
    input = (256, 28, 28)

    def __init__(s):
        super().__init__()
        s.m = Inception(256, 128, 64, 192, 64, 96, 64)

    def forward(s, x):
        return s.m(x)


class Classifier(nn.Module):
    """googlenet.cnn's block classifier(): avgpool 5 s3 ceil, conv 128 1x1, fc 1024, fc 1000."""

    def __init__(s, cin):
        super().__init__()
        s.conv1 = nn.Conv2d(cin, 128, 1)
        s.fc1, s.fc2 = nn.Linear(128 * 4 * 4, 1024), nn.Linear(1024, 1000)

    def forward(s, x):
        x = F.relu(s.conv1(F.avg_pool2d(x, 5, 3, ceil_mode=True)))
        return s.fc2(F.dropout(F.relu(s.fc1(x.flatten(1))), 0.7, s.training))


class GoogLeNet(nn.Module):
    """networks/googlenet.cnn, registered in the .cnn's order (aux1 after 4a, aux2 after 4d)."""
    input = (3, 224, 224)

    def __init__(s):
        super().__init__()
        s.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        s.conv2 = nn.Conv2d(64, 64, 1)
        s.conv3 = nn.Conv2d(64, 192, 3, padding=1)
        s.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        s.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        s.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        s.aux1 = Classifier(512)
        s.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        s.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        s.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        s.aux2 = Classifier(528)
        s.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        s.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        s.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        s.fc1 = nn.Linear(1024, 1000)
        s.lrn1, s.lrn2 = lrn(), lrn()

    def forward(s, x):
        x = s.lrn1(F.max_pool2d(F.relu(s.conv1(x)), 3, 2, ceil_mode=True))
        x = F.relu(s.conv3(F.relu(s.conv2(x))))
        x = F.max_pool2d(s.lrn2(x), 3, 2, ceil_mode=True)
        x = s.inception3b(s.inception3a(x))
        x = s.inception4a(F.max_pool2d(x, 3, 2, ceil_mode=True))
        # aux1 (training only)
        x = s.inception4d(s.inception4c(s.inception4b(x)))
        # aux2 (training only)
        x = s.inception4e(x)
        x = s.inception5b(s.inception5a(F.max_pool2d(x, 3, 2, ceil_mode=True)))
        x = F.dropout(F.avg_pool2d(x, 7, 1), 0.4, s.training)
        return s.fc1(x.flatten(1))


TWINS = {"lenet5": LeNet5, "alexnet": AlexNet, "zfnet": ZFNet, "googlenet": GoogLeNet,
         "inception_naive": InceptionNaive, "inception_bottleneck": InceptionBottleneck}


def make(name, d):
    if name in TWINS:
        torch.manual_seed(0)
        model = TWINS[name]().eval()
        write(os.path.join(d, "torch.safetensors"), [(k, v.detach()) for k, v in model.state_dict().items()])
        g = torch.Generator().manual_seed(1)
        x = torch.randn(2, *model.input, generator=g)
        np.save(os.path.join(d, "x.npy"), x.numpy().astype(np.float32))
        with torch.no_grad():
            y = model(x).flatten(1)
        np.save(os.path.join(d, "torch_out.npy"), y.numpy().astype(np.float32))
    elif name in TORCHVISION:
        from weights_check import make as tv_make
        tv_make(name, d)
        os.rename(os.path.join(d, "torch_logits.npy"), os.path.join(d, "torch_out.npy"))
    else:
        sys.exit(f"parity.py: no PyTorch twin for {name}")


def compare(name, d):
    a = np.load(os.path.join(d, "torch_out.npy"))
    b = np.load(os.path.join(d, "go_out.npy"))
    if a.shape != b.shape:
        print(f"{name}: shapes differ: PyTorch {a.shape}, cnnc {b.shape}")
        sys.exit(1)
    diff, scale = float(np.abs(a.astype(np.float64) - b).max()), float(np.abs(a).max())
    ratio = diff / scale if scale else float("inf")
    print(f"{name}: max |diff| {diff:.3g}, max |logit| {scale:.3g}, ratio {ratio:.3g}"
          + ("" if ratio < 1e-4 else "  MISS (> 1e-4)"))
    sys.exit(0 if ratio < 1e-4 else 1)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    else:
        compare(sys.argv[2], sys.argv[3])
