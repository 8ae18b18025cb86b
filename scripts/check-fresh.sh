#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check-fresh.sh - `make check-fresh`: prove the README on a fresh machine.
#
# A pristine Debian 12 root (mmdebstrap --variant=apt --include=make: make is
# the one tool the README assumes, as git is for the clone) gets a clean
# `git archive` of HEAD and nothing else of the project; in it, as root,
# exactly the README's two commands run: `make bench`, then `make check`.
# The pristine root is made once and kept as a tarball in the cache (it
# holds nothing of kipc); each run unpacks a new copy.
#
# Environment:
#   FRESH_TESTS       KIPC_TESTS for make check (default: a short subset;
#                     "all" runs the whole suite)
#   FRESH_BENCH_ARGS  BENCH_ARGS for make bench (default: --quick)
#   FRESH_REF         what to archive (default: HEAD)
#   FRESH_KEEP=1      keep the root afterwards (its path is printed)
# Ends with "N passed, N failed, N skipped": make check's own counts, plus
# one check for make bench (it ran and left its results).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
CACHE=${KIPC_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kipc}
suite=bookworm
tarball=$CACHE/roots/$suite-pristine.tar
tests=${FRESH_TESTS:-"object_test queue_test region_test sem_test netlink_test compat_test compat_test@kipc examples_test.sh"}
[[ $tests != all ]] || tests=
bench_args=${FRESH_BENCH_ARGS:---quick}
ref=${FRESH_REF:-HEAD}

die() {
	echo "check-fresh: $*" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (mmdebstrap, chroot)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/deps.sh mmdebstrap)"
# The commit now: HEAD may move while the root is being made.
ref=$(git -C "$top" rev-parse --verify -q "$ref^{commit}") || die "no commit $ref to archive"

mkdir -p "$CACHE/roots"
exec 9>"$CACHE/roots/.$suite-pristine.lock"
flock 9
if [[ ! -s $tarball ]]; then
	mirror=$("$here/kernel.sh" mirror)
	echo "check-fresh: making a pristine $suite root (about a minute)"
	# The format by name: mmdebstrap takes "X.tar.tmp" for a directory.
	mmdebstrap --quiet --variant=apt --include=make --format=tar "$suite" "$tarball.tmp" "$mirror" ||
		{ rm -f "$tarball.tmp"; die "mmdebstrap failed"; }
	mv -f "$tarball.tmp" "$tarball"
fi

root=$CACHE/fresh/root
rm -rf -- "$root"
mkdir -p "$root"
if [[ ${FRESH_KEEP:-0} != 1 ]]; then
	# shellcheck disable=SC2064 # the path is fixed now
	trap "rm -rf -- '$root'" EXIT
fi
tar -xf "$tarball" -C "$root" || die "cannot unpack $tarball"
mkdir -p "$root/root/kipc"
git -C "$top" archive --format=tar "$ref" | tar -x -C "$root/root/kipc" || die "git archive $ref failed"
echo "check-fresh: $(git -C "$top" rev-parse --short "$ref") in a pristine $suite root at $root"

# As a new user would: a login-like environment, nothing of ours.
in_root() {
	"$here/chroot.sh" --cwd /root/kipc "$root" -- env -i HOME=/root USER=root LOGNAME=root \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb "$@"
}

logs=$(mktemp -d)
passed=0 failed=0

t0=$(date +%s)
echo "check-fresh: make bench BENCH_ARGS=$bench_args"
in_root make bench BENCH_ARGS="$bench_args" 2>&1 | tee "$logs/bench"
rc=${PIPESTATUS[0]}
if [[ $rc -eq 0 && -s $root/root/kipc/results/bench.json && -s $root/root/kipc/results/bench.txt ]]; then
	echo "ok make bench (left results/bench.txt, bench.json; $(($(date +%s) - t0)) s)"
	echo "1 passed, 0 failed, 0 skipped" >"$logs/bench.tally"
else
	echo "not ok make bench (status $rc; $(($(date +%s) - t0)) s)"
	echo "0 passed, 1 failed, 0 skipped" >"$logs/bench.tally"
fi

t0=$(date +%s)
echo "check-fresh: make check${tests:+ KIPC_TESTS=\"$tests\"}"
in_root make check ${tests:+KIPC_TESTS="$tests"} 2>&1 | tee "$logs/check"
rc=${PIPESTATUS[0]}
echo "check-fresh: make check: status $rc ($(($(date +%s) - t0)) s)"
# Its last line is its tally; a make check that failed without one (as on
# a fresh machine before) counts as a failure, as does a non-zero status.
if [[ $rc -ne 0 ]] && ! grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' "$logs/check"; then
	echo "0 passed, 1 failed, 0 skipped" >"$logs/check.status"
else
	echo "0 passed, 0 failed, 0 skipped" >"$logs/check.status"
fi
"$here/tally.sh" "$logs/bench.tally" "$logs/check" "$logs/check.status"
rc=$?
rm -rf -- "$logs"
[[ ${FRESH_KEEP:-0} != 1 ]] || echo "check-fresh: root kept at $root"
exit $rc
