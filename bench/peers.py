#!/usr/bin/env python3
"""Times the products and conv layers of bench/kernels.sh in numpy and PyTorch.

    peers.py numpy  SHAPES    -> "name GFLOP/s" lines for numpy matmul (its BLAS)
    peers.py torch  SHAPES    -> the same products with torch.mm
    peers.py conv   LAYERS    -> "layer/pass GFLOP/s" for torch conv2d fwd,
                                 input grad and weight grad (torch.autograd.grad)
    peers.py blasinfo         -> which BLAS library and kernel numpy runs

SHAPES lines: name tA tB m n k (tA/tB N or T). LAYERS lines:
name batch cin h w cout kh kw stride pad bias. GFLOP/s = 2*MACs/time, time is
the median of 5 repetitions (the fastest with BEST=1), each at least 0.2 s of
calls after a warm-up.
"""
import sys

from timing import timeit


def read_lines(path):
    with open(path) as fh:
        return [l.split() for l in fh if l.strip() and not l.startswith("#")]


def products(kind, path):
    import numpy as np
    if kind == "torch":
        import torch
        torch.set_num_threads(2)
    rng = np.random.default_rng(1)
    for name, ta, tb, m, n, k in read_lines(path):
        m, n, k = int(m), int(n), int(k)
        a = rng.standard_normal((k, m) if ta == "T" else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb == "T" else (k, n), dtype=np.float32)
        if kind == "numpy":
            A = a.T if ta == "T" else a
            B = b.T if tb == "T" else b
            c = np.empty((m, n), dtype=np.float32)
            f = lambda: np.matmul(A, B, out=c)
        else:
            ta_, tb_ = torch.from_numpy(a), torch.from_numpy(b)
            A = ta_.t() if ta == "T" else ta_
            B = tb_.t() if tb == "T" else tb_
            c = torch.empty((m, n), dtype=torch.float32)
            f = lambda: torch.mm(A, B, out=c)
        t = timeit(f)[0]
        print(f"{name} {2 * m * n * k / t / 1e9:.2f}", flush=True)


def convs(path):
    import torch
    torch.set_num_threads(2)
    torch.manual_seed(1)
    for name, batch, cin, h, w, cout, kh, kw, s, p, bias in read_lines(path):
        batch, cin, h, w, cout, kh, kw, s, p = map(int, (batch, cin, h, w, cout, kh, kw, s, p))
        conv = torch.nn.Conv2d(cin, cout, (kh, kw), stride=s, padding=p, bias=bias == "1")
        x = torch.randn(batch, cin, h, w, requires_grad=True)
        oh, ow = (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1
        macs = batch * cout * oh * ow * cin * kh * kw
        with torch.no_grad():
            t = timeit(lambda: conv(x))[0]
        print(f"{name}/fwd {2 * macs / t / 1e9:.2f}", flush=True)
        y = conv(x)
        g = torch.randn_like(y)
        # The backward alone: the graph of one forward is kept and each
        # call computes only the gradient asked for (autograd passes the
        # conv backward an output mask).
        t = timeit(lambda: torch.autograd.grad(y, x, g, retain_graph=True))[0]
        print(f"{name}/bwd_data {2 * macs / t / 1e9:.2f}", flush=True)
        t = timeit(lambda: torch.autograd.grad(y, conv.weight, g, retain_graph=True))[0]
        print(f"{name}/bwd_filter {2 * macs / t / 1e9:.2f}", flush=True)


def blasinfo():
    import ctypes
    import numpy as np
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower() and "/" in l})
    print("numpy", np.__version__, "BLAS libraries:", " ".join(libs) or "none found")
    for lib in libs:
        try:
            h = ctypes.CDLL(lib)
            h.openblas_get_config.restype = ctypes.c_char_p
            h.openblas_get_corename.restype = ctypes.c_char_p
            print("OpenBLAS config:", h.openblas_get_config().decode(),
                  "| core:", h.openblas_get_corename().decode(),
                  "| threads:", h.openblas_get_num_threads())
            return
        except (OSError, AttributeError):
            continue
    try:
        import threadpoolctl
        for info in threadpoolctl.threadpool_info():
            print(info)
        return
    except ImportError:
        pass
    print("not OpenBLAS; numpy.show_config():")
    np.show_config()


if __name__ == "__main__":
    if sys.argv[1] == "blasinfo":
        blasinfo()
    elif sys.argv[1] == "conv":
        convs(sys.argv[2])
    else:
        products(sys.argv[1], sys.argv[2])
