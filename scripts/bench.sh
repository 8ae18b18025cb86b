#!/usr/bin/env bash
# bench.sh - `make bench`: run the kipc-bench suite where kipc can be loaded
# (a throwaway VM, or natively) and leave the results under OUTDIR:
#   bench.txt   the table, as printed        bench.json, bench.csv  the data
#   bench-*.svg, bench-*.png  plots (made here, on the host, after the run)
#   dmesg.txt   the kernel log of the run
#
# Usage: scripts/bench.sh [kipc-bench options]
# Environment: KIPC_BENCH_OUT (default results), KVER, and everything that
# scripts/vm.sh takes (KIPC_NATIVE=1 runs on this machine).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${KIPC_BENCH_OUT:-results}
kver=${KVER:-$("$root/scripts/kernel.sh" default)}

for f in "$root/kmod/kipc.ko" "$root/tools/kipc-bench"; do
	[[ -e $f ]] || { echo "bench: $f is missing: run make first" >&2; exit 1; }
done
mkdir -p -- "$out"
out=$(cd "$out" && pwd)
rm -f -- "$out"/bench.txt "$out"/bench.json "$out"/bench.csv "$out"/bench-*.svg "$out"/bench-*.png

args=()
# The guest's console is a terminal, ours may not be: no progress line then.
[[ -t 1 ]] || args+=(--quiet)

cd "$root"
scripts/vm.sh --kver "$kver" --module kmod/kipc.ko --out "$out" --timeout 1800 -- \
	scripts/bench-guest.sh "$out" ${args[@]+"${args[@]}"} "$@"

for f in bench.txt bench.json bench.csv; do
	[[ -s $out/$f ]] || { echo "bench: the run left no $out/$f" >&2; exit 1; }
done
tools/bench-plot.sh "$out/bench.csv" "$out"
echo "bench: results in $out: $(cd "$out" && echo bench.txt bench.json bench.csv bench-*.svg bench-*.png)"
