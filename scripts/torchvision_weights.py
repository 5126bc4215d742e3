#!/usr/bin/python3
"""Write a torchvision model's state_dict as safetensors, for cnnc weights.

    /usr/bin/python3 scripts/torchvision_weights.py MODEL OUT.safetensors [--seed N] [--json OUT.json]

MODEL is a torchvision model with a twin in networks/: resnet18, resnet34,
resnet50, resnet101, resnet152, vgg16, vgg19, densenet121, convnext_tiny,
mobilenet_v2, mobilenet_v3_large, efficientnet_b0, shufflenet_v2_x1_0. (torchvision's alexnet is
the one-GPU variant without groups and LRN, and googlenet has batch norm:
neither is networks/alexnet.cnn or networks/googlenet.cnn.) The weights are
PyTorch's random initialisation from the seed (nothing is downloaded); to
convert trained weights, load them into the model instead (see
docs/training.md). The tensors are written in the state_dict's order (the
order cnnc weights pairs by), num_batches_tracked included, as F32 (I64 for
the counters). --json also writes the [name, shape, dtype] list.

Runs with Debian's python3-torch and python3-torchvision (torch 1.13).
"""
import argparse
import json
import struct

import torch
import torchvision

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.float64: "F64", torch.int64: "I64"}
MODELS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg19",
          "densenet121", "convnext_tiny", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
          "shufflenet_v2_x1_0"]


def write(path, items):
    """items: (name, tensor) in the order to write them (not sorted)."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in items:
        b = t.contiguous().numpy().newbyteorder("<").tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=MODELS)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    model = getattr(torchvision.models, a.model)()
    items = [(k, v.detach().cpu()) for k, v in model.state_dict().items()]
    write(a.out, items)
    if a.json:
        with open(a.json, "w") as f:
            f.write("[\n" + ",\n".join(json.dumps([k, list(v.shape), DTYPES[v.dtype]]) for k, v in items) + "\n]\n")


if __name__ == "__main__":
    main()
