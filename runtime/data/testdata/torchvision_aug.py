#!/usr/bin/python3
"""Writes torchvision_aug.json: MNIST test image 0 put through torchvision's
pad(2, fill 0) -> crop(i, j, 28, 28) -> optional hflip -> ToTensor ->
Normalize(0.1307, 0.3081) for a few (i, j, flip), i.e. what
RandomCrop(28, padding=2) + RandomHorizontalFlip produce when they draw those
parameters. TestAugmentTorchvision checks that Augment{Pad: 2, Mirror: true}
with dy = i-2, dx = j-2 gives the same floats, bit for bit.

    /usr/bin/python3 runtime/data/testdata/torchvision_aug.py
"""
import gzip
import json
import os
import subprocess

import numpy as np
import torchvision.transforms.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
cache = subprocess.check_output(["go", "env", "GOMODCACHE"], text=True).strip()
path = os.path.join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63",
                    "data", "t10k-images-idx3-ubyte.gz")
with gzip.open(path) as f:
    raw = f.read()
img = Image.fromarray(np.frombuffer(raw[16:16 + 784], dtype=np.uint8).reshape(28, 28), mode="L")

cases = []
for i, j, flip in [(2, 2, False), (0, 0, False), (4, 4, True), (0, 3, True), (4, 1, False), (2, 2, True)]:
    x = F.crop(F.pad(img, 2, fill=0), i, j, 28, 28)
    if flip:
        x = F.hflip(x)
    t = F.normalize(F.to_tensor(x), [0.1307], [0.3081])
    bits = t.flatten().numpy().view(np.uint32)
    cases.append({"i": i, "j": j, "flip": flip, "bits": "".join("%08x" % b for b in bits)})
with open(os.path.join(HERE, "torchvision_aug.json"), "w") as f:
    json.dump(cases, f, indent=0)
print("wrote", len(cases), "cases")
