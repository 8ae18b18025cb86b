#!/usr/bin/env bash
# bench-guest.sh - the kipc-bench suite, run as root where kipc is loaded
# (inside the VM of scripts/vm.sh, or natively).  Called by scripts/bench.sh.
#
# Usage: scripts/bench-guest.sh OUTDIR [kipc-bench options]
#
# KIPC_BENCH_PERF="kipc-bench options" also profiles that run with perf
# (cpu-clock, all CPUs, call graphs) into OUTDIR/perf-report.txt, e.g.
#   KIPC_BENCH_PERF="-W stream -s 64 -p same -m kipc-queue -r 1 -d 2" make bench
#
# The stock mechanisms' default limits are far below kipc's (SysV msgmax is
# 8 KiB, POSIX mq holds 10 messages, a pipe 64 KiB), which would make the
# comparison one of limits, not of mechanisms.  So raise them until every
# mechanism can hold the same number of messages of every size, run, and put
# them back (they only matter natively; the VM is thrown away).
set -euo pipefail

out=${1:?usage: bench-guest.sh OUTDIR [kipc-bench options]}
shift
here=$(cd "$(dirname "$0")/.." && pwd)

declare -A saved=()
restore() {
	local f
	for f in "${!saved[@]}"; do
		echo "${saved[$f]}" >"$f" 2>/dev/null || true
	done
}
trap restore EXIT

# raise /proc/sys/NAME to at least VALUE
raise() {
	local f=/proc/sys/$1 cur
	[[ -w $f ]] || return 0
	cur=$(<"$f")
	if [[ $cur =~ ^[0-9]+$ && $cur -lt $2 ]]; then
		saved[$f]=$cur
		echo "$2" >"$f" || true
	fi
}

# 64 messages of up to 64 KiB: depth * size = 4 MiB per queue.
raise kernel/msgmax 1048576		# SysV: largest message
raise kernel/msgmnb 16777216		# SysV: default queue bytes
raise fs/mqueue/msg_max 1024		# POSIX mq: messages per queue
raise fs/mqueue/msgsize_max 1048576	# POSIX mq: largest message
raise fs/pipe-max-size 16777216		# pipes and FIFOs
raise net/core/wmem_max 16777216	# socket send buffers
raise net/core/rmem_max 16777216
# POSIX mq bytes per user (RLIMIT_MSGQUEUE, 800 KiB by default).
ulimit -q unlimited 2>/dev/null || true

"$here/tools/kipc-bench" --json "$out/bench.json" --csv "$out/bench.csv" "$@" |
	tee "$out/bench.txt"

if [[ -n ${KIPC_BENCH_PERF:-} ]]; then
	if command -v perf >/dev/null; then
		echo 0 >/proc/sys/kernel/kptr_restrict 2>/dev/null || true
		echo -1 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null || true
		# shellcheck disable=SC2086 # the options are meant to be split
		perf record -q -o /tmp/perf.data -a -g -e cpu-clock -F 2000 -- \
			"$here/tools/kipc-bench" --quiet $KIPC_BENCH_PERF >"$out/perf-bench.txt" 2>&1 &&
			perf report -i /tmp/perf.data --stdio --no-children --sort sym \
				>"$out/perf-report.txt" 2>/dev/null ||
			echo "bench: perf failed (see $out/perf-bench.txt)" >&2
	else
		echo "bench: no perf here (apt-get install linux-perf)" >&2
	fi
fi
