#!/usr/bin/env bash
# bench/kernels.sh: cnnc's matrix product and conv kernels against numpy
# (OpenBLAS) and PyTorch, measured in one run on this machine.
#
#   bench/kernels.sh                 # Sgemm products, then conv layers if BenchmarkConv exists
#   COUNT=5 BENCHTIME=2s bench/kernels.sh
#   ONLY=gemm bench/kernels.sh       # or ONLY=conv
#   ROUNDS=3 BEST=1 bench/kernels.sh # on a busy machine: ours, numpy and torch
#                                    # take turns per product and per conv layer,
#                                    # 3 rounds, the best value of each kept
#
# Ours: `go test -bench` (BenchmarkSgemm/n=*, BenchmarkSgemmConv/<layer>/<pass> in
# runtime/gemm, BenchmarkConv/<layer>/<pass> in runtime), median of COUNT runs
# (default 3) of the GFLOP/s metric (the best with BEST=1). Peers: bench/peers.py
# with /usr/bin/python3 (each skipped, with a note, if its module is missing):
# numpy matmul (run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset), torch.mm
# and torch conv2d with torch.set_num_threads(2). GFLOP/s = 2*m*n*k / time for a
# product, 2*MACs / time for a conv layer (batch 8). Ratios are ours/peer.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-1s}
ONLY=${ONLY:-all}
ROUNDS=${ROUNDS:-1}
export BEST=${BEST:-0}
PY=${PY:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -m1 'model name' /proc/cpuinfo || true
echo "# go test -count=$COUNT -benchtime=$BENCHTIME; gemm kernel: $(go run ./runtime/gemm/internal/kernelname 2>/dev/null || echo '?')"

have_np=0
have_torch=0
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then
	have_np=1
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/peers.py blasinfo | sed 's/^/# /'
else
	echo "# $PY with numpy not found: numpy skipped"
fi
if [ -x "$PY" ] && "$PY" -c 'import numpy, torch' 2>/dev/null; then
	have_torch=1
	echo "# torch $("$PY" -c 'import torch; print(torch.__version__)'), torch.set_num_threads(2)"
else
	echo "# $PY with torch (and numpy) not found: torch skipped"
fi

# median of the GFLOP/s values per benchmark name (Benchmark prefix and -N suffix removed)
go_median() {
	awk -v best="$BEST" '/^Benchmark/ {
		name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 2; i < NF; i++) if ($(i+1) == "GFLOP/s") v = $i
		for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") ns = $i
		vals[name] = vals[name] " " v; nsv[name] = nsv[name] " " ns
	}
	END { for (n in vals) {
		printf "%s %s %s\n", n, med(vals[n], 0), med(nsv[n], 1)
	} }
	# median, or with best=1 the largest (small=0) or smallest (small=1) value
	function med(s, small,   a, k, i, j, x) {
		k = split(s, a, " ")
		for (i = 2; i <= k; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j+1] = a[j]; a[j+1] = x }
		if (best == 1) return small ? a[1] : a[k]
		return a[int((k + 1) / 2)]
	}' "$1"
}

# best_of FILE...: per name, the largest value over the files (name value lines)
best_of() {
	cat "$@" | awk '{ if (!($1 in m) || $2 + 0 > m[$1] + 0) m[$1] = $2 } END { for (k in m) print k, m[k] }'
}

# table KEYS OURS NUMPY TORCH: one row per key (in KEYS order)
table() {
	awk -v ours="$2" -v np="$3" -v th="$4" '
	BEGIN {
		while ((getline l < ours) > 0) { split(l, f, " "); o[f[1]] = f[2] }
		while ((getline l < np) > 0) { split(l, f, " "); p[f[1]] = f[2] }
		while ((getline l < th) > 0) { split(l, f, " "); t[f[1]] = f[2] }
		printf "%-40s %9s %9s %9s %10s %10s\n", "benchmark", "ours", "numpy", "torch", "ours/numpy", "ours/torch"
	}
	{
		k = $1; a = (k in o) ? o[k] : "-"; b = (k in p) ? p[k] : "-"; c = (k in t) ? t[k] : "-"
		r1 = (a != "-" && b != "-" && b > 0) ? sprintf("%.2f", a / b) : "-"
		r2 = (a != "-" && c != "-" && c > 0) ? sprintf("%.2f", a / c) : "-"
		printf "%-40s %9s %9s %9s %10s %10s\n", k, a, b, c, r1, r2
	}' "$1"
}

if [ "$ONLY" != conv ]; then
	# name tA tB m n k: the products of BenchmarkSgemm and BenchmarkSgemmConv
	cat >"$tmp/shapes" <<-'SHAPES'
	Sgemm/n=256 N N 256 256 256
	Sgemm/n=512 N N 512 512 512
	Sgemm/n=1024 N N 1024 1024 1024
	Sgemm/n=2048 N N 2048 2048 2048
	SgemmConv/resnet_3x3-64/fwd N N 64 3136 576
	SgemmConv/resnet_3x3-64/bwd_data T N 576 3136 64
	SgemmConv/resnet_3x3-64/bwd_filter N T 64 576 3136
	SgemmConv/resnet_1x1-256-64/fwd N N 64 3136 256
	SgemmConv/resnet_1x1-256-64/bwd_data T N 256 3136 64
	SgemmConv/resnet_1x1-256-64/bwd_filter N T 64 256 3136
	SgemmConv/alexnet_conv1/fwd N N 96 3025 363
	SgemmConv/alexnet_conv1/bwd_data T N 363 3025 96
	SgemmConv/alexnet_conv1/bwd_filter N T 96 363 3025
	SHAPES
	# Ours, numpy and torch take turns per product, ROUNDS times, so that a
	# burst of load on the shared machine hits all three alike.
	go test -c -o "$tmp/gemm.test" ./runtime/gemm
	echo "# ours: go test -c ./runtime/gemm; gemm.test -test.bench '^BenchmarkSgemm(Conv)?\$/<name>' -test.count=$COUNT -test.benchtime=$BENCHTIME, per product, interleaved with the peers (rounds: $ROUNDS, best: $BEST)"
	for r in $(seq "$ROUNDS"); do
		: >"$tmp/go.txt"
		: >"$tmp/numpy.$r"
		: >"$tmp/torch.$r"
		while read -r name rest; do
			# Sgemm/n=256 -> ^BenchmarkSgemm$/^n=256$ (each level anchored)
			re=$(echo "$name" | awk -F/ '{ printf "^Benchmark%s$", $1; for (i = 2; i <= NF; i++) printf "/^%s$", $i }')
			"$tmp/gemm.test" -test.run '^$' -test.bench "$re" -test.count="$COUNT" -test.benchtime="$BENCHTIME" >>"$tmp/go.txt" 2>&1 || {
				echo "gemm.test -test.bench $re failed:"
				tail -20 "$tmp/go.txt"
				exit 1
			}
			echo "$name $rest" >"$tmp/one"
			if [ $have_np = 1 ]; then
				env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/peers.py numpy "$tmp/one" >>"$tmp/numpy.$r"
			fi
			if [ $have_torch = 1 ]; then
				"$PY" bench/peers.py torch "$tmp/one" >>"$tmp/torch.$r"
			fi
		done <"$tmp/shapes"
		go_median "$tmp/go.txt" >"$tmp/ours.$r"
	done
	best_of "$tmp"/ours.* >"$tmp/ours"
	best_of "$tmp"/numpy.* >"$tmp/numpy"
	best_of "$tmp"/torch.* >"$tmp/torch"
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "## matrix products, GFLOP/s (2*m*n*k/time)"
	table "$tmp/shapes" "$tmp/ours" "$tmp/numpy" "$tmp/torch"
fi

if [ "$ONLY" != gemm ]; then
	echo
	if ! grep -qs 'func BenchmarkConv(' runtime/*_test.go; then
		echo "## conv layers: no BenchmarkConv in package runtime yet, skipped"
		exit 0
	fi
	# name batch cin h w cout kh kw stride pad bias (PyTorch nn.Conv2d)
	cat >"$tmp/layers" <<-'LAYERS'
	alexnet_conv1 8 3 227 227 96 11 11 4 0 1
	vgg16_conv3-64 8 64 224 224 64 3 3 1 1 1
	resnet_3x3-64 8 64 56 56 64 3 3 1 1 0
	resnet_1x1-256-64 8 256 56 56 64 1 1 1 0 0
	LAYERS
	awk '{ for (p = 1; p <= 3; p++) print "Conv/" $1 "/" (p == 1 ? "fwd" : p == 2 ? "bwd_data" : "bwd_filter") }' "$tmp/layers" >"$tmp/convkeys"
	# Ours and torch take turns per layer, ROUNDS times, as for the products.
	go test -c -o "$tmp/runtime.test" ./runtime
	echo "# ours: go test -c ./runtime; runtime.test -test.bench '^BenchmarkConv\$/^<layer>\$' -test.count=$COUNT -test.benchtime=$BENCHTIME, per layer, interleaved with torch (rounds: $ROUNDS, best: $BEST)"
	for r in $(seq "$ROUNDS"); do
		: >"$tmp/goconv.txt"
		: >"$tmp/torchconv.$r"
		while read -r name rest; do
			"$tmp/runtime.test" -test.run '^$' -test.bench "^BenchmarkConv\$/^$name\$" -test.count="$COUNT" -test.benchtime="$BENCHTIME" >>"$tmp/goconv.txt" 2>&1 || {
				echo "runtime.test -test.bench BenchmarkConv/$name failed; conv table skipped"
				tail -5 "$tmp/goconv.txt"
				exit 0
			}
			if [ $have_torch = 1 ]; then
				echo "$name $rest" >"$tmp/onelayer"
				"$PY" bench/peers.py conv "$tmp/onelayer" | sed 's|^|Conv/|' >>"$tmp/torchconv.$r"
			fi
		done <"$tmp/layers"
		go_median "$tmp/goconv.txt" >"$tmp/goconv"
		# where the benchmark reports no GFLOP/s, compute it from ns/op and the MACs
		awk 'NR == FNR { oh = int(($4 + 2*$10 - $7) / $9) + 1; ow = int(($5 + 2*$10 - $8) / $9) + 1
			macs[$1] = $2 * $6 * oh * ow * $3 * $7 * $8; next }
			{ split($1, f, "/"); g = $2
			  if ((g == "" || g == 0) && $3 > 0) g = sprintf("%.2f", 2 * macs[f[2]] / $3)
			  print $1, g }' "$tmp/layers" "$tmp/goconv" >"$tmp/oursconv.$r"
	done
	best_of "$tmp"/oursconv.* >"$tmp/oursconv"
	best_of "$tmp"/torchconv.* >"$tmp/torchconv"
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "## conv layers, batch 8, GFLOP/s (2*MACs/time); torch: conv2d, autograd.grad for x and weight"
	table "$tmp/convkeys" "$tmp/oursconv" /dev/null "$tmp/torchconv"
fi
