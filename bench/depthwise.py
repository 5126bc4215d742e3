#!/usr/bin/python3
"""Times PyTorch's depthwise conv (Conv2d(C, C, 3, groups=C)) on the layers
of BenchmarkDepthwise (runtime/conv_depthwise_bench_test.go), batch 8:
forward, input gradient and weight gradient (torch.autograd.grad, the
weight's and the bias's), as bench/depthwise.sh prints them.

    depthwise.py THREADS   -> "layer/pass GFLOP/s ms cpuGFLOP/s" lines

GFLOP/s = 2*MACs/time; time is the median of 5 repetitions, each at least
0.2 s of calls after a warm-up; cpuGFLOP/s the same per second of process
CPU time (time.process_time: all threads, their spinning included).
"""
import sys

import torch

from timing import timeit
import torch.nn.functional as F

LAYERS = [  # name, channels, size, stride
    ("112x112x32_s1", 32, 112, 1),
    ("56x56x144_s2", 144, 56, 2),
    ("14x14x576_s1", 576, 14, 1),
    ("7x7x960_s1", 960, 7, 1),
]
N = 8


def main():
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(1)
    for name, c, hw, s in LAYERS:
        x = torch.rand(N, c, hw, hw) * 2 - 1
        w = torch.rand(c, 1, 3, 3) * 2 - 1
        b = torch.rand(c) * 2 - 1
        o = (hw + 2 - 3) // s + 1
        flop = 2.0 * N * c * 9 * o * o
        with torch.no_grad():
            fwd = lambda: F.conv2d(x, w, b, stride=s, padding=1, groups=c)
            t, ct = timeit(fwd)
        print("%s/fwd %.3f %.3f %.3f" % (name, flop / t / 1e9, t * 1e3, flop / ct / 1e9))
        xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
        y = F.conv2d(xg, wg, bg, stride=s, padding=1, groups=c)
        dy = torch.rand_like(y) * 2 - 1
        t, ct = timeit(lambda: torch.autograd.grad(y, xg, dy, retain_graph=True))
        print("%s/bwd_data %.3f %.3f %.3f" % (name, flop / t / 1e9, t * 1e3, flop / ct / 1e9))
        t, ct = timeit(lambda: torch.autograd.grad(y, (wg, bg), dy, retain_graph=True))
        print("%s/bwd_filter %.3f %.3f %.3f" % (name, flop / t / 1e9, t * 1e3, flop / ct / 1e9))
        sys.stdout.flush()


main()
