#!/usr/bin/python3
"""The zoo through cnnc export (not run by CI): see scripts/onnx_check.sh.

    onnx_check.py check MODEL.onnx     ONNX's own checker (onnx.checker.check_model with
                                       full_check: shape inference too); exits 1 on a failure
    onnx_check.py compare NET DIR      prints "NET: ..." for DIR/ort/<out>.npy (ONNX Runtime's
                                       output) against DIR/go_out.npy (cnnc infer's) and, where
                                       it exists, DIR/torch_out.npy (PyTorch's); exits 1 when a
                                       ratio is not below 1e-4 (or the shapes differ)
"""
import os
import sys

import numpy as np


def check(path):
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)


def ratio(a, b):
    a = a.reshape(a.shape[0], -1).astype(np.float64)
    b = b.reshape(b.shape[0], -1).astype(np.float64)
    if a.shape != b.shape:
        return None, 0.0, 0.0
    diff, scale = float(np.abs(a - b).max()), float(np.abs(b).max())
    return (diff / scale if scale else float("inf")), diff, scale


def compare(name, d):
    go = np.load(os.path.join(d, "go_out.npy"))
    outs = sorted(f for f in os.listdir(os.path.join(d, "ort")) if f.endswith(".npy"))
    ort = np.load(os.path.join(d, "ort", "logits.npy" if "logits.npy" in outs else "output.npy"))
    r, diff, scale = ratio(ort, go)
    if r is None:
        print(f"{name}: shapes differ: ONNX Runtime {ort.shape}, cnnc infer {go.shape}")
        sys.exit(1)
    line = f"{name}: ONNX Runtime vs cnnc infer: max |diff| {diff:.3g}, max |logit| {scale:.3g}, ratio {r:.3g}"
    ok = r < 1e-4
    tp = os.path.join(d, "torch_out.npy")
    if os.path.exists(tp):
        rt, _, _ = ratio(ort, np.load(tp))
        line += f"; vs PyTorch ratio {rt:.3g}"
        ok = ok and rt is not None and rt < 1e-4
    print(line + ("" if ok else "  MISS (> 1e-4)"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        compare(sys.argv[2], sys.argv[3])
