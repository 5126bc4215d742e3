#!/bin/sh
# The real check of cnnc weights, not run by CI (it needs PyTorch and
# torchvision: Debian's python3-torch and python3-torchvision as
# /usr/bin/python3). For each model: a torchvision model with random
# weights (and random bn statistics) is saved as a state dict; cnnc weights
# maps it onto networks/MODEL.cnn; cnnc infer runs the Go network on two
# fixed images, and the logits are compared with PyTorch's (eval mode);
# then cnnc weights --names writes them back under torchvision's names and
# a fresh torchvision model loads them and gives the same logits.
#
#   sh scripts/weights_check.sh [MODEL...]     (default: resnet50 vgg16)
set -e
cd "$(dirname "$0")/.."
models=${*:-resnet50 vgg16}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/cnnc" ./cmd/cnnc
for m in $models; do
	mkdir -p "$dir/$m"
	/usr/bin/python3 scripts/weights_check.py make "$m" "$dir/$m"
	"$dir/cnnc" weights "networks/$m.cnn" "$dir/$m/torch.safetensors" -o "$dir/$m/cnnc.safetensors"
	"$dir/cnnc" infer "networks/$m.cnn" --weights "$dir/$m/cnnc.safetensors" --input "$dir/$m/x.npy" -o "$dir/$m/go_logits.npy"
	printf '%s: ' "$m"
	/usr/bin/python3 scripts/weights_check.py compare "$dir/$m"
	"$dir/cnnc" weights "networks/$m.cnn" "$dir/$m/cnnc.safetensors" -o "$dir/$m/back.safetensors" --names "$dir/$m/torch.safetensors"
	printf '%s: ' "$m"
	/usr/bin/python3 scripts/weights_check.py back "$m" "$dir/$m"
done
