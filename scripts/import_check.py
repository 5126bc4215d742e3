#!/usr/bin/python3
"""The zoo through torch.onnx.export and cnnc import (not run by CI): see scripts/import_check.sh.

    import_check.py export NET DIR   writes DIR/NET.onnx (torch.onnx.export of NET's PyTorch twin,
                                     scripts/parity.py's, eval mode, opset 13, a symbolic batch),
                                     DIR/x.npy (two fixed inputs) and DIR/torch_out.npy (the twin's
                                     output, flattened per image)
    import_check.py compare NET DIR  prints "NET: ..." for DIR/go_out.npy (cnnc infer of the
                                     imported network) against DIR/torch_out.npy; exits 1 when the
                                     ratio max |diff| / max |logit| is not below 1e-4
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity  # noqa: E402


def twin(name):
    if name in parity.TWINS:
        torch.manual_seed(0)
        return parity.TWINS[name]().eval(), parity.TWINS[name].input
    import torchvision
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)(weights=None).eval()
    # random bn statistics, as parity.py's torchvision twins have
    g = torch.Generator().manual_seed(2)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
    return m, (3, 224, 224)


class LRNFunction(torch.autograd.Function):
    """nn.LocalResponseNorm, exported as ONNX's LRN node: PyTorch 1.13's exporter writes it as a
    dozen element-wise, Shape and Gather nodes instead, which no CNN importer reads back."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return torch.nn.functional.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class LRN(torch.nn.Module):
    def __init__(s, m):
        super().__init__()
        s.m = m

    def forward(s, x):
        m = s.m
        return LRNFunction.apply(x, m.size, m.alpha, m.beta, m.k)


def swap_lrn(module):
    for name, child in module.named_children():
        if isinstance(child, torch.nn.LocalResponseNorm):
            setattr(module, name, LRN(child))
        else:
            swap_lrn(child)


def export(name, d):
    model, shape = twin(name)
    swap_lrn(model)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, *shape, generator=g)
    with torch.no_grad():
        y = model(x).flatten(1)
    np.save(os.path.join(d, "x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(d, "torch_out.npy"), y.numpy().astype(np.float32))
    # PRESERVE keeps bn as its own node (EVAL folds it into the conv before it).
    torch.onnx.export(model, x, os.path.join(d, name + ".onnx"), opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})


def compare(name, d):
    a = np.load(os.path.join(d, "torch_out.npy")).astype(np.float64)
    b = np.load(os.path.join(d, "go_out.npy")).reshape(a.shape[0], -1)
    if a.shape != b.shape:
        print(f"{name}: shapes differ: PyTorch {a.shape}, cnnc {b.shape}")
        sys.exit(1)
    diff, scale = float(np.abs(a - b).max()), float(np.abs(a).max())
    ratio = diff / scale if scale else float("inf")
    print(f"{name}: PyTorch -> ONNX -> cnnc: max |diff| {diff:.3g}, max |logit| {scale:.3g}, ratio {ratio:.3g}"
          + ("" if ratio < 1e-4 else "  MISS (> 1e-4)"))
    sys.exit(0 if ratio < 1e-4 else 1)


if __name__ == "__main__":
    (export if sys.argv[1] == "export" else compare)(sys.argv[2], sys.argv[3])
