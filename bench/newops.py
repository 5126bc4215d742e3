#!/usr/bin/python3
"""PyTorch's side of bench/newops.sh: the new layers' passes on the shapes of runtime's
benchmarks (BenchmarkLayerNorm, BenchmarkLayerScale, BenchmarkShuffle, BenchmarkScale, BenchmarkNewLayers), batch 8,
torch.set_num_threads($THREADS, default 2). Prints "NAME/PASS MS" lines, the median of 5 timings of >= 0.2 s.
"""
import os

import torch

from timing import timeit

torch.set_num_threads(int(os.environ.get("THREADS", "2")))


def case(name, fwd, inputs, dy_shape):
    xs = [t.detach().requires_grad_() for t in inputs]
    print(f"{name}/forward {1e3 * timeit(lambda: fwd(*[t.detach() for t in xs]))[0]:.3f}")
    dy = torch.randn(dy_shape)

    def back():
        y = fwd(*xs)
        torch.autograd.grad(y, xs, dy)
    # forward + backward, minus the forward: the backward alone
    fb, f = timeit(back)[0], timeit(lambda: fwd(*xs))[0]
    print(f"{name}/backward {1e3 * max(fb - f, 0):.3f}")


def main():
    from torchvision.models.convnext import LayerNorm2d
    ln = LayerNorm2d(96, eps=1e-6)
    x = torch.randn(8, 96, 56, 56)
    case("layernorm", lambda x, w, b: torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (96,), w, b, 1e-6).permute(0, 3, 1, 2),
         [x, ln.weight.detach(), ln.bias.detach()], x.shape)
    case("layerscale", lambda x, g: x * g, [x, torch.randn(96, 1, 1)], x.shape)
    s = torch.randn(8, 116, 28, 28)
    case("shuffle", lambda x: x.view(8, 2, 58, 28, 28).transpose(1, 2).reshape(8, 116, 28, 28), [s], s.shape)
    m = torch.randn(8, 64, 28, 28)
    case("scale", lambda x, f: x * f[:, :, None, None], [m, torch.randn(8, 64)], m.shape)
    g = torch.randn(8, 512, 14, 14)
    case("gap7x7", lambda x: torch.nn.functional.adaptive_avg_pool2d(x, 7), [g], (8, 512, 7, 7))
    case("split", lambda x: x[:, 58:].contiguous(), [s], (8, 58, 28, 28))
    from torchvision.ops import stochastic_depth
    case("droppath", lambda x: stochastic_depth(x, 0.1, "row", True), [x], x.shape)


if __name__ == "__main__":
    main()
