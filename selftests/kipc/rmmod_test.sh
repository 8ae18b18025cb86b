#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# rmmod is refused while anything holds kipc (the device, an object fd, a
# named object) and succeeds once the last holder is gone.  Needs root and
# KIPC_MODULE, the path of kipc.ko to load again afterwards.
cd "$(dirname "$0")" || exit 1
pass=0
fail=0
n=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; return 1; fi; }
refused() { ! rmmod kipc 2>/dev/null && grep -q '^kipc ' /proc/modules; }
unloads() { rmmod kipc && ! grep -q '^kipc ' /proc/modules && insmod "$KIPC_MODULE"; }
# On a failure: who the creator of what is left was, to find the leaker.
leftovers() {
	../../tools/kipcs -n 2>&1 | sed 's/^/# left: /'
	ps -eo pid,user,args 2>/dev/null | sed 's/^/# ps: /'
}

echo "TAP version 13"
if [ "$(id -u)" != 0 ] || [ -z "$KIPC_MODULE" ] || [ ! -e /proc/modules ]; then
	echo "1..0 # SKIP needs root, /proc/modules and KIPC_MODULE"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
echo "1..8"

exec 3<>/dev/kipc
check "rmmod refused while /dev/kipc is open" refused
exec 3>&-

# Run kipc_holder $1 until the description $2 is checked.
hold() {
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	./kipc_holder "$1" <"$fifo" >"$fifo.out" &
	holder=$!
	exec 4>"$fifo"
	i=0
	while [ "$(cat "$fifo.out" 2>/dev/null)" != ready ] && [ $i -lt 500 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	check "$2" refused
	exec 4>&-
	wait $holder
	rm -f "$fifo" "$fifo.out"
}

hold fd "rmmod refused while an object fd is open"
hold ringmap "rmmod refused while a ring is mapped, its fds closed"

# A process that used SEM_UNDO is watched until it exits, but holds no
# object any more: kipc unloads under it (taking its watch away), and its
# exit afterwards touches nothing of the module's.
fifo=$(mktemp -u)
mkfifo "$fifo"
./kipc_holder undo <"$fifo" >"$fifo.out" &
holder=$!
exec 4>"$fifo"
i=0
while [ "$(cat "$fifo.out" 2>/dev/null)" != ready ] && [ $i -lt 500 ]; do
	sleep 0.01
	i=$((i + 1))
done
check "rmmod succeeds while a process that used undo lives" unloads || leftovers
exec 4>&-
wait $holder
check "that process exits cleanly after the unload" test $? = 0
rm -f "$fifo" "$fifo.out"

./kipc_holder named rmmod-test-pin
check "rmmod refused while a named object exists" refused
./kipc_holder unlink rmmod-test-pin
check "rmmod succeeds after the last holder is gone" unloads || leftovers
check "the reloaded module works" ./kipc_holder named rmmod-test-again
./kipc_holder unlink rmmod-test-again

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
