"""PyTorch's speed on the zoo, for bench/networks.sh: the same networks as
networks/*.cnn (LeNet-5 and the original AlexNet with groups and LRN as in
shared/reference/zoo_counts.py, torchvision's VGG16, ResNet-18 and ResNet-50),
torch.set_num_threads(2). Prints `name mode batch img/s` lines.

Usage: /usr/bin/python3 bench/networks.py NAME:MODE:BATCH ...   (MODE infer or train)
"""
import sys, time
import torch, torch.nn as nn, torchvision.models as M

torch.set_num_threads(2)


def lenet5():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def alexnet():
    return nn.Sequential(nn.Conv2d(3, 96, 11, 4), nn.ReLU(), nn.MaxPool2d(3, 2), nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0),
                         nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
                         nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0), nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1, groups=2),
                         nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(), nn.Dropout(), nn.Linear(9216, 4096), nn.ReLU(),
                         nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


NETS = {"lenet5": (lenet5, (1, 28, 28), 10), "alexnet": (alexnet, (3, 227, 227), 1000),
        "vgg16": (M.vgg16, (3, 224, 224), 1000), "resnet18": (M.resnet18, (3, 224, 224), 1000),
        "resnet50": (M.resnet50, (3, 224, 224), 1000)}


def bench(name, mode, n):
    make, shape, classes = NETS[name]
    m = make()
    x = torch.randn(n, *shape)
    m.train(mode == "train")
    if mode == "train":
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        y = torch.randint(0, classes, (n,))

        def step():
            opt.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            opt.step()
    else:
        def step():
            with torch.no_grad():
                torch.softmax(m(x), 1)
    step()
    r, t = 0, time.perf_counter()
    while True:
        step()
        r += 1
        el = time.perf_counter() - t
        if el > 3 and r >= 2:
            break
    print(f"{name} {mode} {n} {n * r / el:.1f}")


for arg in sys.argv[1:]:
    name, mode, n = arg.split(":")
    bench(name, mode, int(n))
