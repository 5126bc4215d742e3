#!/usr/bin/python3
"""The real check of cnnc weights (not run by CI): see scripts/weights_check.sh.

    weights_check.py make MODEL DIR   writes DIR/torch.safetensors (the state dict, its bn
                                      statistics and affine parameters made random so that
                                      they matter), DIR/x.npy (two fixed images) and
                                      DIR/torch_logits.npy (the model in eval mode)
    weights_check.py back MODEL DIR   loads DIR/back.safetensors (cnnc weights --names) into a
                                      fresh torchvision model (strict=False: only the
                                      num_batches_tracked may be missing) and checks its logits
    weights_check.py compare DIR      prints max |logit difference| / max |logit| of
                                      DIR/torch_logits.npy and DIR/go_logits.npy
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_weights import write  # noqa: E402


def make(name, d):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(1 + 0.2 * torch.randn(c, generator=g))
                mod.bias.copy_(0.1 * torch.randn(c, generator=g))
                mod.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=g))
    model.eval()
    write(os.path.join(d, "torch.safetensors"), [(k, v.detach()) for k, v in model.state_dict().items()])
    x = torch.randn(2, 3, 224, 224, generator=g)
    np.save(os.path.join(d, "x.npy"), x.numpy().astype(np.float32))
    with torch.no_grad():
        np.save(os.path.join(d, "torch_logits.npy"), model(x).numpy().astype(np.float32))


def read(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        lo, hi = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(b[8 + n + lo:8 + n + hi], dtype="<f4").copy().reshape(info["shape"]))
    return out


def back(name, d):
    model = getattr(torchvision.models, name)()
    r = model.load_state_dict(read(os.path.join(d, "back.safetensors")), strict=False)
    assert not r.unexpected_keys and all(k.endswith("num_batches_tracked") for k in r.missing_keys), r
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(d, "x.npy")))
    with torch.no_grad():
        y = model(x).numpy()
    a = np.load(os.path.join(d, "torch_logits.npy"))
    diff = float(np.abs(a - y).max())
    print(f"back in PyTorch: max |logit difference| {diff:.3g}")
    sys.exit(0 if diff == 0 else 1)


def compare(d):
    a = np.load(os.path.join(d, "torch_logits.npy"))
    b = np.load(os.path.join(d, "go_logits.npy"))
    assert a.shape == b.shape, (a.shape, b.shape)
    diff, scale = float(np.abs(a - b).max()), float(np.abs(a).max())
    same = (a.argmax(1) == b.argmax(1)).all()
    print(f"max |logit difference| {diff:.3g}, max |logit| {scale:.3g}, ratio {diff / scale:.3g}, same top class: {same}")
    sys.exit(0 if diff / scale < 1e-4 and same else 1)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "back":
        back(sys.argv[2], sys.argv[3])
    else:
        compare(sys.argv[2])
