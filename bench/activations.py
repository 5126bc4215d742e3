#!/usr/bin/env python3
"""Times PyTorch's activations on BenchmarkActivations' tensor (runtime/bench_test.go):
(8, 32, 112, 112) float32 uniform in (-6, 6), torch.set_num_threads(2).

    activations.py -> "name wall-ms cpu-ms" lines, names as BenchmarkActivations'

Each op writes into a preallocated tensor as cnnc's kernels do (out= or an
in-place op; the backward through aten's *_backward.grad_input), so no
allocation is timed; the in-place forwards that are not idempotent start
from a copy, as cnnc's benchmark does. The time is the median of 5
repetitions, each at least 0.2 s of calls after a warm-up; CPU time is the
process's (time.process_time: every thread).
"""

import torch

from timing import timeit

torch.set_num_threads(2)
a = torch.ops.aten
shape = (8, 32, 112, 112)
g = torch.Generator().manual_seed(4)
x = torch.rand(shape, generator=g) * 12 - 6
dy = torch.rand(shape, generator=g) * 2 - 1
y, gr, dx = x.clamp(min=0), dy.clone(), torch.empty(shape)
yt = torch.tanh(x)
ys = torch.sigmoid(x)


ops = [
    ("relu_fwd", lambda: torch.relu_(y)),
    ("relu_bwd", lambda: a.threshold_backward.grad_input(dy, y, 0, grad_input=gr)),
    ("relu6_fwd", lambda: torch.nn.functional.relu6(y, inplace=True)),
    ("relu6_bwd", lambda: a.hardtanh_backward.grad_input(dy, y, 0, 6, grad_input=gr)),
    ("tanh_fwd+copy", lambda: torch.tanh_(dx.copy_(x))),
    ("tanh_bwd+copy", lambda: a.tanh_backward.grad_input(gr.copy_(dy), yt, grad_input=gr)),
    ("sigmoid_fwd", lambda: torch.sigmoid(x, out=dx)),
    ("sigmoid_bwd", lambda: a.sigmoid_backward.grad_input(dy, ys, grad_input=dx)),
    ("silu_fwd", lambda: a.silu.out(x, out=dx)),
    ("silu_bwd", lambda: a.silu_backward.grad_input(dy, x, grad_input=dx)),
    ("gelu_fwd", lambda: a.gelu.out(x, out=dx)),
    ("gelu_bwd", lambda: a.gelu_backward.grad_input(dy, x, grad_input=dx)),
    ("gelu_tanh_fwd", lambda: a.gelu.out(x, approximate="tanh", out=dx)),
    ("gelu_tanh_bwd", lambda: a.gelu_backward.grad_input(dy, x, approximate="tanh", grad_input=dx)),
    ("hardswish_fwd", lambda: a.hardswish.out(x, out=dx)),
    ("hardswish_bwd", lambda: a.hardswish_backward.out(dy, x, out=dx)),
    ("hardsigmoid_fwd", lambda: a.hardsigmoid.out(x, out=dx)),
    ("hardsigmoid_bwd", lambda: a.hardsigmoid_backward.grad_input(dy, x, grad_input=dx)),
]
print("# torch %s, %d threads" % (torch.__version__, torch.get_num_threads()))
for name, f in ops:
    w, c = timeit(f)
    print("%s %.3f %.3f" % (name, w * 1e3, c * 1e3))
