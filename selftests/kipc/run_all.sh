#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run the whole kipc suite where the module is loaded: every test program as
# root and again as an unprivileged user (uid 65534), then the rmmod test.
# Sums the kselftest "# Totals:" lines and ends with "N passed, N failed".
#   KIPC_TESTS="object_test queue_test"   run only these programs
#   KIPC_USERS="root"                     skip the unprivileged pass
cd "$(dirname "$0")" || exit 1
# The unprivileged pass, and the tests that run helpers as another user,
# need the tree reachable by uid 65534.  A clone under a 0700 directory
# (/root, or a home made by Debian 12's adduser) is not: show the tree at a
# reachable path instead, in a mount namespace of this run's own.
if [ "$(id -u)" = 0 ] && [ -z "$KIPC_TREE_SHOWN" ] &&
	! setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$PWD/run_all.sh" 2>/dev/null; then
	top=$(cd ../.. && pwd)
	echo "# run_all: $top is not reachable by uid 65534: running from a bind mount of it"
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec unshare --mount --propagation private sh -c '
		d=$(mktemp -d /tmp/kipc-tree.XXXXXX) && chmod 755 "$d" &&
			mount --bind "$1" "$d" || exit 1
		(cd "$d/selftests/kipc" && KIPC_TREE_SHOWN=1 KIPC_TREE=$1 exec ./run_all.sh)
		rc=$?
		umount "$d" && rmdir "$d"
		exit $rc' sh "$top"
fi
# The programs come from the Makefile (RUN_ALL), through the list the build
# writes next to them: make must not run here, where the tree may be
# read-only.  compat_test@kipc: the same program with the compatibility
# layer preloaded.
if [ -z "$KIPC_TESTS" ] && [ ! -r run_all.list ]; then
	echo "# run_all: no run_all.list: build the selftests first (make -C selftests/kipc)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
tests=${KIPC_TESTS:-$(cat run_all.list)}
preload=$(cd ../../compat 2>/dev/null && pwd)/libkipc-preload.so
users=${KIPC_USERS:-"root nobody"}
passed=0
failed=0
skipped=0
log=$(mktemp)

run_one() {
	user=$1
	shift
	cmd="$*"
	echo "=== $* (as $user)"
	if [ "$user" = root ]; then
		"$@" >"$log" 2>&1
	else
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all "$@" >"$log" 2>&1
	fi
	status=$?
	cat "$log"
	totals=$(grep '^# Totals:' "$log" | tail -n 1)
	if [ -z "$totals" ]; then
		echo "# $cmd (as $user) exited $status without a Totals line"
		failed=$((failed + 1))
		return
	fi
	# shellcheck disable=SC2046 # word splitting wanted: four numbers
	set -- $(echo "$totals" | sed -n \
		's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .* skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4/p')
	p=${1:-0} f=${2:-1} s=${3:-0} e=${4:-0}
	passed=$((passed + p))
	failed=$((failed + f + e))
	skipped=$((skipped + s))
	# A crash after the totals, or a non-zero exit with nothing failed.
	if [ "$status" != 0 ] && [ "$status" != 4 ] && [ $((f + e)) = 0 ]; then
		echo "# $cmd (as $user) exited $status"
		failed=$((failed + 1))
	fi
}

for user in $users; do
	for t in $tests; do
		case $t in
		*@kipc)
			run_one "$user" env LD_PRELOAD="$preload" \
				KIPC_EXPECT_ROUTED=1 "./${t%@kipc}"
			;;
		*)
			run_one "$user" "./$t"
			;;
		esac
	done
done
if [ "$(id -u)" = 0 ] && [ -z "$KIPC_TESTS" ]; then
	run_one root ./rmmod_test.sh
fi
rm -f "$log"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
