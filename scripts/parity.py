#!/usr/bin/python3
"""Parity of the zoo with PyTorch, eval mode and one training step (not run by CI): see
scripts/parity.sh.

    parity.py make NET DIR     writes DIR/torch.safetensors (the PyTorch twin's state dict in its
                               own order, random weights from a fixed seed, random bn statistics
                               where there is bn), DIR/x.npy (two fixed inputs) and
                               DIR/torch_out.npy (the twin's eval-mode output, flattened per image)
    parity.py compare NET DIR  prints "NET: max |diff| X, max |logit| Y, ratio Z" for
                               DIR/torch_out.npy against DIR/go_out.npy (cnnc infer's output) and
                               exits 1 when the ratio is not below 1e-4 (or the shapes differ)

One training step (scripts/parity.sh --train):

    parity.py train-make NET DIR     make's files and DIR/labels.npy (fixed labels)
    parity.py train-compare NET DIR  the twin's step in float32 and float64 with cnnc's dropout
                                     masks, against scripts/paritytrain's files; one line, exit 1
                                     on a miss (train_compare says how it decides)
    parity.py train-conditioning NET DIR
                                     how much the twin's float64 gradients move when the input
                                     moves by 1e-7 (relative): what float32 can hope for

The twins: torchvision's own model for vgg16, vgg19, resnet18..152, densenet121, convnext_tiny,
mobilenet_v2, mobilenet_v3_large, efficientnet_b0 and shufflenet_v2_x1_0 (scripts/weights_check.py's
make; convnext_tiny() below makes its weights random); for the others a module below that follows networks/NET.cnn line by line, registering
its parameters in the .cnn's order (cnnc weights pairs by order). GoogLeNet's twin defines the
two auxiliary classifiers (their weights are tensors of the network) but, like cnnc infer, does
not run them at inference. InceptionNaive and InceptionBottleneck end in a feature map
(28x28x672, 28x28x480): the whole map is compared, CHW order, as cnnc infer writes it.
"""
import json
import os
import re
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_weights import write  # noqa: E402

TORCHVISION = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg19",
               "densenet121", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0"]


class Stream:
    """The dropout stream of a cnnc training step (go_dropout.u64, written by scripts/paritytrain):
    the RNG's 64-bit draws, each the uniform (u >> 11) / 2^53 of runtime.RNG.Float64."""

    def __init__(s, path):
        u = np.fromfile(path, dtype="<u8")
        s.u = (u >> np.uint64(11)).astype(np.float64) / 2.0 ** 53
        s.pos = 0

    def take(s, n):
        if s.pos + n > len(s.u):
            raise SystemExit(f"parity.py: the twin's dropouts need more than the {len(s.u)} draws cnnc made")
        v = s.u[s.pos:s.pos + n]
        s.pos += n
        return v


STREAM = None  # a Stream: dropout in training mode applies cnnc's masks instead of drawing its own


def dropout(x, p, training):
    """F.dropout, or, with STREAM set, runtime.Dropout's masks: element i (C order, image after
    image) is zeroed when the next uniform is below P (float32, as cnnc stores it) and otherwise
    multiplied by 1/(1-P) computed in float32."""
    if not training:
        return x
    if STREAM is None:
        return F.dropout(x, p, True)
    p32 = np.float32(p)
    scale = np.float32(1) / (np.float32(1) - p32)
    u = STREAM.take(x.numel())
    mask = np.where(u < float(p32), np.float32(0), scale).astype(np.float32)
    return x * torch.from_numpy(mask).reshape(x.shape)


class Dropout(nn.Module):
    """nn.Dropout through dropout() (no tensors, so the state dict is nn.Dropout's)."""

    def __init__(s, p):
        super().__init__()
        s.p = p

    def forward(s, x):
        return dropout(x, s.p, s.training)


class DropPath(nn.Module):
    """torchvision's StochasticDepth(p, "row"), or, with STREAM set, runtime.DropPath's masks: image
    n's whole input is zeroed when the next uniform is below P (float32) and otherwise multiplied
    by 1/(1-P) computed in float32, one draw per image whenever it runs in training."""

    def __init__(s, p):
        super().__init__()
        s.p = p

    def forward(s, x):
        if not s.training:
            return x
        if STREAM is None:
            from torchvision.ops import stochastic_depth
            return stochastic_depth(x, s.p, "row", True)
        p32 = np.float32(s.p)
        scale = np.float32(1) / (np.float32(1) - p32)
        u = STREAM.take(x.shape[0])
        mask = np.where(u < float(p32), np.float32(0), scale).astype(np.float32)
        return x * torch.from_numpy(mask).reshape(-1, *[1] * (x.dim() - 1))


def stream_modules(model):
    """model with its nn.Dropout and StochasticDepth modules (torchvision's) replaced by Dropout and
    DropPath above, which take cnnc's stream in a training step (neither has tensors)."""
    from torchvision.ops import StochasticDepth
    for parent in list(model.modules()):
        for name, mod in list(parent.named_children()):
            if isinstance(mod, nn.Dropout):
                setattr(parent, name, Dropout(mod.p))
            elif isinstance(mod, StochasticDepth):
                setattr(parent, name, DropPath(mod.p))
    return model


def lrn(size=5, alpha=1e-4, beta=0.75, k=2.0):
    # cnnc's lrn defaults are AlexNet's (5, 1e-4, 0.75, 2); nn.LocalResponseNorm's k defaults to 1.
    return nn.LocalResponseNorm(size, alpha, beta, k)


class LeNet5(nn.Module):
    """networks/lenet5.cnn"""
    input = (1, 28, 28)

    def __init__(s):
        super().__init__()
        s.conv1, s.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        s.fc1, s.fc2, s.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(s, x):
        x = F.max_pool2d(F.relu(s.conv1(x)), 2)
        x = F.max_pool2d(F.relu(s.conv2(x)), 2)
        x = F.relu(s.fc1(x.flatten(1)))
        return s.fc3(F.relu(s.fc2(x)))


class AlexNet(nn.Module):
    """networks/alexnet.cnn: groups 2 on conv2, conv4, conv5; lrn 5 1e-4 0.75 2 after pools 1, 2."""
    input = (3, 227, 227)

    def __init__(s):
        super().__init__()
        s.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(5, 1e-4, 0.75, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(5, 1e-4, 0.75, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2))
        s.classifier = nn.Sequential(
            Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, 1000))

    def forward(s, x):
        return s.classifier(s.features(x).flatten(1))


class ZFNet(nn.Module):
    """networks/zfnet.cnn: ceil-mode pools, lrn with cnnc's defaults."""
    input = (3, 224, 224)

    def __init__(s):
        super().__init__()
        s.features = nn.Sequential(
            nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
            nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True))
        s.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), Dropout(0.5),
            nn.Linear(4096, 1000))

    def forward(s, x):
        return s.classifier(s.features(x).flatten(1))


class Inception(nn.Module):
    """googlenet.cnn's block inception(c1, r3, c3, r5, c5, pp); conv1..conv6 as cnnc numbers them."""

    def __init__(s, cin, c1, r3, c3, r5, c5, pp, reduce=True):
        super().__init__()
        s.reduce = reduce
        s.conv1 = nn.Conv2d(cin, c1, 1)
        if reduce:
            s.conv2 = nn.Conv2d(cin, r3, 1)
            s.conv3 = nn.Conv2d(r3, c3, 3, padding=1)
            s.conv4 = nn.Conv2d(cin, r5, 1)
            s.conv5 = nn.Conv2d(r5, c5, 5, padding=2)
        else:  # inception_naive: no 1x1 reductions, no conv after the pool
            s.conv2 = nn.Conv2d(cin, c3, 3, padding=1)
            s.conv3 = nn.Conv2d(cin, c5, 5, padding=2)
        if pp:
            s.conv6 = nn.Conv2d(cin, pp, 1)
        s.pp = pp

    def forward(s, x):
        p = F.max_pool2d(x, 3, 1, 1, ceil_mode=True)
        if s.reduce:
            b = [F.relu(s.conv1(x)), F.relu(s.conv3(F.relu(s.conv2(x)))), F.relu(s.conv5(F.relu(s.conv4(x))))]
        else:
            b = [F.relu(s.conv1(x)), F.relu(s.conv2(x)), F.relu(s.conv3(x))]
        b.append(F.relu(s.conv6(p)) if s.pp else p)
        return torch.cat(b, 1)


class InceptionNaive(nn.Module):
    """networks/inception_naive.cnn (its pool has no ceil; with stride 1 ceil mode changes nothing)"""
    input = (256, 28, 28)

    def __init__(s):
        super().__init__()
        s.m = Inception(256, 128, 0, 192, 0, 96, 0, reduce=False)

    def forward(s, x):
        return s.m(x)


class InceptionBottleneck(nn.Module):
    """networks/inception_bottleneck.cnn"""
    input = (256, 28, 28)

    def __init__(s):
        super().__init__()
        s.m = Inception(256, 128, 64, 192, 64, 96, 64)

    def forward(s, x):
        return s.m(x)


class Classifier(nn.Module):
    """googlenet.cnn's block classifier(): avgpool 5 s3 ceil, conv 128 1x1, fc 1024, fc 1000."""

    def __init__(s, cin):
        super().__init__()
        s.conv1 = nn.Conv2d(cin, 128, 1)
        s.fc1, s.fc2 = nn.Linear(128 * 4 * 4, 1024), nn.Linear(1024, 1000)

    def forward(s, x):
        x = F.relu(s.conv1(F.avg_pool2d(x, 5, 3, ceil_mode=True)))
        return s.fc2(dropout(F.relu(s.fc1(x.flatten(1))), 0.7, s.training))


class GoogLeNet(nn.Module):
    """networks/googlenet.cnn, registered in the .cnn's order (aux1 after 4a, aux2 after 4d)."""
    input = (3, 224, 224)

    def __init__(s):
        super().__init__()
        s.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        s.conv2 = nn.Conv2d(64, 64, 1)
        s.conv3 = nn.Conv2d(64, 192, 3, padding=1)
        s.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        s.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        s.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        s.aux1 = Classifier(512)
        s.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        s.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        s.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        s.aux2 = Classifier(528)
        s.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        s.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        s.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        s.fc1 = nn.Linear(1024, 1000)
        s.lrn1, s.lrn2 = lrn(), lrn()

    def forward(s, x):
        x = s.lrn1(F.max_pool2d(F.relu(s.conv1(x)), 3, 2, ceil_mode=True))
        x = F.relu(s.conv3(F.relu(s.conv2(x))))
        x = F.max_pool2d(s.lrn2(x), 3, 2, ceil_mode=True)
        x = s.inception3b(s.inception3a(x))
        x = s.inception4a(F.max_pool2d(x, 3, 2, ceil_mode=True))
        aux = [s.aux1(x)] if s.training else []  # the auxiliary heads run in training only
        x = s.inception4d(s.inception4c(s.inception4b(x)))
        aux += [s.aux2(x)] if s.training else []
        x = s.inception4e(x)
        x = s.inception5b(s.inception5a(F.max_pool2d(x, 3, 2, ceil_mode=True)))
        x = dropout(F.avg_pool2d(x, 7, 1), 0.4, s.training)
        x = s.fc1(x.flatten(1))
        return (x, *aux) if s.training else x


TWINS = {"lenet5": LeNet5, "alexnet": AlexNet, "zfnet": ZFNet, "googlenet": GoogLeNet,
         "inception_naive": InceptionNaive, "inception_bottleneck": InceptionBottleneck}


def convnext_tiny(d):
    """torchvision's convnext_tiny with its state dict as PyTorch writes it (cnnc weights pairs
    each CNBlock's layer_scale, listed before the block's modules, by its name's last part, and
    the nn.Linear weights (4C, C) with the 1x1 convs' (4C, C, 1, 1)). The layer norms' affine
    parameters and the layer scales are made random (layer scale 1e-6 would make every block
    the identity)."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.convnext_tiny()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if k.endswith("layer_scale"):
                v.copy_(0.05 + 0.1 * torch.rand(v.shape, generator=g))
        for mod in model.modules():
            if isinstance(mod, nn.LayerNorm):
                c = mod.normalized_shape[0]
                mod.weight.copy_(1 + 0.2 * torch.randn(c, generator=g))
                mod.bias.copy_(0.1 * torch.randn(c, generator=g))
    model.eval()
    write(os.path.join(d, "torch.safetensors"), [(k, v.detach()) for k, v in model.state_dict().items()])
    x = torch.randn(2, 3, 224, 224, generator=g)
    np.save(os.path.join(d, "x.npy"), x.numpy().astype(np.float32))
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(d, "torch_out.npy"), y.numpy().astype(np.float32))


# torchvision's models whose weights or statistics are made random before the check (see each function).
ADAPTED = {"convnext_tiny": convnext_tiny}


def make(name, d):
    if name in TWINS:
        torch.manual_seed(0)
        model = TWINS[name]().eval()
        write(os.path.join(d, "torch.safetensors"), [(k, v.detach()) for k, v in model.state_dict().items()])
        g = torch.Generator().manual_seed(1)
        x = torch.randn(2, *model.input, generator=g)
        np.save(os.path.join(d, "x.npy"), x.numpy().astype(np.float32))
        with torch.no_grad():
            y = model(x).flatten(1)
        np.save(os.path.join(d, "torch_out.npy"), y.numpy().astype(np.float32))
    elif name in ADAPTED:
        ADAPTED[name](d)
    elif name in TORCHVISION:
        from weights_check import make as tv_make
        tv_make(name, d)
        os.rename(os.path.join(d, "torch_logits.npy"), os.path.join(d, "torch_out.npy"))
    else:
        sys.exit(f"parity.py: no PyTorch twin for {name}")


# The training step's tolerances (see docs/training.md): each tensor's max |cnnc - PyTorch|
# over its max |PyTorch value|.
TOL_LOSS, TOL_GRAD, TOL_PARAM, TOL_BUFFER = 1e-5, 1e-3, 1e-5, 1e-4
LABELS = [3, 7]


def read_st(path):
    """A safetensors file as {name: tensor} (F32 and I64)."""
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": "<f4", "I64": "<i8"}[info["dtype"]]
        lo, hi = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(b[8 + n + lo:8 + n + hi], dtype=dt).copy().reshape(info["shape"]))
    return out


def recipe(name):
    """networks/NET.cnn's optimizer line (sgd lr X momentum Y decay Z [nesterov]) with the lecture's
    defaults, and the weights of its auxiliary heads (aux weight W), in the file's order."""
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "networks", name + ".cnn")).read()
    src = "\n".join(line.split("#")[0] for line in src.splitlines())
    r = {"lr": 0.01, "momentum": 0.9, "decay": 5e-4, "nesterov": False}
    m = re.search(r"^\s*(sgd|adam)\b(.*)$", src, re.M)
    if m is None or m.group(1) != "sgd":
        sys.exit(f"parity.py: {name}.cnn: no sgd line in its train block")
    words = m.group(2).split()
    for i, w in enumerate(words):
        if w in ("lr", "momentum", "decay"):
            r[w] = float(words[i + 1])
        elif w == "nesterov":
            r["nesterov"] = True
    return r, [float(w) for w in re.findall(r"\baux\s+weight\s+([0-9.eE+-]+)", src)]


def new_twin(name, d):
    """The twin of train_make, with the weights it wrote (DIR/torch.safetensors), in training mode."""
    if name in TWINS:
        model = TWINS[name]()
    elif name in TORCHVISION:
        import torchvision
        model = stream_modules(getattr(torchvision.models, name)())
    else:
        sys.exit(f"parity.py: no PyTorch twin for {name}")
    model.load_state_dict(read_st(os.path.join(d, "torch.safetensors")))
    return model.train()


def train_make(name, d):
    make(name, d)
    np.save(os.path.join(d, "labels.npy"), np.array(LABELS, dtype=np.float32))


def rel(a, b):
    """max |a - b| / max |b| (0 for equal tensors, inf when b is 0 and a is not)."""
    a, b = a.double(), b.double()
    diff, scale = float((a - b).abs().max()), float(b.abs().max())
    return diff / scale if scale else (0.0 if diff == 0 else float("inf"))


def twin_step(name, d, rc, aux_weights, dtype, perturb=0.0):
    """One training step of the twin in dtype with cnnc's dropout stream: the loss, every
    parameter's gradient, every float tensor after the step, and the number of draws used.
    perturb multiplies each input value by 1 + perturb * N(0, 1) (from a fixed seed)."""
    global STREAM
    model = new_twin(name, d).to(dtype)
    x = torch.from_numpy(np.load(os.path.join(d, "x.npy"))).double()
    if perturb:
        x = x * (1 + perturb * torch.randn(x.shape, generator=torch.Generator().manual_seed(5), dtype=x.dtype))
    x = x.to(dtype)
    labels = torch.from_numpy(np.load(os.path.join(d, "labels.npy"))).long()
    STREAM = Stream(os.path.join(d, "go_dropout.u64"))
    out = model(x)
    outs = out if isinstance(out, tuple) else (out,)
    if len(outs) != 1 + len(aux_weights):
        sys.exit(f"parity.py: {name}: the twin has {len(outs) - 1} auxiliary heads, the .cnn {len(aux_weights)}")
    loss = F.cross_entropy(outs[0], labels)
    for w, o in zip(aux_weights, outs[1:]):
        loss = loss + w * F.cross_entropy(o, labels)
    opt = torch.optim.SGD(model.parameters(), lr=rc["lr"], momentum=rc["momentum"],
                          weight_decay=rc["decay"], nesterov=rc["nesterov"])
    opt.zero_grad()
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    opt.step()
    after = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}
    draws, STREAM = STREAM.pos, None
    return loss.detach().reshape(1), grads, after, draws


def rel2(a, b):
    """|a - b| / |b| in L2 norm (the whole tensor)."""
    a, b = a.double(), b.double()
    n = float(b.norm())
    return float((a - b).norm()) / n if n else (0.0 if bool((a == b).all()) else float("inf"))


def train_compare(name, d):
    """One training step of the twin, in float32 and in float64, against cnnc's (go_step.json,
    go_dropout.u64, and go_grads_torch.safetensors, go_after_torch.safetensors: paritytrain's
    files under the twin's names, by cnnc weights --names); prints one line and exits 1 on a miss.

    Each kind of tensor (the loss, the gradients, the parameters after the step, the bn running
    statistics after it) is compared per tensor with PyTorch float32, as max |cnnc - torch| /
    max |torch|; the worst tensor is reported and should be within the kind's TOL_*. Where it is
    not (ResNet-50's and GoogLeNet's gradients: float32 itself cannot do better, see
    docs/training.md), cnnc is held to PyTorch float32's accuracy on this step instead: cnnc's
    worst per-tensor L2 error against PyTorch float64 (|a - b| / |b|) must be at most twice
    PyTorch float32's. Anything else is a MISS."""
    with open(os.path.join(d, "go_step.json")) as f:
        go = json.load(f)
    rc, aux_weights = recipe(name)
    miss = []
    for k in ("lr", "momentum", "decay", "nesterov"):
        if go[k] != rc[k]:
            miss.append(f"recipe's {k}: cnnc {go[k]}, {name}.cnn {rc[k]}")
    l32, g32, a32, draws = twin_step(name, d, rc, aux_weights, torch.float32)
    if draws != go["dropout_draws"]:
        miss.append(f"dropout draws: the twin {draws}, cnnc {go['dropout_draws']}")
    l64, g64, a64, _ = twin_step(name, d, rc, aux_weights, torch.float64)
    gg = read_st(os.path.join(d, "go_grads_torch.safetensors"))
    ga = read_st(os.path.join(d, "go_after_torch.safetensors"))
    params = set(g64)
    lgo = torch.tensor([go["loss"]])
    kinds = [("loss", TOL_LOSS, {"loss": (lgo, l32, l64)}),
             ("grads", TOL_GRAD, {k: (gg.get(k), g32[k], g64[k]) for k in g64}),
             ("params after step", TOL_PARAM, {k: (ga.get(k), a32[k], a64[k]) for k in a64 if k in params}),
             ("bn running stats", TOL_BUFFER, {k: (ga.get(k), a32[k], a64[k]) for k in a64 if k not in params})]
    parts = []
    for what, tol, ts in kinds:
        rows = []  # (cnnc vs float32, PyTorch float32 vs float64, both in L2 vs float64, name)
        for k, (got, w32, w64) in ts.items():
            if got is None or got.shape != w64.shape:
                miss.append(f"{k}: not in cnnc's file" if got is None else f"{k}: cnnc's is {list(got.shape)}, torch's {list(w64.shape)}")
                continue
            rows.append((rel(got, w32), rel(w32, w64), rel2(got, w64), rel2(w32, w64), k))
        if not rows:
            continue
        worst = max(rows, key=lambda r: (r[0] != r[0], r[0]))
        t64, l2go, l2t = max(r[1] for r in rows), max(r[2] for r in rows), max(r[3] for r in rows)
        if what == "loss":
            parts.append(f"loss {float(l32):.6g}, rel diff {worst[0]:.3g}")
        else:
            parts.append(f"{what} max rel {worst[0]:.3g} ({worst[4]})")
        if worst[0] <= tol:
            continue
        # Beyond tol: cnnc is held to PyTorch float32's own accuracy on this step instead.
        parts[-1] += (f" [> {tol:g}; vs float64: max rel PyTorch float32 {t64:.3g}; L2 rel cnnc {l2go:.3g},"
                      f" PyTorch float32 {l2t:.3g}]")
        if not l2go <= 2 * l2t:
            miss.append(f"{what}: max rel {worst[0]:.3g} > {tol:g} and L2 rel vs float64 {l2go:.3g} > 2 x PyTorch float32's {l2t:.3g}")
    print(f"{name} train: " + "; ".join(parts) + (": OK" if not miss else ": MISS (" + "; ".join(miss) + ")"))
    sys.exit(1 if miss else 0)


def train_conditioning(name, d):
    """How well-posed the step's gradients are: the twin's float64 gradients on x and on
    x * (1 + 1e-7 N(0, 1)), the worst and the median tensor of max |a - b| / max |b|."""
    rc, aux_weights = recipe(name)
    _, a, _, _ = twin_step(name, d, rc, aux_weights, torch.float64)
    _, b, _, _ = twin_step(name, d, rc, aux_weights, torch.float64, perturb=1e-7)
    rows = sorted((rel(b[k], a[k]), k) for k in a)
    print(f"{name} conditioning: float64 gradients with the input perturbed by 1e-7 (relative): "
          f"max rel {rows[-1][0]:.3g} ({rows[-1][1]}), median {rows[len(rows) // 2][0]:.3g}")


def compare(name, d):
    a = np.load(os.path.join(d, "torch_out.npy"))
    b = np.load(os.path.join(d, "go_out.npy"))
    if a.shape != b.shape:
        print(f"{name}: shapes differ: PyTorch {a.shape}, cnnc {b.shape}")
        sys.exit(1)
    diff, scale = float(np.abs(a.astype(np.float64) - b).max()), float(np.abs(a).max())
    ratio = diff / scale if scale else float("inf")
    print(f"{name}: max |diff| {diff:.3g}, max |logit| {scale:.3g}, ratio {ratio:.3g}"
          + ("" if ratio < 1e-4 else "  MISS (> 1e-4)"))
    sys.exit(0 if ratio < 1e-4 else 1)


if __name__ == "__main__":
    {"make": make, "compare": compare, "train-make": train_make,
     "train-compare": train_compare, "train-conditioning": train_conditioning}[sys.argv[1]](sys.argv[2], sys.argv[3])
