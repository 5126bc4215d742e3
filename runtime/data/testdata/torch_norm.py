#!/usr/bin/python3
"""Writes norm_table.txt: for every byte value p, the float32 bits of
torchvision's ToTensor + Normalize, i.e. torch's (p.float()/255 - mean)/std,
for MNIST (0.1307, 0.3081) and ImageNet's three channels. TestNormTorch
compares data.New's values with them bit for bit.

    /usr/bin/python3 runtime/data/testdata/torch_norm.py
"""
import os

import torch

NORMS = {
    "mnist": ([0.1307], [0.3081]),
    "imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
}

lines = []
for name, (mean, std) in NORMS.items():
    p = torch.arange(256, dtype=torch.uint8)
    x = p.float().div(255)  # ToTensor
    for c in range(len(mean)):
        m = torch.as_tensor(mean[c], dtype=torch.float32)
        s = torch.as_tensor(std[c], dtype=torch.float32)
        y = x.sub(m).div(s)  # Normalize (sub_, div_)
        bits = y.view(torch.int32).tolist()
        lines.append("%s %d %s" % (name, c, " ".join("%08x" % (b & 0xffffffff) for b in bits)))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm_table.txt")
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote", out)
