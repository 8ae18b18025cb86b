#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# grade-guest.sh - make grade's part in the VM (scripts/grade.sh starts it
# there with the submission's module loaded).  Runs, as root, the programs
# of KIPC_GRADE_OUT/plan, a line each: PROGRAM, its time-out in seconds and
# the tests to run (KIPC_TEST_ONLY), tab-separated.  Each program's TAP goes
# to KIPC_GRADE_OUT/PROGRAM.tap as it runs, and its exit status to
# PROGRAM.rc once it is done: a .tap without a .rc is where the guest died.
#
# A kernel that oopses, locks up or leaves a task hung panics, which ends
# the VM at once (vm.sh boots with panic=-1 and -no-reboot): the host sees
# the program that was running, and the console says why.
out=${KIPC_GRADE_OUT:?KIPC_GRADE_OUT is not set}
cd "$(dirname "$0")/../selftests/kipc" || exit 1

sysctl() {
	[ ! -w "/proc/sys/kernel/$1" ] || echo "$2" >"/proc/sys/kernel/$1"
}
sysctl panic_on_oops 1
sysctl softlockup_panic 1
sysctl hung_task_panic 1
sysctl hung_task_timeout_secs 30

tab=$(printf '\t')
while IFS=$tab read -r prog tmo tests; do
	[ -n "$prog" ] || continue
	echo "=== grade: $prog"
	: >"$out/$prog.tap"
	sync
	KIPC_TEST_ONLY=$tests timeout -k 5 "$tmo" "./$prog" >"$out/$prog.tap" 2>&1
	echo $? >"$out/$prog.rc"
	sync
	grep -E '^# Totals:' "$out/$prog.tap"
done <"$out/plan"
