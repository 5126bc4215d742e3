#!/bin/sh
# Eval-mode parity of the zoo with PyTorch (not run by CI: it needs Debian's
# python3-torch and python3-torchvision as /usr/bin/python3). For each
# network: its PyTorch twin (torchvision's model for vgg16/19 and
# resnet18..152, else a module in scripts/parity.py that follows the .cnn
# line by line) with random weights from a fixed seed is saved as a state
# dict; cnnc weights maps it onto networks/NET.cnn; cnnc infer runs the Go
# network on two fixed inputs; and the outputs (logits, or the whole feature
# map for the inception modules) are compared. One line per network:
#
#   NET: max |diff| X, max |logit| Y, ratio Z
#
# and the exit status is 1 if any ratio is not below 1e-4 (or any step fails).
#
#   sh scripts/parity.sh [NET...]     (default: every networks/*.cnn)
#
# With --train, one training step instead (default: lenet5 alexnet googlenet
# resnet50; paritytrain also knows zfnet and resnet18): the twin's weights and two fixed
# inputs with fixed labels (parity.py train-make); cnnc weights; one
# Net.TrainStep in Go (scripts/paritytrain: the loss with the auxiliary
# heads, backward, SGD with the recipe's momentum and weight decay), which
# writes the gradients, the tensors after the step and the dropout stream it
# drew; cnnc weights --names maps them back to the twin's names; and the
# twin does the same step in training mode with cnnc's dropout masks
# (parity.py train-compare). One line per network:
#
#   NET train: loss L, rel diff X; grads max rel Y (TENSOR); params after step max rel Z (TENSOR)[; bn running stats max rel W (TENSOR)]: OK
#
# and the exit status is 1 on a MISS (tolerances in parity.py, TOL_*).
#
#   sh scripts/parity.sh --train [NET...]
#
# With PARITY_CONDITIONING=1 in the environment, a second line per network
# says how well-posed the step is (parity.py train-conditioning: the twin's
# float64 gradients with the input perturbed by 1e-7; see docs/training.md).
cd "$(dirname "$0")/.." || exit 2
train=
if [ "$1" = --train ]; then
	train=1
	shift
fi
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
	echo "parity.sh: skipped: /usr/bin/python3 cannot import torch and torchvision (apt-get install python3-torchvision)"
	exit 0
fi
nets=$*
if [ -z "$nets" ] && [ -n "$train" ]; then
	nets="lenet5 alexnet googlenet resnet50"
elif [ -z "$nets" ]; then
	nets=$(for f in networks/*.cnn; do basename "$f" .cnn; done)
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/cnnc" ./cmd/cnnc || exit 2
status=0
if [ -n "$train" ]; then
	go build -o "$dir/paritytrain" ./scripts/paritytrain || exit 2
	for n in $nets; do
		d="$dir/$n"
		mkdir -p "$d"
		if /usr/bin/python3 scripts/parity.py train-make "$n" "$d" &&
			"$dir/cnnc" weights "networks/$n.cnn" "$d/torch.safetensors" -o "$d/cnnc.safetensors" &&
			"$dir/paritytrain" "$n" "$d" &&
			"$dir/cnnc" weights "networks/$n.cnn" "$d/go_grads.safetensors" -o "$d/go_grads_torch.safetensors" --names "$d/torch.safetensors" &&
			"$dir/cnnc" weights "networks/$n.cnn" "$d/go_after.safetensors" -o "$d/go_after_torch.safetensors" --names "$d/torch.safetensors"; then
			/usr/bin/python3 scripts/parity.py train-compare "$n" "$d" || status=1
			if [ -n "$PARITY_CONDITIONING" ]; then
				/usr/bin/python3 scripts/parity.py train-conditioning "$n" "$d" || status=1
			fi
		else
			echo "$n train: FAILED (see above)"
			status=1
		fi
		rm -rf "$d"
	done
	exit $status
fi
for n in $nets; do
	d="$dir/$n"
	mkdir -p "$d"
	if /usr/bin/python3 scripts/parity.py make "$n" "$d" &&
		"$dir/cnnc" weights "networks/$n.cnn" "$d/torch.safetensors" -o "$d/cnnc.safetensors" &&
		"$dir/cnnc" infer "networks/$n.cnn" --weights "$d/cnnc.safetensors" --input "$d/x.npy" -o "$d/go_out.npy" --batch 2; then
		/usr/bin/python3 scripts/parity.py compare "$n" "$d" || status=1
	else
		echo "$n: FAILED (see above)"
		status=1
	fi
done
exit $status
