#!/usr/bin/env bash
# bench/newops.sh: the kernels of the layers added after the lecture that
# bench/depthwise.sh and bench/activations.sh do not cover (layernorm,
# layerscale, shuffle, scale, gap HxW, split, droppath), against PyTorch on the same tensors in one
# run (bench/newops.py, torch.set_num_threads(2)). Batch 8: ConvNeXt-T's
# first stage for layernorm and layerscale (96x56x56), ShuffleNet-v2's
# second for shuffle and split (116x28x28), a squeeze-excitation's 64x28x28
# for scale, gap 7x7 on 512x14x14, droppath (training) on 96x56x56.
# Prints milliseconds per pass and torch/cnnc (above 1: cnnc is faster).
# THREADS=1 runs both on one thread (GOMAXPROCS=1, torch.set_num_threads(1)):
# the like-for-like comparison on a shared machine, where torch's OpenMP
# threads lose far more to other load than Go's scheduler does.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
export THREADS GOMAXPROCS=$THREADS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, $THREADS threads each, load: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./runtime -run '^$' -bench '^Benchmark(LayerNorm|LayerScale|Shuffle|Scale|NewLayers)$' -benchtime 40x -count 3 >"$tmp/go.txt"
# NAME/PASS median ms; LayerNorm at $THREADS workers
awk -v t="$THREADS" '/^Benchmark(LayerNorm|LayerScale|Shuffle|Scale|NewLayers)\// {
		n = $1; sub(/^Benchmark/, "", n); sub(/^NewLayers\//, "", n); sub(/-[0-9]+$/, "", n)
		if (n ~ /-ref/ || (n ~ /workers=/ && n !~ ("workers=" t))) next
		sub(/\/workers=[0-9]+/, "", n); n = tolower(n)
		print n, $3 / 1e6
	}' "$tmp/go.txt" | sort -k1,1 -k2,2g | awk '{n[$1]++; v[$1, n[$1]] = $2} END {for (k in n) print k, v[k, int((n[k] + 1) / 2)]}' | sort >"$tmp/go.med"
/usr/bin/python3 bench/newops.py | sort >"$tmp/py.txt"
printf '%-22s %10s %10s %11s\n' pass "cnnc ms" "torch ms" torch/cnnc
join "$tmp/go.med" "$tmp/py.txt" | awk '{printf "%-22s %10.3f %10.3f %11.2f\n", $1, $2, $3, ($2 > 0 ? $3 / $2 : 0)}'
