#!/bin/sh
# The zoo through PyTorch's ONNX exporter and cnnc import (not run by CI):
# for each network, its PyTorch twin (scripts/parity.py's; torchvision's
# model for VGG and ResNet) with random weights is exported by
# torch.onnx.export (opset 13, bn kept as its own node), imported by
# cnnc import (a .cnn and its weights), checked against the zoo file
# (inference parameters and MACs of cnnc summary --json: aux heads are not
# exported), and run by cnnc infer; its
# logits are compared with PyTorch's. One line per network:
#
#   NET: PyTorch -> ONNX -> cnnc: max |diff| X, max |logit| Y, ratio Z
#
# and the exit status is 1 if a ratio is not below 1e-4, the counts differ,
# or a step fails. The imported files stay in $CNNC_IMPORT_DIR if it is set.
#
#   sh scripts/import_check.sh [NET...]     (default: every networks/*.cnn)
cd "$(dirname "$0")/.." || exit 2
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
	echo "import_check.sh: skipped: /usr/bin/python3 cannot import torch and torchvision (apt-get install python3-torchvision)"
	exit 0
fi
nets=$*
if [ -z "$nets" ]; then
	nets=$(for f in networks/*.cnn; do basename "$f" .cnn; done)
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/cnnc" ./cmd/cnnc || exit 2
counts() { "$dir/cnnc" summary --json "$1" | /usr/bin/python3 -c 'import json,sys; t=json.load(sys.stdin)["inference"]; print(t["params"], t["macs"])'; }
status=0
for n in $nets; do
	d="$dir/$n"
	mkdir -p "$d"
	if /usr/bin/python3 scripts/import_check.py export "$n" "$d" 2>"$d/export.log" &&
		"$dir/cnnc" import "$d/$n.onnx" -o "$d/$n.cnn" --weights "$d/$n.safetensors" >/dev/null &&
		"$dir/cnnc" infer "$d/$n.cnn" --weights "$d/$n.safetensors" --input "$d/x.npy" -o "$d/go_out.npy" --batch 2 2>/dev/null; then
		want=$(counts "networks/$n.cnn") got=$(counts "$d/$n.cnn")
		if [ "$want" != "$got" ]; then
			echo "$n: params and MACs $got, the zoo's $want  MISS"
			status=1
		fi
		/usr/bin/python3 scripts/import_check.py compare "$n" "$d" || status=1
		if [ -n "$CNNC_IMPORT_DIR" ]; then mkdir -p "$CNNC_IMPORT_DIR" && cp "$d/$n.cnn" "$CNNC_IMPORT_DIR/"; fi
	else
		echo "$n: FAILED (see above; torch.onnx.export's log: $d/export.log)"
		status=1
	fi
	rm -rf "$d"
done
exit $status
