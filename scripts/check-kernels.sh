#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check-kernels.sh - `make check-kernels`: for each tested kernel, fetch it
# if missing, build the module against it (in its suite's root where the
# host lacks the compiler), boot it with the module loaded, run a smoke
# subset of the suite as root and as nobody, and unload; then a table and
# "N passed, N failed, N skipped" (the tests, plus build, load and unload
# as one check each per kernel).
#
# Environment:
#   KIPC_KERNELS   the kernels (default: scripts/kernel.sh matrix); "newest"
#                  means the newest of the matrix only
#   KIPC_SMOKE     the test programs (default below)
# The module is left built for the last kernel; make check rebuilds it.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 1
smoke=${KIPC_SMOKE:-"object_test queue_test region_test sem_test ring_test semmap_test netlink_test compat_test"}

if [[ -z ${KIPC_KERNELS:-} || ${KIPC_KERNELS:-} == newest ]]; then
	mapfile -t kernels < <("$here/kernel.sh" matrix)
	[[ ${#kernels[@]} -gt 0 ]] || { echo "check-kernels: no kernels" >&2; exit 1; }
	if [[ ${KIPC_KERNELS:-} == newest ]]; then
		mapfile -t kernels < <(printf '%s\n' "${kernels[@]}" | sort -V | tail -n 1)
	fi
else
	read -ra kernels <<<"$KIPC_KERNELS"
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
rows=()
total_pass=0 total_fail=0 total_skip=0
yes_no() { if [[ $1 -eq 1 ]]; then echo yes; else echo NO; fi; }

for k in "${kernels[@]}"; do
	echo "=== kernel $k"
	built=0 loaded=0 unloaded=0 clean=0 counts="-" p=0 f=0 s=0
	t0=$(date +%s)
	if vars=$("$here/kernel.sh" vars "$k") && eval "$vars" &&
		make --no-print-directory module KVER="$KVER" KDIR="$KDIR" >"$logs/build" 2>&1; then
		built=1
		# W=1 is on: a warning is a failure on every supported kernel.
		if grep -E 'warning:' "$logs/build"; then built=0; fi
	fi
	[[ $built -eq 1 ]] || sed 's/^/build: /' "$logs/build" | tail -n 30
	if [[ $built -eq 1 ]]; then
		out=$logs/vm-$k
		mkdir -p "$out"
		KIPC_TESTS=$smoke KIPC_USERS="root nobody" scripts/vm.sh --kver "$KVER" --out "$out" \
			--module kmod/kipc.ko -- env KIPC_MODULE="$top/kmod/kipc.ko" KIPC_KDIR="$KDIR" \
			selftests/kipc/run_all.sh 2>&1 | tee "$logs/run"
		rc=${PIPESTATUS[0]}
		grep -qx loaded "$out/.vm-stages" 2>/dev/null && loaded=1
		grep -qx unloaded "$out/.vm-stages" 2>/dev/null && unloaded=1
		# 125: the kernel log showed a problem (or a module step failed).
		[[ $rc -ne 125 && $rc -ne 124 ]] && clean=1
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/run" | tail -n 1)
		if [[ -n $line ]]; then
			read -r p _ f _ s _ <<<"${line//,/}"
			counts="$p/$((p + f))"
		else
			f=1
		fi
	fi
	total_pass=$((total_pass + p + built + loaded + (unloaded & clean)))
	total_fail=$((total_fail + f + (1 - built) + (1 - loaded) + (1 - (unloaded & clean))))
	total_skip=$((total_skip + ${s:-0}))
	rows+=("$(printf '%-26s %-6s %-7s %-11s %-9s %-9s %5ss' "$k" "$(yes_no $built)" \
		"$(yes_no $loaded)" "$counts" "$(yes_no $unloaded)" "$(yes_no $clean)" "$(($(date +%s) - t0))")")
done

echo
echo "check-kernels: smoke subset: $smoke (root and nobody)"
printf '%-26s %-6s %-7s %-11s %-9s %-9s %6s\n' kernel built loaded passed unloaded "log ok" time
printf '%s\n' "${rows[@]}"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[[ $total_fail -eq 0 ]]
