#!/usr/bin/env bash
# bench/activations.sh: the activations' kernels (runtime BenchmarkActivations:
# MobileNet's first map, 8x32x112x112, forward and backward) against PyTorch's
# on the same tensor (bench/activations.py, torch.set_num_threads(2)), in one
# run on this machine.
#
#   bench/activations.sh             # COUNT=3 runs of the Go benchmark, median
#   COUNT=5 BENCHTIME=40x bench/activations.sh
#
# Columns per op: cnnc's and torch's milliseconds per call, wall and CPU
# (process CPU time, all threads: steadier on a shared machine), each CPU
# time over relu's forward of its own library (the cost in relus), and
# cnnc/torch of the CPU times.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-20x}
PY=${PY:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./runtime -run '^$' -bench '^BenchmarkActivations$' -count "$COUNT" -benchtime "$BENCHTIME" >"$tmp/go.txt"
# name wall-ms cpu-ms, the medians of the COUNT runs
awk '/^BenchmarkActivations\// {
		n = $1; sub(/^BenchmarkActivations\//, "", n); sub(/-[0-9]+$/, "", n)
		for (i = 4; i < NF; i++) if ($(i + 1) == "cpu-ms/op") c = $i
		print n, $3 / 1e6, c
	}' "$tmp/go.txt" >"$tmp/go.all"
med() { # column $1 of go.all: name median
	sort -k1,1 -k"$1","$1"g "$tmp/go.all" | awk -v c="$1" '{ v[$1] = v[$1] " " $c; k[$1]++ } END { for (x in v) { split(substr(v[x], 2), a, " "); print x, a[int((k[x] + 1) / 2)] } }' | sort
}
join <(med 2) <(med 3) >"$tmp/go.med"
if [ -x "$PY" ] && "$PY" -c 'import torch' 2>/dev/null; then
	"$PY" bench/activations.py >"$tmp/torch.txt"
	grep '^#' "$tmp/torch.txt"
else
	echo "# $PY with torch not found: torch skipped"
	: >"$tmp/torch.txt"
fi
echo "# after: load $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v go="$tmp/go.med" -v tc="$tmp/torch.txt" '
	BEGIN {
		while ((getline l < go) > 0) { split(l, f, " "); gw[f[1]] = f[2]; gc[f[1]] = f[3]; order[++n] = f[1] }
		while ((getline l < tc) > 0) { if (l ~ /^#/) continue; split(l, f, " "); tw[f[1]] = f[2]; tc2[f[1]] = f[3] }
		printf "%-16s %9s %9s %7s %9s %9s %7s %7s\n", "op", "cnnc ms", "cpu ms", "/relu", "torch ms", "cpu ms", "/relu", "cnnc/torch"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (k in tw) printf "%-16s %9.2f %9.2f %7.2f %9.2f %9.2f %7.2f %7.2f\n", k, gw[k], gc[k], gc[k] / gc["relu_fwd"], tw[k], tc2[k], tc2[k] / tc2["relu_fwd"], gc[k] / tc2[k]
			else printf "%-16s %9.2f %9.2f %7.2f\n", k, gw[k], gc[k], gc[k] / gc["relu_fwd"]
		}
	}'
