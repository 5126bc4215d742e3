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
cd "$(dirname "$0")/.." || exit 2
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
	echo "parity.sh: skipped: /usr/bin/python3 cannot import torch and torchvision (apt-get install python3-torchvision)"
	exit 0
fi
nets=$*
if [ -z "$nets" ]; then
	nets=$(for f in networks/*.cnn; do basename "$f" .cnn; done)
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/cnnc" ./cmd/cnnc || exit 2
status=0
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
