"""PyTorch twins of generated networks, for gen/parity_test.go.

For each network it builds the same model in PyTorch (torch 1.13, Debian's python3-torch),
with PyTorch's default initialisation from a fixed seed, and writes <name>.safetensors:
the weights under cnnc's names (the network's Tensors), a batch of inputs and labels, the
eval-mode outputs, the training loss of one step, the gradient of every parameter (g.NAME,
before the update), and every tensor after one optimizer step with the .cnn's recipe (SGD,
momentum, weight decay) in training mode.

Run: /usr/bin/python3 gen/testdata/parity.py   (writes gen/testdata/*.safetensors)
"""
import json, os, struct, sys
import torch, torch.nn as nn, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "safetensors", "testdata"))
from torch_ref import write  # noqa: E402  (safetensors writer: struct + json)

torch.set_num_threads(1)


class LeNet5(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv1, s.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        s.fc1, s.fc2, s.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(s, x):
        x = F.max_pool2d(F.relu(s.conv1(x)), 2)
        x = F.max_pool2d(F.relu(s.conv2(x)), 2)
        x = F.relu(s.fc1(x.flatten(1)))
        return s.fc3(F.relu(s.fc2(x)))


class Basic(nn.Module):
    def __init__(s, cin, c, stride):
        super().__init__()
        s.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        s.bn1 = nn.BatchNorm2d(c)
        s.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        s.bn2 = nn.BatchNorm2d(c)
        s.proj = None
        if stride != 1 or cin != c:
            s.proj = nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(s, x):
        y = s.bn2(s.conv2(F.relu(s.bn1(s.conv1(x)))))
        return F.relu(y + (x if s.proj is None else s.proj(x)))


class MiniResNet(nn.Module):
    """testdata/nets/mini_resnet.cnn"""
    def __init__(s):
        super().__init__()
        s.conv1, s.bn1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8)
        s.b1, s.b1b, s.b2 = Basic(8, 8, 1), Basic(8, 8, 1), Basic(8, 16, 2)
        s.r1, s.r2 = nn.Conv2d(16, 16, 3, 1, 1), nn.Conv2d(16, 16, 3, 1, 1)
        s.sc = nn.Conv2d(16, 16, 1)
        s.fc = nn.Linear(16, 4)

    def forward(s, x):
        x = s.b2(s.b1b(s.b1(F.relu(s.bn1(s.conv1(x))))))
        x = F.relu(s.r2(F.relu(s.r1(x))) + F.relu(s.sc(x)))
        return s.fc(x.mean((2, 3)))

    def names(s):
        """cnnc's name for each PyTorch parameter or buffer."""
        m = {"conv1": "conv1", "bn1": "bn1", "r1": "conv2", "r2": "conv3", "sc": "shortcut1.conv1", "fc": "fc1"}
        for b, inst in (("b1", "basic1"), ("b1b", "basic2"), ("b2", "basic3")):
            m.update({f"{b}.conv1": f"{inst}.conv1", f"{b}.bn1": f"{inst}.bn1", f"{b}.conv2": f"{inst}.conv2",
                      f"{b}.bn2": f"{inst}.bn2", f"{b}.proj.0": f"{inst}.shortcut1.conv1", f"{b}.proj.1": f"{inst}.shortcut1.bn1"})
        return m


def cnnc_state(model, names):
    out = []
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        mod, leaf = k.rsplit(".", 1)
        out.append((names.get(mod, mod) + "." + leaf, v.detach().clone().float()))
    return out


def cnnc_grads(model, names):
    out = []
    for k, p in model.named_parameters():
        mod, leaf = k.rsplit(".", 1)
        out.append((names.get(mod, mod) + "." + leaf, p.grad.detach().clone().float()))
    return out


def dump(name, model, names, shape, n, lr, momentum, decay):
    torch.manual_seed(1)
    x = torch.randn(n, *shape)
    labels = torch.arange(n) % 4
    tensors = [("w0." + k, v) for k, v in cnnc_state(model, names)]
    model.eval()
    with torch.no_grad():
        probs = F.softmax(model(x), 1)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=decay)
    opt.zero_grad()
    loss = F.cross_entropy(model(x), labels)
    loss.backward()
    tensors += [("g." + k, v) for k, v in cnnc_grads(model, names)]
    opt.step()
    tensors += [("w1." + k, v) for k, v in cnnc_state(model, names)]
    tensors += [("x", x), ("labels", labels.float()), ("probs", probs), ("loss", loss.detach().reshape(1))]
    path = os.path.join(HERE, name + ".safetensors")
    write(path, tensors, {"torch": torch.__version__, "lr": str(lr), "momentum": str(momentum), "decay": str(decay)})
    print(path, "loss", float(loss))


torch.manual_seed(0)
dump("lenet5", LeNet5(), {}, (1, 28, 28), 4, 0.01, 0.9, 5e-4)
torch.manual_seed(0)
m = MiniResNet()
dump("mini_resnet", m, m.names(), (3, 8, 8), 4, 0.01, 0.9, 5e-4)
