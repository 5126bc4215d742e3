#!/usr/bin/python3
"""Data-parallel training of a cnnc network in PyTorch (docs/scaling.md; scripts/scale_roundtrip.sh
runs it between cnnc's export and import). CPU, torch.distributed with the gloo backend.

    scale_ddp.py ref NET OUT.safetensors
        the PyTorch twin's state dict (scripts/parity.py's TWINS), in its own order: the names
        `cnnc weights --names` writes a cnnc weights file under
    scale_ddp.py eval NET W.safetensors MNISTDIR [--npy N DIR]
        the twin with weights W (PyTorch's names) on MNIST's 10,000 test images: prints
        "torch test accuracy: X% (R of 10000)"; with --npy, writes DIR/x.npy (the first N test
        images, normalised) and DIR/torch_logits.npy (the twin's logits for them)
    scale_ddp.py train NET INIT.safetensors OUT.safetensors MNISTDIR [--procs P] [--epochs E]
        P processes (default 2) on this machine, each with 1/P of every global batch of the
        .cnn's recipe (batch, sgd lr, momentum, decay; the plateau schedule is not replayed:
        the learning rate stays at the recipe's), gradients averaged by DistributedDataParallel
        over gloo; rank 0 writes OUT (the twin's names and order) and prints the time and
        images/s of the training alone

Without a launcher the script starts its P processes itself (torch.multiprocessing, on
127.0.0.1). Started by a launcher (torchrun, SLURM, a shell loop), on one machine or several, each
process is one worker: RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT come from the
environment and --procs is ignored. Two processes by hand (what scripts/scale_roundtrip.sh's
numbers do not use, but docs/scaling.md's check does):

    for r in 0 1; do MASTER_ADDR=127.0.0.1 MASTER_PORT=29871 RANK=$r LOCAL_RANK=$r WORLD_SIZE=2 \
        python3 scripts/scale_ddp.py train NET INIT OUT MNISTDIR & done; wait

"""
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity import TWINS, read_st, recipe  # noqa: E402
from torchvision_weights import write  # noqa: E402

MEAN, STD = 0.1307, 0.3081  # runtime/data.MNISTNorm


def idx(path):
    """An idx file of unsigned bytes (gzipped or raw) as a numpy array."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:2] == b"\x1f\x8b":
        b = gzip.decompress(b)
    if b[:3] != b"\x00\x00\x08":
        sys.exit(f"scale_ddp.py: {path}: not an idx file of unsigned bytes")
    nd = b[3]
    dims = struct.unpack(">" + "I" * nd, b[4:4 + 4 * nd])
    data = np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd)
    if data.size != int(np.prod(dims)):
        sys.exit(f"scale_ddp.py: {path}: {data.size} bytes for dims {dims}")
    return data.reshape(dims)


def mnist(d, train):
    """Images (N, 1, 28, 28) float32 normalised as runtime/data does, labels int64."""
    p = "train" if train else "t10k"
    x = idx(os.path.join(d, p + "-images-idx3-ubyte.gz")).astype(np.float32)
    # (p/255 - mean) / std in float32, as runtime/data's table
    x = (x / np.float32(255) - np.float32(MEAN)) / np.float32(STD)
    y = idx(os.path.join(d, p + "-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x[:, None]), torch.from_numpy(y)


def twin(name, weights=None):
    if name not in TWINS:
        sys.exit(f"scale_ddp.py: no PyTorch twin of {name} in scripts/parity.py")
    m = TWINS[name]()
    if weights:
        missing, unexpected = m.load_state_dict(read_st(weights), strict=False)
        if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
            sys.exit(f"scale_ddp.py: {weights}: missing {missing}, unexpected {unexpected}")
    return m


def accuracy(m, x, y):
    m.eval()
    with torch.no_grad():
        right = sum(int((m(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum()) for i in range(0, len(x), 1000))
    return right


def worker(rank, procs, name, init, out, d, epochs, port):
    if "MASTER_ADDR" not in os.environ:  # torchrun sets them
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=procs)
    rc, _ = recipe(name)
    batch = recipe_batch(name)
    if batch % procs:
        sys.exit(f"scale_ddp.py: the recipe's batch {batch} does not split into {procs} processes")
    x, y = mnist(d, True)
    model = torch.nn.parallel.DistributedDataParallel(twin(name, init))
    opt = torch.optim.SGD(model.parameters(), lr=rc["lr"], momentum=rc["momentum"], weight_decay=rc["decay"],
                          nesterov=rc["nesterov"])
    g = torch.Generator().manual_seed(1)
    dist.barrier()
    start = time.time()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=g)  # the same on every rank
        model.train()
        steps = len(x) // batch  # whole global batches only
        for s in range(steps):
            mine = order[s * batch + rank:(s + 1) * batch:procs]
            opt.zero_grad()
            F.cross_entropy(model(x[mine]), y[mine]).backward()  # DDP averages the gradients
            opt.step()
    dist.barrier()
    sec = time.time() - start
    if rank == 0:
        m = model.module
        write(out, [(k, v.detach()) for k, v in m.state_dict().items()])
        n = steps * batch * epochs
        print(f"torch DDP: {procs} processes x {batch // procs} images per step, {epochs} epoch(s), "
              f"{n} images in {sec:.1f} s, {n / sec:.0f} images/s")
    dist.destroy_process_group()


def recipe_batch(name):
    """networks/NET.cnn's batch, or the lecture's 128 without one (as cnnc train)."""
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "networks", name + ".cnn")).read()
    for line in src.splitlines():
        w = line.split("#")[0].split()
        if len(w) == 2 and w[0] == "batch":
            return int(w[1])
    return 128


def main():
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "ref":
        m = twin(a[1])
        write(a[2], [(k, v.detach()) for k, v in m.state_dict().items()])
    elif len(a) >= 4 and a[0] == "eval":
        m = twin(a[1], a[2])
        x, y = mnist(a[3], False)
        right = accuracy(m, x, y)
        print(f"torch test accuracy: {100 * right / len(x):.2f}% ({right} of {len(x)})")
        if "--npy" in a:
            i = a.index("--npy")
            n, out = int(a[i + 1]), a[i + 2]
            np.save(os.path.join(out, "x.npy"), x[:n].numpy())
            with torch.no_grad():
                np.save(os.path.join(out, "torch_logits.npy"), m(x[:n]).numpy())
    elif len(a) >= 5 and a[0] == "train":
        procs = int(a[a.index("--procs") + 1]) if "--procs" in a else 2
        epochs = int(a[a.index("--epochs") + 1]) if "--epochs" in a else 1
        if "LOCAL_RANK" in os.environ:  # started by torchrun: one process of WORLD_SIZE
            worker(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), a[1], a[2], a[3], a[4], epochs, 0)
            return
        port = 29500 + os.getpid() % 1000
        mp.spawn(worker, args=(procs, a[1], a[2], a[3], a[4], epochs, port), nprocs=procs, join=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
