#!/usr/bin/python3
"""Golden tensors from PyTorch for the runtime kernels.

Run from this directory with the Debian PyTorch:  /usr/bin/python3 gen.py
It writes data.bin (all tensors as raw little-endian float32, one after the
other) and manifest.json ({"torch": version, "tensors": [{"name", "shape",
"offset"}]}, offset counted in floats). Integer tensors (labels) are stored as
float32. Names are "<case>.<tensor>". Every case uses torch.manual_seed(case
index) so outputs are reproducible; golden_test.go reads them. A rerun can
move a few hundred conv outputs by one ulp (oneDNN's summation order), so a
new case is added by running this and appending only the new tensors to the
committed data.bin and manifest.json.
"""
import json
import struct

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)
tensors = []  # (name, np.ndarray float32)


def put(name, t):
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    tensors.append((name, np.array(a, dtype=np.float32, copy=True)))  # copy: torch shares memory


def grads(loss, named):
    loss.backward()
    for name, t in named:
        put(name, t.grad)


def rand(*shape, scale=1.0):
    return (torch.rand(*shape) * 2 - 1) * scale


def conv_case(case, seed, n, c, h, w, k, kh, kw, stride, pad, dil, groups, bias, dy_is_y=False):
    torch.manual_seed(seed)
    x = rand(n, c, h, w).requires_grad_()
    wt = rand(k, c // groups, kh, kw, scale=0.3).requires_grad_()
    b = rand(k).requires_grad_() if bias else None
    y = F.conv2d(x, wt, b, stride=stride, padding=pad, dilation=dil, groups=groups)
    put(case + ".x", x)
    put(case + ".w", wt)
    if bias:
        put(case + ".b", b)
    put(case + ".y", y)
    if dy_is_y:
        loss = 0.5 * (y * y).sum()  # dy = y: nothing more to store
    else:
        dy = rand(*y.shape)
        put(case + ".dy", dy)
        loss = (y * dy).sum()
    named = [(case + ".dx", x), (case + ".dw", wt)]
    if bias:
        named.append((case + ".db", b))
    grads(loss, named)


# conv: AlexNet conv1 (227x227x3 -> 96 11x11 s4), grouped, dilated, 1x1
conv_case("conv1", 1, 1, 3, 227, 227, 96, 11, 11, 4, 0, 1, 1, True, dy_is_y=True)
conv_case("convg", 2, 2, 4, 9, 9, 6, 3, 3, 2, 1, 1, 2, True)
conv_case("convd", 3, 2, 3, 10, 11, 4, 3, 3, 1, 2, 2, 1, False)
conv_case("conv1x1", 4, 2, 8, 5, 5, 6, 1, 1, 1, 0, 1, 1, False)
conv_case("conv2", 5, 1, 8, 13, 13, 12, 5, 5, 1, 2, 1, 2, True)  # AlexNet conv2-like, two towers


def pool_case(case, seed, kind, n, c, h, w, k, s, p, ceil):
    torch.manual_seed(seed)
    x = rand(n, c, h, w).requires_grad_()
    if kind == "max":
        y = F.max_pool2d(x, k, s, p, ceil_mode=ceil)
    else:
        y = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=True)
    dy = rand(*y.shape)
    put(case + ".x", x)
    put(case + ".y", y)
    put(case + ".dy", dy)
    grads((y * dy).sum(), [(case + ".dx", x)])


pool_case("maxceil", 10, "max", 2, 3, 10, 10, 3, 2, 1, True)
pool_case("maxalex", 11, "max", 2, 4, 55, 55, 3, 2, 0, False)
pool_case("maxceil2", 12, "max", 1, 2, 14, 14, 3, 2, 0, True)  # GoogLeNet style
pool_case("avgceil", 13, "avg", 2, 3, 10, 10, 3, 2, 1, True)
pool_case("avgceil2", 14, "avg", 2, 2, 7, 7, 2, 2, 1, True)
pool_case("avgceil3", 15, "avg", 1, 2, 6, 6, 3, 2, 1, True)  # window clipped at the padded border
pool_case("avgfloor", 16, "avg", 2, 3, 8, 8, 5, 3, 0, False)

# gap
torch.manual_seed(20)
x = rand(2, 3, 4, 5).requires_grad_()
y = F.adaptive_avg_pool2d(x, 1).flatten(1)
dy = rand(*y.shape)
put("gap.x", x); put("gap.y", y); put("gap.dy", dy)
grads((y * dy).sum(), [("gap.dx", x)])


def lrn_case(case, seed, n, c, h, w, size, alpha, beta, k, scale):
    torch.manual_seed(seed)
    x = rand(n, c, h, w, scale=scale).requires_grad_()
    y = torch.nn.LocalResponseNorm(size, alpha, beta, k)(x)
    dy = rand(*y.shape)
    put(case + ".x", x); put(case + ".y", y); put(case + ".dy", dy)
    grads((y * dy).sum(), [(case + ".dx", x)])


lrn_case("lrn", 21, 2, 7, 5, 5, 5, 1e-4, 0.75, 2.0, 10.0)  # AlexNet's parameters
lrn_case("lrnbig", 22, 2, 6, 3, 4, 3, 0.5, 0.6, 1.0, 1.0)  # large alpha: the cross term matters

# bn: train (batch statistics, running-stat update) and eval
torch.manual_seed(30)
bn = torch.nn.BatchNorm2d(3)
with torch.no_grad():
    bn.weight.copy_(rand(3) + 1.5)
    bn.bias.copy_(rand(3))
    bn.running_mean.copy_(rand(3))
    bn.running_var.copy_(torch.rand(3) + 0.5)
put("bn.gamma", bn.weight); put("bn.beta", bn.bias)
put("bn.running_mean0", bn.running_mean); put("bn.running_var0", bn.running_var)
x = rand(4, 3, 5, 5, scale=2.0).requires_grad_()
bn.train()
y = bn(x)
dy = rand(*y.shape)
put("bn.x", x); put("bn.y", y); put("bn.dy", dy)
put("bn.running_mean1", bn.running_mean); put("bn.running_var1", bn.running_var)
grads((y * dy).sum(), [("bn.dx", x), ("bn.dgamma", bn.weight), ("bn.dbeta", bn.bias)])
bn.eval()
put("bn.y_eval", bn(x))

# fc
torch.manual_seed(40)
x = rand(3, 10).requires_grad_()
lin = torch.nn.Linear(10, 5)
y = lin(x)
dy = rand(3, 5)
put("fc.x", x); put("fc.w", lin.weight); put("fc.b", lin.bias); put("fc.y", y); put("fc.dy", dy)
grads((y * dy).sum(), [("fc.dx", x), ("fc.dw", lin.weight), ("fc.db", lin.bias)])

# softmax and cross-entropy (mean over the batch); aux weight 0.3
torch.manual_seed(50)
logits = rand(4, 10, scale=4.0).requires_grad_()
labels = torch.tensor([3, 0, 9, 5])
put("xent.logits", logits); put("xent.labels", labels.float())
put("xent.probs", F.softmax(logits, dim=1))
loss = F.cross_entropy(logits, labels)
put("xent.loss", loss.reshape(1))
grads(0.3 * loss, [("xent.dlogits_w03", logits)])


# optimisers: 3 steps with fixed gradients
def optim_case(case, seed, make):
    torch.manual_seed(seed)
    w = torch.nn.Parameter(rand(12))
    put(case + ".w0", w)
    opt = make([w])
    for step in range(3):
        g = rand(12)
        put(case + ".g%d" % step, g)
        w.grad = g.clone()
        opt.step()
        put(case + ".w%d" % (step + 1), w)


optim_case("sgd", 60, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01))
optim_case("nesterov", 61, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True))
optim_case("sgdplain", 62, lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.001))
optim_case("adam", 63, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01))

# ReduceLROnPlateau(mode max): a validation-accuracy curve
p = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([p], lr=0.01)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=2)
acc = [0.1, 0.2, 0.3, 0.3, 0.30001, 0.3, 0.31, 0.31, 0.31, 0.31, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
lrs = []
for a in acc:
    sched.step(a)
    lrs.append(opt.param_groups[0]["lr"])
put("plateau.acc", acc); put("plateau.lr", lrs)

# MultiStepLR and StepLR
opt = torch.optim.SGD([p], lr=0.1)
ms = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 5], gamma=0.1)
lrs = []
for e in range(8):
    lrs.append(opt.param_groups[0]["lr"])
    opt.step(); ms.step()
put("multistep.lr", lrs)
opt = torch.optim.SGD([p], lr=0.1)
st = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
lrs = []
for e in range(8):
    lrs.append(opt.param_groups[0]["lr"])
    opt.step(); st.step()
put("steplr.lr", lrs)

# leaky relu (slope 0.1): forward and the input gradient
torch.manual_seed(70)
x = rand(2, 3, 4, 5).requires_grad_()
y = F.leaky_relu(x, 0.1)
dy = rand(*y.shape)
put("leakyrelu.x", x); put("leakyrelu.y", y); put("leakyrelu.dy", dy)
grads((y * dy).sum(), [("leakyrelu.dx", x)])

# bn with eps 1e-3 and momentum 0.01 (torchvision's GoogLeNet has eps 1e-3):
# small variances, so that eps matters
torch.manual_seed(80)
bn = torch.nn.BatchNorm2d(4, eps=1e-3, momentum=0.01)
with torch.no_grad():
    bn.weight.copy_(rand(4) + 1.5)
    bn.bias.copy_(rand(4))
    bn.running_mean.copy_(rand(4, scale=0.05))
    bn.running_var.copy_(torch.rand(4) * 0.004 + 0.0005)
put("bneps.gamma", bn.weight); put("bneps.beta", bn.bias)
put("bneps.running_mean0", bn.running_mean); put("bneps.running_var0", bn.running_var)
x = rand(3, 4, 3, 6, scale=0.05).requires_grad_()
bn.train()
y = bn(x)
dy = rand(*y.shape)
put("bneps.x", x); put("bneps.y", y); put("bneps.dy", dy)
put("bneps.running_mean1", bn.running_mean); put("bneps.running_var1", bn.running_var)
grads((y * dy).sum(), [("bneps.dx", x), ("bneps.dgamma", bn.weight), ("bneps.dbeta", bn.bias)])
bn.eval()
put("bneps.y_eval", bn(x))


# ---- layernorm, layerscale, droppath, shuffle (ConvNeXt, ShuffleNet) ----
def norm_cases():
    from torchvision.models.convnext import LayerNorm2d
    from torchvision.ops import stochastic_depth

    # layernorm over the channels of a map: torchvision's LayerNorm2d
    # (ConvNeXt's, eps 1e-6), and nn.LayerNorm(F, eps 1e-5) on vectors
    torch.manual_seed(90)
    ln = LayerNorm2d(6, eps=1e-6)
    with torch.no_grad():
        ln.weight.copy_(rand(6) + 1.0)
        ln.bias.copy_(rand(6))
    x = (rand(2, 6, 3, 4, scale=2.0) + 0.5).requires_grad_()
    y = ln(x)
    dy = rand(*y.shape)
    put("layernorm.gamma", ln.weight); put("layernorm.beta", ln.bias)
    put("layernorm.x", x); put("layernorm.y", y); put("layernorm.dy", dy)
    grads((y * dy).sum(), [("layernorm.dx", x), ("layernorm.dgamma", ln.weight), ("layernorm.dbeta", ln.bias)])

    torch.manual_seed(91)
    ln = torch.nn.LayerNorm(10, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(rand(10) + 1.0)
        ln.bias.copy_(rand(10))
    x = rand(3, 10, scale=0.01).requires_grad_()  # small: eps matters
    y = ln(x)
    dy = rand(*y.shape)
    put("layernormflat.gamma", ln.weight); put("layernormflat.beta", ln.bias)
    put("layernormflat.x", x); put("layernormflat.y", y); put("layernormflat.dy", dy)
    grads((y * dy).sum(), [("layernormflat.dx", x), ("layernormflat.dgamma", ln.weight), ("layernormflat.dbeta", ln.bias)])

    # layer scale: CNBlock's x * layer_scale, layer_scale of shape (C, 1, 1)
    torch.manual_seed(92)
    gamma = rand(4, 1, 1).requires_grad_()
    x = rand(2, 4, 3, 5).requires_grad_()
    y = x * gamma
    dy = rand(*y.shape)
    put("layerscale.gamma", gamma); put("layerscale.x", x); put("layerscale.y", y); put("layerscale.dy", dy)
    grads((y * dy).sum(), [("layerscale.dx", x), ("layerscale.dgamma", gamma)])

    # channel shuffle, 3 groups of 2: ShuffleNet's view-transpose-reshape
    # (torchvision's channel_shuffle; nn.ChannelShuffle agrees, but has no
    # backward in 1.13)
    torch.manual_seed(93)
    x = rand(2, 6, 2, 3).requires_grad_()
    y = x.view(2, 3, 2, 2, 3).transpose(1, 2).reshape(2, 6, 2, 3)
    assert torch.equal(y, torch.nn.ChannelShuffle(3)(x.detach()))
    dy = rand(*y.shape)
    put("shuffle.x", x); put("shuffle.y", y); put("shuffle.dy", dy)
    grads((y * dy).sum(), [("shuffle.dx", x)])

    # stochastic depth (row mode), p 0.5 over 16 images: its scaling of the
    # survivors; the mask (one value per image) is read back as y/x
    torch.manual_seed(94)
    x = (torch.rand(16, 3, 2, 2) + 0.5).requires_grad_()
    y = stochastic_depth(x, 0.5, "row", training=True)
    dy = rand(*y.shape)
    put("droppath.x", x); put("droppath.y", y); put("droppath.dy", dy)
    grads((y * dy).sum(), [("droppath.dx", x)])


norm_cases()
# ---- issue 12: the activations after 2015 (h12act) ----
def activations():
    """relu6, sigmoid, tanh, silu, gelu (exact and tanh forms), hardswish and
    hardsigmoid as PyTorch's modules: forward and input gradient, on random
    values in (-8, 8) and on the kinks and their neighbours (0, -3, 3, 6)."""
    torch.manual_seed(120)
    kinks = torch.tensor([0.0, -3.0, 3.0, 6.0, 1e-3, -1e-3, -3.001, -2.999, 2.999, 3.001, 5.999, 6.001,
                          -6.0, -10.0, 10.0, -20.0, 20.0, 0.5, -0.5, 0.624, 0.626, -100.0, 100.0])
    x0 = torch.cat([rand(2, 3, 4, 5, scale=8).flatten(), kinks])
    dy = rand(*x0.shape)
    put("act.x", x0); put("act.dy", dy)
    for name, m in [("relu6", torch.nn.ReLU6()), ("sigmoid", torch.nn.Sigmoid()), ("tanh", torch.nn.Tanh()),
                    ("silu", torch.nn.SiLU()), ("gelu", torch.nn.GELU()),
                    ("gelu_tanh", torch.nn.GELU(approximate="tanh")), ("hardswish", torch.nn.Hardswish()),
                    ("hardsigmoid", torch.nn.Hardsigmoid())]:
        x = x0.clone().requires_grad_()
        y = m(x)
        put("act.%s.y" % name, y)
        grads((y * dy).sum(), [("act.%s.dx" % name, x)])


activations()


# ---- the language after 2015 (split, scale): helper h12lang ----
# split { a | b | c }: x.chunk(3, dim=1), each part's gradient scattered
# back into dx
torch.manual_seed(120)
x = rand(2, 6, 3, 4).requires_grad_()
parts = x.chunk(3, dim=1)
put("split.x", x)
loss = 0
for k, y in enumerate(parts):
    dy = rand(*y.shape)
    put("split.y%d" % k, y); put("split.dy%d" % k, dy)
    loss = loss + (y * dy).sum()
grads(loss, [("split.dx", x)])
# scale { ... }: x * f[:, :, None, None] (squeeze-and-excitation)
torch.manual_seed(121)
x = rand(2, 4, 3, 5).requires_grad_()
f = rand(2, 4).requires_grad_()
y = x * f[:, :, None, None]
dy = rand(*y.shape)
put("scale.x", x); put("scale.f", f); put("scale.y", y); put("scale.dy", dy)
grads((y * dy).sum(), [("scale.dx", x), ("scale.df", f)])
# ---- end h12lang ----
# ---- issue 12, depthwise conv, adaptive average pooling, fc without bias ----
# dwconv is Conv2d(C, C, k, groups=C): stride 1 and 2, padding, dilation,
# 5x5, with and without bias; gap HxW is adaptive_avg_pool2d (uneven bins
# and an output larger than the input); fc nobias is linear without bias.
def depthwise_cases():
    conv_case("dws1", 90, 2, 4, 9, 9, 4, 3, 3, 1, 1, 1, 4, True)
    conv_case("dws2", 91, 2, 4, 10, 11, 4, 3, 3, 2, 1, 1, 4, False)
    conv_case("dwd2", 92, 2, 3, 12, 12, 3, 3, 3, 1, 2, 2, 3, True)
    conv_case("dw5", 93, 2, 2, 11, 11, 2, 5, 5, 2, 2, 1, 2, False)
    for case, seed, h, w, oh, ow in (("adapt32", 94, 7, 5, 3, 2), ("adapt44", 95, 3, 2, 4, 4), ("adapt22", 96, 6, 4, 2, 2)):
        torch.manual_seed(seed)
        x = rand(2, 3, h, w).requires_grad_()
        y = F.adaptive_avg_pool2d(x, (oh, ow))
        dy = rand(*y.shape)
        put(case + ".x", x); put(case + ".y", y); put(case + ".dy", dy)
        grads((y * dy).sum(), [(case + ".dx", x)])
    torch.manual_seed(97)
    x = rand(3, 10).requires_grad_()
    wt = rand(5, 10, scale=0.3).requires_grad_()
    y = F.linear(x, wt)
    dy = rand(*y.shape)
    put("fcnobias.x", x); put("fcnobias.w", wt); put("fcnobias.y", y); put("fcnobias.dy", dy)
    grads((y * dy).sum(), [("fcnobias.dx", x), ("fcnobias.dw", wt)])


depthwise_cases()

# write
manifest, off = [], 0
with open("data.bin", "wb") as f:
    for name, a in tensors:
        f.write(a.astype("<f4").tobytes())
        manifest.append({"name": name, "shape": list(a.shape), "offset": off})
        off += a.size
with open("manifest.json", "w") as f:
    json.dump({"torch": torch.__version__, "format": "raw little-endian float32, offsets in floats",
               "tensors": manifest}, f, indent=1)
print("%d tensors, %d floats" % (len(tensors), off))
