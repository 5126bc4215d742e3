#!/usr/bin/env bash
# bench/networks.sh: generated networks against PyTorch, images per second,
# measured in one run on this machine.
#
#   bench/networks.sh                    # lenet5, alexnet, resnet18 (and NETS="... vgg16 resnet50")
#   NETS="lenet5" BENCHTIME=3s bench/networks.sh
#
# Ours: BenchmarkForward/batch=N and BenchmarkTrainStep/batch=N of the
# generated package's test (gen/<net>), img/s metric. PyTorch: bench/networks.py
# with /usr/bin/python3, torch.set_num_threads(2), the same network definitions.
# The ratio is ours/PyTorch. Skips PyTorch when /usr/bin/python3 has no torch.
set -euo pipefail
cd "$(dirname "$0")/.."
NETS=${NETS:-"lenet5 alexnet resnet18"}
BENCHTIME=${BENCHTIME:-2s}
PY=/usr/bin/python3
have_py=0
if [ -x "$PY" ] && "$PY" -c 'import torch, torchvision' 2>/dev/null; then have_py=1; else echo "# $PY with torch not found: PyTorch skipped"; fi
echo "# $(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-6s %6s %12s %12s %7s\n' network mode batch "cnnc img/s" "torch img/s" ratio
for net in $NETS; do
	out=$(go test -run '^$' -bench . -benchtime "$BENCHTIME" "./gen/$net" 2>&1 | grep -E '^Benchmark(Forward|TrainStep)/batch=' || true)
	while read -r name _ _ _ rate _; do
		[ -n "$name" ] || continue
		mode=infer; case "$name" in BenchmarkTrainStep*) mode=train ;; esac
		batch=${name#*batch=}; batch=${batch%-*}
		peer=-; ratio=-
		if [ $have_py = 1 ]; then
			peer=$("$PY" bench/networks.py "$net:$mode:$batch" 2>/dev/null | awk '{print $4}' || echo -)
			[ -n "$peer" ] && [ "$peer" != - ] && ratio=$(awk -v a="$rate" -v b="$peer" 'BEGIN{printf "%.2f", a/b}')
		fi
		printf '%-10s %-6s %6s %12s %12s %7s\n' "$net" "$mode" "$batch" "$rate" "${peer:--}" "$ratio"
	done <<< "$out"
done
