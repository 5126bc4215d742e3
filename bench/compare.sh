#!/usr/bin/env bash
# bench/compare.sh: the generated packages against ONNX Runtime and PyTorch,
# measured side by side in one run (issue 14's table).
#
#   bench/compare.sh                     # every case below, 2 rounds, 2 s per measurement
#   CASES="lenet5:infer:1 resnet18:infer:8" ROUNDS=3 SECONDS_PER=3 bench/compare.sh
#
# Per case and round the three engines run one after the other (cnnc, ONNX
# Runtime, PyTorch), each in its own process, and the best round counts.
#   cnnc:  bench/compare (Net.Forward or Net.TrainStep of gen/NET)
#   ORT:   tools/ort/bench.js, ONNX Runtime's CPU library from the npm package
#          onnxruntime-node (installed here with npm ci --ignore-scripts), 2
#          intra-op threads, all graph optimisations, on the file cnnc export
#          writes for the network (inference only: it does not train here)
#   torch: bench/compare.py with /usr/bin/python3 (Debian's python3-torch),
#          torch.set_num_threads(2), the parity twins and torchvision's models
#          (VGG16, the ResNets, MobileNet-v2, EfficientNet-B0)
# Prints images/s, the ratios cnnc/ORT and cnnc/torch, and each process's
# peak resident memory (MB). An engine that is missing is shown as "-".
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
SECONDS_PER=${SECONDS_PER:-2}
CASES=${CASES:-"lenet5:infer:1 lenet5:infer:8 lenet5:infer:64 alexnet:infer:1 alexnet:infer:8 vgg16:infer:1 vgg16:infer:8 googlenet:infer:1 googlenet:infer:8 resnet18:infer:1 resnet18:infer:8 resnet50:infer:1 resnet50:infer:8 mobilenet_v2:infer:1 mobilenet_v2:infer:8 efficientnet_b0:infer:1 efficientnet_b0:infer:8 lenet5:train:8 lenet5:train:64 alexnet:train:8 vgg16:train:8 googlenet:train:8 resnet18:train:8 resnet50:train:8"}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/compare" ./bench/compare
go build -o "$dir/cnnc" ./cmd/cnnc
have_ort=0
if command -v node >/dev/null && command -v npm >/dev/null; then
	if [ -f tools/ort/node_modules/onnxruntime-node/package.json ] || (cd tools/ort && npm ci --ignore-scripts --no-audit --no-fund >/dev/null 2>&1); then have_ort=1; fi
fi
[ $have_ort = 1 ] || echo "# no node/npm or onnxruntime-node: ONNX Runtime skipped"
have_py=0
if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then have_py=1; else echo "# /usr/bin/python3 without torch: PyTorch skipped"; fi
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(go version | cut -d' ' -f3); best of $ROUNDS rounds of ${SECONDS_PER} s"
[ $have_ort = 1 ] && echo "# ONNX Runtime $(node -e "console.log(require('./tools/ort/node_modules/onnxruntime-node/package.json').version)")"
[ $have_py = 1 ] && echo "# PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
best() { # best rate of "ENGINE NET MODE BATCH RATE RSS" lines, and that run's RSS in MB
	awk 'BEGIN{r=-1} $5+0 > r {r=$5+0; m=$6} END{if (r < 0) print "- -"; else printf "%.1f %.0f\n", r, m/1024}'
}
printf '%-15s %-5s %5s %11s %11s %11s %8s %8s %8s %8s %8s\n' network mode batch "cnnc img/s" "ORT img/s" "torch img/s" cnnc/ORT cnnc/torch "cnnc MB" "ORT MB" "torch MB"
for c in $CASES; do
	IFS=: read -r net mode batch <<< "$c"
	: > "$dir/cnnc.txt"; : > "$dir/ort.txt"; : > "$dir/torch.txt"
	if [ $have_ort = 1 ] && [ "$mode" = infer ] && [ ! -f "$dir/$net.onnx" ]; then
		"$dir/cnnc" export "networks/$net.cnn" -o "$dir/$net.onnx" >/dev/null
	fi
	for _ in $(seq "$ROUNDS"); do
		"$dir/compare" "$net" "$mode" "$batch" "$SECONDS_PER" >> "$dir/cnnc.txt" || true
		if [ $have_ort = 1 ] && [ "$mode" = infer ]; then
			node tools/ort/bench.js "$dir/$net.onnx" "$net" "$batch" "$SECONDS_PER" >> "$dir/ort.txt" || true
		fi
		if [ $have_py = 1 ]; then
			/usr/bin/python3 bench/compare.py "$net" "$mode" "$batch" "$SECONDS_PER" >> "$dir/torch.txt" || true
		fi
	done
	read -r a am < <(best < "$dir/cnnc.txt")
	read -r o om < <(best < "$dir/ort.txt")
	read -r p pm < <(best < "$dir/torch.txt")
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a/b }'; }
	printf '%-15s %-5s %5s %11s %11s %11s %8s %8s %8s %8s %8s\n' "$net" "$mode" "$batch" "$a" "$o" "$p" "$(ratio "$a" "$o")" "$(ratio "$a" "$p")" "$am" "$om" "$pm"
done
