#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check-labs.sh - make check-labs: the labs are real assignments.  For each
# lab (scripts/lab.sh list): its skeleton builds W=1-clean and loads, its
# own tests all fail there (it scores 0) and the other labs' tests all pass
# (they score full marks); and the full tree (its kmod/kipc.ko, built
# already) scores 100%.  Every grade's results.json validates
# (scripts/grade-json-check.py).  One grade, so one VM boot unless a test
# crashes it, per skeleton and for the full tree, each running only the
# tests labs/weights names; the skeletons' modules build meanwhile.
#
# Usage: scripts/check-labs.sh --kver KVER --kdir KDIR [LAB...]
#
# Ends with "N passed, N failed, 0 skipped" (one check per line above);
# exit status 1 if anything failed.
set -u

# One compound command, parsed whole before it runs: editing this script
# while a grade runs cannot break that run (as in vm.sh).
{
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kver='' kdir=''
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--kdir) kdir=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "check-labs: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ -z "$kver" ] || [ -z "$kdir" ]; then
	echo "check-labs: --kver and --kdir are needed" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kipc-check-labs.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
start=$(date +%s)

ok() {
	echo "ok: $*"
	passed=$((passed + 1))
}

not_ok() {
	echo "NOT OK: $*"
	failed=$((failed + 1))
}

labs=${*:-$("$here/lab.sh" list)} || exit 1
[ -n "$labs" ] || { echo "check-labs: no labs" >&2; exit 1; }
max=$(awk '!/^[ \t]*(#|$)/ { m += $4 } END { print m }' "$top/labs/weights")

# LABNAME's "got / max" from a grade log's summary.
lab_score() { # LOG LAB
	awk -v l="$2" '$1 == l && $3 == "/" { print $2 " " $4; exit }' "$1"
}

grade() { # NAME TREE [GRADE-OPTION...]
	name=$1 tree=$2
	shift 2
	echo "=== check-labs: make grade SUBMISSION=$tree $*"
	"$here/grade.sh" --kver "$kver" --kdir "$kdir" --submission "$tree" \
		--results "$work/$name.json" "$@" >"$work/$name.log" 2>&1
	rc=$?
	sed 's/^/  /' "$work/$name.log"
	if [ $rc -ne 0 ]; then
		not_ok "$name: make grade failed (status $rc)"
		return 1
	fi
	if python3 "$here/grade-json-check.py" "$work/$name.json" "$max"; then
		ok "$name: results.json is valid, out of $max"
	else
		not_ok "$name: results.json is not valid"
	fi
}

# The skeletons first, all of them; their modules build (in their own
# trees, one after the other) while the VM grades the full tree and then
# each skeleton whose module is ready.
for lab in $labs; do
	skel=$work/skel-$lab
	if ! "$here/lab.sh" make "$lab" "$skel" >"$work/make-$lab.log" 2>&1; then
		cat "$work/make-$lab.log"
		not_ok "$lab: make lab LAB=$lab failed"
		continue
	fi
	if grep -rq "TODO($lab)" "$skel/kmod" && ! grep -rqE '(END )?LAB[(: ]' "$skel/kmod"; then
		ok "$lab: the skeleton has its TODO($lab) stubs and no markers"
	else
		not_ok "$lab: the skeleton lacks TODO($lab) stubs, or has markers left"
	fi
done
(
	for lab in $labs; do
		skel=$work/skel-$lab
		[ -d "$skel" ] || continue
		"$skel/scripts/kbuild.sh" "$kdir" W=1 modules >"$work/build-$lab.log" 2>&1
		echo $? >"$work/build-$lab.rc"
	done
) &
builder=$!

if grade full "$top" --module "$top/kmod/kipc.ko"; then
	total=$(sed -n 's/^Total: //p' "$work/full.log")
	if [ "$total" = "$max / $max" ]; then
		ok "the full tree scores 100% ($total)"
	else
		not_ok "the full tree scores $total"
	fi
fi

for lab in $labs; do
	skel=$work/skel-$lab
	[ -d "$skel" ] || continue
	while [ ! -f "$work/build-$lab.rc" ] && kill -0 "$builder" 2>/dev/null; do
		sleep 2
	done
	if [ "$(cat "$work/build-$lab.rc" 2>/dev/null)" != 0 ] || [ ! -f "$skel/kmod/kipc.ko" ]; then
		tail -n 30 "$work/build-$lab.log"
		not_ok "$lab: the skeleton does not build"
		continue
	fi
	if grep -q 'warning:' "$work/build-$lab.log"; then
		grep 'warning:' "$work/build-$lab.log"
		not_ok "$lab: the skeleton builds with W=1 warnings"
	else
		ok "$lab: the skeleton builds W=1-clean"
	fi
	grade "$lab" "$skel" --module "$skel/kmod/kipc.ko" || continue
	log=$work/$lab.log
	if grep -qE 'crashed|timed out|never ran|did not finish' "$log"; then
		not_ok "$lab: the skeleton crashed, hung or did not load"
	else
		ok "$lab: the skeleton loads and runs without a crash"
	fi
	for other in $labs; do
		# shellcheck disable=SC2046 # two numbers
		set -- $(lab_score "$log" "$other")
		if [ $# -ne 2 ]; then
			not_ok "$lab: no score for $other"
		elif [ "$other" = "$lab" ]; then
			if [ "$1" = 0 ]; then
				ok "$lab: its skeleton scores 0 / $2 for $lab"
			else
				not_ok "$lab: its skeleton scores $1 / $2 for $lab (tests that pass untouched)"
			fi
		elif [ "$1" = "$2" ]; then
			ok "$lab: its skeleton scores full marks for $other ($1 / $2)"
		else
			not_ok "$lab: its skeleton scores $1 / $2 for $other"
		fi
	done
done
wait "$builder"

echo "check-labs: $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
exit
}
