#!/usr/bin/env bash
# bench/depthwise.sh: cnnc's depthwise conv kernels (runtime/conv_depthwise.go)
# against PyTorch's Conv2d(C, C, 3, groups=C) on MobileNet-v2's depthwise
# layers, batch 8, measured in one run on this machine.
#
#   bench/depthwise.sh                    # COUNT=3 runs of each, medians
#   GENERAL=1 bench/depthwise.sh          # also cnnc's general im2col + gemm path
#   ROUNDS=3 bench/depthwise.sh           # ours and torch take turns, 3 rounds
#                                         # (a busy machine's load changes)
#
# Ours: `go test -bench BenchmarkDepthwise` in runtime (GFLOP/s metric, median
# of all runs, COUNT per round); torch: bench/depthwise.py with /usr/bin/python3
# and torch.set_num_threads(GOMAXPROCS), the median over rounds (each round
# the median of 5 repetitions of >= 0.2 s).
# GFLOP/s = 2*MACs/time for every pass (the forward's MACs); ratio = ours/torch.
# cpuGFLOP/s: the same per second of process CPU time (user+sys; steadier than
# wall time on a shared machine, though torch's idle OpenMP threads spin and
# count); ours is BenchmarkDepthwise's cpuGFLOP/s metric.
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

# ours: the median of each metric over all runs; torch: the median over rounds
median() { # column $1 of "name v1 v2": the median per name
	sort -k1,1 -k"$1","$1"g | awk -v c="$1" '{ v[$1] = v[$1] " " $c } END { for (n in v) { k = split(v[n], a, " "); print n, a[int((k+1)/2)] } }'
}
awk '/^BenchmarkDepthwise/ {
	name = $1; sub(/^BenchmarkDepthwise\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) { if ($(i+1) == "GFLOP/s") w = $i; if ($(i+1) == "cpuGFLOP/s") c = $i }
	print name, w, c
}' "$tmp/go.txt" >"$tmp/ours.all"
median 2 <"$tmp/ours.all" >"$tmp/ours"
median 3 <"$tmp/ours.all" >"$tmp/ours.cpu"
awk '{ print $1, $2, $4 }' "$tmp/torch.txt" >"$tmp/peer.all"
median 2 <"$tmp/peer.all" >"$tmp/peer"
median 3 <"$tmp/peer.all" >"$tmp/peer.cpu"

get() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '%-34s %8s %8s %6s   %8s %8s %6s\n' "" "GFLOP/s" "" "" "per CPU-second" "" ""
printf '%-34s %8s %8s %6s   %8s %8s %6s\n' "layer/pass" "cnnc" "torch" "ratio" "cnnc" "torch" "ratio"
for layer in 112x112x32_s1 56x56x144_s2 14x14x576_s1 7x7x960_s1; do
	for pass in fwd bwd_data bwd_filter; do
		for path in "" /direct /general; do
			ours=$(get "$tmp/ours" "$layer/$pass$path")
			[ -z "$ours" ] && continue
			ourc=$(get "$tmp/ours.cpu" "$layer/$pass$path")
			peer=$(get "$tmp/peer" "$layer/$pass")
			peerc=$(get "$tmp/peer.cpu" "$layer/$pass")
			printf '%-34s %8.2f %8.2f %6s   %8.2f %8.2f %6s\n' "$layer/$pass$path" "$ours" "${peer:-0}" "$(ratio "$ours" "$peer")" \
				"$ourc" "${peerc:-0}" "$(ratio "$ourc" "$peerc")"
		done
	done
done
