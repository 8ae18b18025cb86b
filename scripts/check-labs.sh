#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check-labs.sh - make check-labs: the labs are real assignments.  For each
# lab (scripts/lab.sh list): its skeleton builds W=1-clean and loads, its
# own tests all fail there (it scores 0) and the other labs' tests all pass
# (they score full marks); and the full tree scores 100%.  Every grade's
# results.json validates (scripts/grade-json-check.py).  One make grade, so
# one VM boot unless a test crashes it, per skeleton and for the full tree;
# each runs only the tests labs/weights names.
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
kver= kdir=
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--kdir) kdir=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "check-labs: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ -n "$kver" ] && [ -n "$kdir" ] || { echo "check-labs: --kver and --kdir are needed" >&2; exit 2; }
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

grade() { # NAME TREE
	echo "=== check-labs: make grade SUBMISSION=$2"
	"$here/grade.sh" --kver "$kver" --kdir "$kdir" --submission "$2" \
		--results "$work/$1.json" >"$work/$1.log" 2>&1
	rc=$?
	sed 's/^/  /' "$work/$1.log"
	if [ $rc -ne 0 ]; then
		not_ok "$1: make grade failed (status $rc)"
		return 1
	fi
	if python3 "$here/grade-json-check.py" "$work/$1.json" "$max"; then
		ok "$1: results.json is valid, out of $max"
	else
		not_ok "$1: results.json is not valid"
	fi
}

for lab in $labs; do
	skel=$work/skel-$lab
	if ! "$here/lab.sh" make "$lab" "$skel" >"$work/make-$lab.log" 2>&1; then
		cat "$work/make-$lab.log"
		not_ok "$lab: make lab LAB=$lab failed"
		continue
	fi
	grep -q "TODO($lab)" -r "$skel/kmod" || not_ok "$lab: the skeleton has no TODO($lab)"
	if grep -rqE '(END )?LAB[(: ]' "$skel/kmod"; then
		not_ok "$lab: markers are left in the skeleton"
	fi
	grade "$lab" "$skel" || continue
	log=$work/$lab.log
	if grep -q 'the module did not build' "$log"; then
		not_ok "$lab: the skeleton does not build"
		continue
	fi
	if grep -q 'the module built, with warnings' "$log"; then
		not_ok "$lab: the skeleton builds with W=1 warnings"
	else
		ok "$lab: the skeleton builds W=1-clean"
	fi
	if grep -qE 'crashed|timed out|never ran|did not finish' "$log"; then
		not_ok "$lab: the skeleton crashed, hung or did not load"
	else
		ok "$lab: the skeleton loads and runs without a crash"
	fi
	for other in $labs; do
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

if grade full "$top"; then
	total=$(sed -n 's/^Total: //p' "$work/full.log")
	if [ "$total" = "$max / $max" ]; then
		ok "the full tree scores 100% ($total)"
	else
		not_ok "the full tree scores $total"
	fi
fi

echo "check-labs: $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
exit
}
