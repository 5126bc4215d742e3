#!/usr/bin/env bash
# bench/depthwise.sh: cnnc's depthwise conv kernels (runtime/conv_depthwise.go)
# against PyTorch's Conv2d(C, C, 3, groups=C) on MobileNet-v2's depthwise
# layers, batch 8, measured in one run on this machine.
#
#   bench/depthwise.sh                    # COUNT=3 runs of each, medians
#   GENERAL=1 bench/depthwise.sh          # also cnnc's general im2col + gemm path
#   ROUNDS=3 bench/depthwise.sh           # ours and torch take turns, 3 rounds,
#                                         # the best value of each kept (busy machine)
#
# Ours: `go test -bench BenchmarkDepthwise` in runtime (GFLOP/s metric, median
# of COUNT runs); torch: bench/depthwise.py with /usr/bin/python3 and
# torch.set_num_threads(GOMAXPROCS) (median of 5 repetitions of >= 0.2 s).
# GFLOP/s = 2*MACs/time for every pass (the forward's MACs); ratio = ours/torch.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-1s}
ROUNDS=${ROUNDS:-1}
PY=${PY:-/usr/bin/python3}
THREADS=${GOMAXPROCS:-$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, GOMAXPROCS=$THREADS, load: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -m1 'model name' /proc/cpuinfo || true
echo "# go test -bench BenchmarkDepthwise -count=$COUNT -benchtime=$BENCHTIME; torch $("$PY" -c 'import torch; print(torch.__version__)'), torch.set_num_threads($THREADS); rounds $ROUNDS"

go test -c -o "$tmp/rt.test" ./runtime
for r in $(seq "$ROUNDS"); do
	(cd runtime && CNNC_DW_GENERAL=${GENERAL:-0} GOMAXPROCS=$THREADS "$tmp/rt.test" -test.run '^$' \
		-test.bench BenchmarkDepthwise -test.count "$COUNT" -test.benchtime "$BENCHTIME") >>"$tmp/go.txt"
	"$PY" bench/depthwise.py "$THREADS" >>"$tmp/torch.txt"
done

# ours: the median of each round's runs, the best over rounds
awk '/^BenchmarkDepthwise/ {
	name = $1; sub(/^BenchmarkDepthwise\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) if ($(i+1) == "GFLOP/s") print name, $i
}' "$tmp/go.txt" | sort -k1,1 -k2,2g | awk '{ v[$1] = v[$1] " " $2 } END { for (n in v) { k = split(v[n], a, " "); print n, a[int((k+1)/2)] } }' >"$tmp/ours"
awk '{ if (!($1 in best) || $2 > best[$1]) best[$1] = $2 } END { for (n in best) print n, best[n] }' "$tmp/torch.txt" >"$tmp/peer"

printf '%-36s %12s %12s %8s\n' "layer/pass" "cnnc GFLOP/s" "torch" "ratio"
for layer in 112x112x32_s1 56x56x144_s2 14x14x576_s1 7x7x960_s1; do
	for pass in fwd bwd_data bwd_filter; do
		for path in "" /direct /general; do
			ours=$(awk -v n="$layer/$pass$path" '$1 == n { print $2 }' "$tmp/ours")
			[ -z "$ours" ] && continue
			peer=$(awk -v n="$layer/$pass" '$1 == n { print $2 }' "$tmp/peer")
			ratio=$(awk -v a="$ours" -v b="$peer" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
			printf '%-36s %12.2f %12.2f %8s\n' "$layer/$pass$path" "$ours" "${peer:-0}" "$ratio"
		done
	done
done
