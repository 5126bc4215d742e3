#!/bin/sh
# The zoo through cnnc export (not run by CI, which runs the small networks
# in gen/onnx_test.go): for each network, random weights from its PyTorch
# twin (scripts/parity.py make) mapped by cnnc weights, then
#   cnnc export  -> ONNX's checker (Debian's python3-onnx, full check)
#                -> ONNX Runtime (tools/ort: onnxruntime-node, CPU)
#   cnnc infer   on the same two inputs
# and ONNX Runtime's logits (the whole map for the inception modules) are
# compared with cnnc infer's and PyTorch's. One line per network:
#
#   NET: ONNX Runtime vs cnnc infer: max |diff| X, max |logit| Y, ratio Z; vs PyTorch ratio W
#
# The exit status is 1 if a ratio is not below 1e-4 or a step fails.
#
#   sh scripts/onnx_check.sh [NET...]     (default: every networks/*.cnn)
cd "$(dirname "$0")/.." || exit 2
if ! /usr/bin/python3 -c 'import torch, torchvision, onnx' 2>/dev/null; then
	echo "onnx_check.sh: skipped: /usr/bin/python3 cannot import torch, torchvision and onnx (apt-get install python3-torchvision python3-onnx)"
	exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "onnx_check.sh: skipped: no node and npm (Node.js 18 or later) for ONNX Runtime"
	exit 0
fi
if [ ! -f tools/ort/node_modules/onnxruntime-node/package.json ]; then
	(cd tools/ort && npm ci --ignore-scripts --no-audit --no-fund) || exit 2
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
		"$dir/cnnc" export "networks/$n.cnn" --weights "$d/cnnc.safetensors" -o "$d/$n.onnx" >/dev/null &&
		/usr/bin/python3 scripts/onnx_check.py check "$d/$n.onnx" &&
		node tools/ort/run.js "$d/$n.onnx" "$d/x.npy" "$d/ort" >/dev/null &&
		"$dir/cnnc" infer "networks/$n.cnn" --weights "$d/cnnc.safetensors" --input "$d/x.npy" -o "$d/go_out.npy" --batch 2 2>/dev/null; then
		/usr/bin/python3 scripts/onnx_check.py compare "$n" "$d" || status=1
	else
		echo "$n: FAILED (see above)"
		status=1
	fi
	rm -rf "$d"
done
exit $status
