#!/usr/bin/python3
"""PyTorch's side of bench/compare.sh: one case per process, so that the peak resident memory
(getrusage) is the case's. The networks are the parity twins (scripts/parity.py: the .cnn's
LeNet-5, AlexNet with groups and LRN, GoogLeNet with its aux heads in training) and
torchvision's VGG16, ResNet-18, ResNet-50, MobileNet-v2 and EfficientNet-B0;
torch.set_num_threads(2). Training is one
SGD step with momentum and weight decay on the cross-entropy (GoogLeNet: + 0.3 x each aux
head's, as its .cnn). Prints "torch NET MODE BATCH IMG/S PEAK_RSS_KB".

    bench/compare.py NET infer|train BATCH [SECONDS]
"""
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import parity  # noqa: E402

torch.set_num_threads(2)


def model(name):
    if name in parity.TWINS:
        return parity.TWINS[name](), parity.TWINS[name].input
    import torchvision
    return getattr(torchvision.models, name)(weights=None), (3, 224, 224)


def main(name, mode, batch, secs):
    m, shape = model(name)
    x = torch.randn(batch, *shape)
    classes = 10 if name == "lenet5" else 1000
    y = torch.arange(batch) % classes
    if mode == "train":
        m.train()
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def step():
            opt.zero_grad()
            out = m(x)
            outs = out if isinstance(out, tuple) else (out,)
            loss = F.cross_entropy(outs[0], y) + sum(0.3 * F.cross_entropy(o, y) for o in outs[1:])
            loss.backward()
            opt.step()
    else:
        m.eval()

        def step():
            with torch.no_grad():
                m(x)
    step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < secs or n < 2:
        step()
        n += 1
    rate = n * batch / (time.perf_counter() - t0)
    print(f"torch {name} {mode} {batch} {rate:.1f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 2.0)
