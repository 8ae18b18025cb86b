#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Smoke test of libkipc's examples (examples/): each runs once and must
# succeed, and must leave no kipc object behind.
cd "$(dirname "$0")" || exit 1
examples=$(cd ../../examples 2>/dev/null && pwd)
kipcs=$(pwd)/../../tools/kipcs
pass=0
fail=0
n=0

echo "TAP version 13"
if [ ! -x "$examples/prodcons" ] || [ ! -x "$examples/shmring" ]; then
	echo "1..0 # SKIP examples/ is not built (make examples)"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
echo "1..2"
for ex in prodcons shmring; do
	n=$((n + 1))
	out=$("$examples/$ex" 2000 2>&1)
	status=$?
	left=$("$kipcs" --json 2>/dev/null | grep -c '"type"')
	echo "$out" | sed 's/^/# /'
	if [ "$status" = 0 ] && [ "${left:-0}" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n $ex runs and cleans up"
	else
		fail=$((fail + 1))
		echo "not ok $n $ex runs and cleans up (exit $status, $left objects left)"
		"$kipcs" -n 2>&1 | sed 's/^/# left: /'
	fi
done
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
