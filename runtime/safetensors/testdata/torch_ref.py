#!/usr/bin/python3
"""Cross-check runtime/safetensors against PyTorch (torch 1.13, numpy).

The `safetensors` Python package is not installed here (no Debian package),
so this script writes and reads the format by hand with struct, json and
numpy, following https://github.com/huggingface/safetensors.

    /usr/bin/python3 runtime/safetensors/testdata/torch_ref.py gen
        writes torch_ref.safetensors (read by TestTorchFile) from torch tensors
    /usr/bin/python3 runtime/safetensors/testdata/torch_ref.py check [FILE]
        reads go_written.safetensors (written by `go test -run
        TestGoWrittenGolden -update`) and checks every value against numpy's
        and torch's own float32/float16/bfloat16 conversions of the same recipe

Both files are committed; the Go tests need no Python.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8",
    torch.bool: "BOOL",
}


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().newbyteorder("<").tobytes() if t.numel() else b""


def write(path, tensors, meta):
    """tensors: list of (name, torch tensor), written sorted by name."""
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name, t in sorted(tensors):
        b = raw_bytes(t)
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


def gen():
    torch.manual_seed(0)
    w = torch.randn(4, 3, 3, 3)
    b = torch.randn(4)
    x = torch.randn(5, 7) * 100
    special = torch.tensor([65504.0, 65519.0, 65520.0, 1e-8, 2.98e-8, 6.1e-5,
                            -0.0, float("inf"), float("-inf"), 1.0 / 3, 3.0e38])
    tensors = [
        ("conv1.weight", w),
        ("conv1.bias", b),
        ("x", x), ("special", special),
        ("x.f16", x.half()), ("x.f16.as_f32", x.half().float()),
        ("x.bf16", x.bfloat16()), ("x.bf16.as_f32", x.bfloat16().float()),
        ("x.f64", x.double() / 3), ("x.f64.as_f32", (x.double() / 3).float()),
        ("special.f16", special.half()), ("special.f16.as_f32", special.half().float()),
        ("special.bf16", special.bfloat16()), ("special.bf16.as_f32", special.bfloat16().float()),
        ("bn1.num_batches_tracked", torch.tensor(123, dtype=torch.int64)),
        ("labels.i32", torch.tensor([-3, 0, 7], dtype=torch.int32)),
        ("mask.bool", torch.tensor([True, False, True])),
        ("empty", torch.zeros(0, 3)),
    ]
    meta = {
        "format": "pt",
        "producer": "torch_ref.py",
        "conv1.weight.first": " ".join(repr(float(v)) for v in w.flatten()[:4]),
        "conv1.weight.sum": repr(float(w.double().sum())),
        "conv1.bias": " ".join(repr(float(v)) for v in b),
    }
    out = os.path.join(HERE, "torch_ref.safetensors")
    write(out, tensors, meta)
    print("wrote", out)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buf = data[8 + n:]
    meta = header.pop("__metadata__", {})
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b0, b1 = info["data_offsets"]
        assert b0 == end, (name, b0, end)
        end = b1
    assert end == len(buf), (end, len(buf))
    np_types = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2"}
    out = {}
    for name, info in header.items():
        b0, b1 = info["data_offsets"]
        out[name] = (info["dtype"], np.frombuffer(buf[b0:b1], dtype=np_types[info["dtype"]]).reshape(info["shape"]))
    return out, meta


def recipe():
    """The values of go_written_test.go, computed in float32 by numpy."""
    a = np.array([((i * 37) % 101 - 50) / 16 for i in range(24)], dtype=np.float32).reshape(2, 3, 4)
    third = np.array([np.float32(i - 32) / np.float32(3) * np.float32(2.0 ** ((i % 9) * 4 - 20))
                      for i in range(64)], dtype=np.float32)
    special = np.array([65504, 65519, 65520, 1e-8, 2.98e-8, 6.1e-5, -0.0, np.inf, -np.inf, 3e38],
                       dtype=np.float32)
    return a, third, special


def check(path=os.path.join(HERE, "go_written.safetensors")):
    t, meta = read(path)
    a, third, special = recipe()
    ok = True

    def same(name, want_dtype, got, want):
        nonlocal ok
        dt, arr = t[name]
        good = dt == want_dtype and arr.shape == want.shape and arr.tobytes() == want.tobytes()
        print(("ok  " if good else "FAIL"), name, dt, list(arr.shape))
        ok &= good

    same("a", "F32", t["a"], a)
    same("third.f64", "F64", t["third.f64"], third.astype("<f8"))
    same("third.f16", "F16", t["third.f16"], third.astype("<f2"))
    with np.errstate(over="ignore"):  # 65520 and 3e38 round to inf, as wanted
        same("special.f16", "F16", t["special.f16"], special.astype("<f2"))
    bf = lambda v: torch.from_numpy(v).to(torch.bfloat16).view(torch.int16).numpy().view("<u2")
    same("third.bf16", "BF16", t["third.bf16"], bf(third))
    same("special.bf16", "BF16", t["special.bf16"], bf(special))
    same("scalar", "F32", t["scalar"], np.array(3.5, dtype=np.float32))
    same("empty", "F32", t["empty"], np.zeros((0, 2), dtype=np.float32))
    want_meta = {"epoch": "3", "note": 'h\u00e9llo "quoted" <&>'}
    print(("ok  " if meta == want_meta else "FAIL"), "metadata", meta)
    ok &= meta == want_meta
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    {"gen": gen, "check": check}[sys.argv[1] if len(sys.argv) > 1 else "gen"](*sys.argv[2:])
