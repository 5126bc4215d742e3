#!/bin/sh
# bench/limits.sh: the large inputs of issue 10 (item 1), written into a
# temporary directory, each checked by `cnnc check` under /usr/bin/time -v.
# Prints one line per input: wall time, user+sys CPU, max RSS, the first
# line of the output. Usage: bench/limits.sh [cnnc binary] (default: builds
# ./cmd/cnnc into the temporary directory). Keep the generated files with
# KEEP=1.
set -eu
dir=$(mktemp -d)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$dir"' EXIT
cnnc=${1:-}
if [ -z "$cnnc" ]; then
	cnnc=$dir/cnnc
	go build -o "$cnnc" ./cmd/cnnc
fi

# chain10mb_lines: a 10 MB chain, one layer a line.
awk 'BEGIN { print "input 8x8x3"; print "relu"; for (n = 17; n < 10000000; n += 8) print "-> relu" }' >"$dir/chain10mb_lines.cnn"
# chain10mb_oneline: the same on one line.
awk 'BEGIN { print "input 8x8x3"; printf "relu"; for (n = 17; n < 10000000; n += 8) printf " -> relu"; print "" }' >"$dir/chain10mb_oneline.cnn"
# chain4mb: just under the file size limit (4 MB), one layer a line.
awk 'BEGIN { print "input 8x8x3"; print "relu"; for (n = 17; n < 4190000; n += 8) print "-> relu" }' >"$dir/chain4mb.cnn"
# words4mb: one layer with two million arguments, just under 4 MB.
awk 'BEGIN { print "input 8x8x3"; printf "conv 8"; for (n = 18; n < 4190000; n += 2) printf " 1"; print "" }' >"$dir/words4mb.cnn"
# comments4mb: a small network after 4 MB of comments.
awk 'BEGIN { for (n = 0; n < 4180000; n += 21) print "# a comment line ..."; print "input 8x8x3\nconv 8 3x3 -> relu" }' >"$dir/comments4mb.cnn"
# words_at_limit: 495,000 words (the limit is 500,000), layers of 63
# arguments: the most memory a file within the limits takes.
awk 'BEGIN { print "input 8x8x3"; for (i = 0; i < 7500; i++) { printf (i ? "-> conv 8" : "conv 8"); for (j = 0; j < 63; j++) printf " 1"; print "" } }' >"$dir/words_at_limit.cnn"
# chain1.6mb: 1.6 MB, 200,000 layers (twice the limit), one a line.
awk 'BEGIN { print "input 8x8x3"; print "relu"; for (i = 1; i < 200000; i++) print "-> relu" }' >"$dir/chain1.6mb.cnn"
# at_limit: 99,999 layers written out (conv and relu, 1.2 MB): with the
# input, 100,000 nodes, the most the expansion allows.
awk 'BEGIN { print "input 32x32x8"; print "conv 8 3x3 p1"; for (i = 1; i < 99999; i++) print (i % 2 ? "-> relu" : "-> conv 8 3x3 p1") }' >"$dir/at_limit.cnn"
# at_limit_blocks: 99,999 layers by repetition of blocks (the expansion
# limit, from a small file).
cat >"$dir/at_limit_blocks.cnn" <<'CNN'
block unit(c) {
  conv c 3x3 p1 -> bn -> relu -> conv c 3x3 p1 -> bn -> relu -> conv c 3x3 p1 -> bn -> relu -> relu
}
block ten(c) {
  unit(c) x10
}
input 16x16x4
ten(4) x999 -> unit(4) x9 -> relu x9
CNN
# nested_calls: nested repetition of calls that expand to few layers (the
# old element limit, 200,000 elements).
awk 'BEGIN { print "block l0(n) {\n  relu\n}"
	for (i = 1; i < 62; i++) printf "block l%d(n) {\n  l%d(n)\n}\n", i, i - 1
	print "block top(n) {\n  l61(n) x100\n}"
	print "input 8x8x3\ntop(1) x100" }' >"$dir/nested_calls.cnn"
# nested_repeat: nested repetition that explodes (10^12 layers).
cat >"$dir/nested_repeat.cnn" <<'CNN'
block b(n) {
  relu x10000
}
block c(n) {
  b(n) x10000
}
input 8x8x3
c(1) x10000
CNN

printf '%-20s %10s %8s %8s %9s  %s\n' input bytes wall_s cpu_s maxrss_MB output
for f in chain10mb_lines chain10mb_oneline chain4mb words4mb comments4mb words_at_limit chain1.6mb at_limit at_limit_blocks nested_calls nested_repeat; do
	/usr/bin/time -v "$cnnc" check "$dir/$f.cnn" >"$dir/$f.out" 2>&1 || true
	bytes=$(wc -c <"$dir/$f.cnn")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/$f.out" | awk -F: '{ print ($1 * 60 + $2) }')
	cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$dir/$f.out")
	rss=$(awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$dir/$f.out")
	msg=$(grep -v '^	' "$dir/$f.out" | head -1 | sed "s|$dir/||" | cut -c1-110)
	printf '%-20s %10s %8s %8s %9s  %s\n' "$f" "$bytes" "$wall" "$cpu" "$rss" "$msg"
done
