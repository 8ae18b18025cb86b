#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# grade.sh - make grade: build a submission's module, run the tests of
# labs/weights against it in the VM, print the points per lab and write
# Gradescope's results.json (docs/course.md, "Grading").
#
# Usage: scripts/grade.sh --kver KVER --kdir KDIR [--submission DIR]
#                         [--weights FILE] [--results FILE] [--max-boots N]
#                         [--module KO]
#
# The submission gives only its kmod/ (the module's sources): the kernel
# build files, the UAPI header, the VM and the tests are this tree's, so a
# submission cannot change what it is graded with.  The tests run in the VM
# as make check's do; the guest panics on an oops, a soft lockup or a hung
# task, and every program has a time-out, so a run always ends: a test
# that crashes or hangs the guest scores 0, and the tests after it run in
# a fresh VM (at most --max-boots VMs in all, default 4).
#
# --module KO grades a module built already (make check-labs, for the full
# tree) instead of building the submission's.
#
# The last line is "Total: SCORE / MAX".  Exit status 0 if the grading ran
# (whatever the score), 1 if it could not (no tests built, bad weights).
set -uo pipefail

# One compound command, parsed whole before it runs: editing this script
# while a grade runs cannot break that run (as in vm.sh).
{

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kver='' kdir='' sub=$top weights=$top/labs/weights results=$top/results.json
max_boots=4 prebuilt=
# Per test: the harness's own time-out (30 s), and some slack per program.
test_timeout=30 prog_slack=30 boot_allowance=240

die() {
	echo "grade: $*" >&2
	exit 1
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--kdir) kdir=$2; shift 2 ;;
	--submission) sub=$2; shift 2 ;;
	--weights) weights=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--max-boots) max_boots=$2; shift 2 ;;
	--module) prebuilt=$2; shift 2 ;;
	*) die "unknown argument $1 (see the head of $0)" ;;
	esac
done
[[ -n $kver && -n $kdir ]] || die "--kver and --kdir are needed (make grade passes them)"
[[ -d $sub/kmod ]] || die "no kmod/ in the submission $sub"
sub=$(cd "$sub" && pwd)
[[ -r $weights ]] || die "no weights file $weights"
case $results in
/*) ;;
*) results=$PWD/$results ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/kipc-grade.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)

# ------------------------------------------------------------ the weights
# LAB PROGRAM TEST POINTS, whitespace-separated; # comments.
awk '!/^[ \t]*(#|$)/ {
	if (NF != 4 || $4 !~ /^[0-9]+$/) {
		printf "grade: %s:%d: want LAB PROGRAM TEST POINTS\n", FILENAME, FNR > "/dev/stderr"
		exit 1
	}
	if (seen[$2 " " $3]++) {
		printf "grade: %s:%d: %s %s is listed twice\n", FILENAME, FNR, $2, $3 > "/dev/stderr"
		exit 1
	}
	print $1 "\t" $2 "\t" $3 "\t" $4
}' "$weights" >"$work/weights.tsv" || exit 1
[[ -s $work/weights.tsv ]] || die "$weights names no tests"
mapfile -t programs < <(awk -F'\t' '!seen[$2]++ { print $2 }' "$work/weights.tsv")
for p in "${programs[@]}"; do
	[[ -x $top/selftests/kipc/$p ]] || die "selftests/kipc/$p is not built (make selftests)"
done

# What a test that did not report gets, by program: "why" lines.
note() { # PROGRAM TEXT
	printf '%s\n' "$2" >>"$work/$1.note"
}

# ------------------------------------------------------------ the module
build=$work/build
mkdir -p "$build/kmod"
built=0
if [[ -n $prebuilt ]]; then
	[[ -f $prebuilt ]] || die "no module $prebuilt"
	echo "grade: the module $prebuilt"
	cp "$prebuilt" "$build/kmod/kipc.ko" || exit 1
	: >"$work/build.log"
	built=1
else
	echo "grade: building the module of $sub"
	cp -r "$top/Kbuild" "$top/VERSION" "$top/include" "$top/scripts" "$build/" || exit 1
	cp -r "$sub/kmod/." "$build/kmod/" || exit 1
	find "$build/kmod" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \) -delete
	if "$build/scripts/kbuild.sh" "$kdir" W=1 modules >"$work/build.log" 2>&1 &&
		[[ -f $build/kmod/kipc.ko ]]; then
		built=1
	fi
	echo "grade: built in $(($(date +%s) - t0))s"
fi
if [[ $built == 1 ]]; then
	if grep -qE 'warning:' "$work/build.log"; then
		echo "grade: the module built, with warnings:"
		grep -E 'warning:' "$work/build.log" | sed 's/^/grade:   /'
	fi
else
	echo "grade: the module did not build:"
	tail -n 30 "$work/build.log" | sed 's/^/grade:   /'
	for p in "${programs[@]}"; do
		note "$p" "The module did not build, so no test ran.  The end of the build log:"
		tail -n 30 "$work/build.log" >>"$work/$p.note"
	done
fi

# ------------------------------------------------------------ the runs
# Programs still to run, each with its tests still to run ($work/P.pending);
# each boot runs them in order until one ends it.  A program that crashed
# or hung the guest goes last in the next boot, without the tests it
# reported and the one it was running, which scores 0 with the console's
# complaint as its output.
remaining=()
if [[ $built == 1 ]]; then
	remaining=("${programs[@]}")
	for p in "${programs[@]}"; do
		awk -F'\t' -v p="$p" '$2 == p { print $3 }' "$work/weights.tsv" >"$work/$p.pending"
		: >"$work/$p.tap"
	done
fi
boot=0
while [[ ${#remaining[@]} -gt 0 && $boot -lt $max_boots ]]; do
	boot=$((boot + 1))
	out=$work/run$boot
	mkdir -p "$out"
	: >"$out/plan"
	total=$boot_allowance
	for p in "${remaining[@]}"; do
		n=$(wc -l <"$work/$p.pending")
		tmo=$((n * test_timeout + prog_slack))
		total=$((total + tmo + 10))
		printf '%s\t%s\t%s\n' "$p" "$tmo" "$(tr '\n' ' ' <"$work/$p.pending")" >>"$out/plan"
	done
	echo "grade: VM $boot: ${remaining[*]} (time-out ${total}s)"
	rc=0
	tv=$(date +%s)
	"$here/vm.sh" --kver "$kver" --module "$build/kmod/kipc.ko" --out "$out" \
		--timeout "$total" -- env KIPC_GRADE_OUT="$out" "$here/grade-guest.sh" \
		>"$out/console.log" 2>&1 || rc=$?
	grep -E '^(=== grade:|# Totals:)' "$out/console.log" | sed 's/^/grade:   /'
	echo "grade: VM $boot: status $rc, $(($(date +%s) - tv))s"
	# The kernel's complaints, for the test that was running.
	klog=$(grep -E 'BUG:|WARNING:|Oops|general protection|Kernel panic|soft lockup|blocked for more than|Call Trace|RIP:' \
		"$out/console.log" | tr -d '\r' | head -n 40)
	case $rc in
	0) why= ;;
	124) why="The VM timed out after ${total}s (a hang: the kernel stopped answering)." ;;
	125) why="The kernel crashed (oops, panic or a warning), or the module failed to load or unload." ;;
	*) why="The VM run ended with status $rc." ;;
	esac
	next=() again=()
	progress=0
	for p in "${remaining[@]}"; do
		if [[ -f $out/$p.rc ]]; then
			cat "$out/$p.tap" >>"$work/$p.tap"
			prc=$(<"$out/$p.rc")
			[[ $prc != 124 && $prc != 137 ]] ||
				note "$p" "$p timed out (the whole program, after $(awk -F'\t' -v p="$p" '$1 == p { print $2 }' "$out/plan")s) and was killed."
			: >"$work/$p.pending"
			progress=1
		elif [[ -f $out/$p.tap ]]; then
			cat "$out/$p.tap" >>"$work/$p.tap"
			progress=1
			# The test it was running: the last RUN without a result.
			cur=$(awk '/^#  RUN           / { t = $3 } /^(not )?ok [0-9]+ / { t = "" } END { print t }' "$out/$p.tap")
			# Pending: neither reported nor the one that ended the VM.
			grep -E '^(not )?ok [0-9]+ ' "$out/$p.tap" | awk '{ print ($1 == "not") ? $4 : $3 }' >"$out/$p.done"
			[[ -z $cur ]] || echo "$cur" >>"$out/$p.done"
			grep -vxF -f "$out/$p.done" "$work/$p.pending" >"$out/$p.pending"
			mv "$out/$p.pending" "$work/$p.pending"
			{
				echo "${cur:-$p}: ${why:-the VM ended while it ran.}"
				[[ -z $klog ]] || printf 'The console:\n%s\n' "$klog"
			} >"$work/crash.$p.${cur:-none}"
			[[ -n $cur ]] || cat "$work/crash.$p.none" >>"$work/$p.note"
			# Last next time: the others first.
			[[ ! -s $work/$p.pending ]] || again+=("$p")
		else
			next+=("$p")
		fi
	done
	if [[ $rc -ne 0 && $progress == 1 && ${#next[@]} -eq 0 ]]; then
		# Everything ran, but the run did not end cleanly (rmmod, a
		# warning in the log): worth saying, not worth points.
		echo "$why" >>"$work/general.note"
		[[ -z $klog ]] || echo "$klog" >>"$work/general.note"
	fi
	if [[ $progress == 0 ]]; then
		for p in "${next[@]}"; do
			note "$p" "$p never ran: ${why:-the VM ran nothing.}"
			grep -E '^vm:' "$out/console.log" | head -n 20 >>"$work/$p.note"
		done
		next=()
	fi
	remaining=(${next[@]+"${next[@]}"} ${again[@]+"${again[@]}"})
done
for p in ${remaining[@]+"${remaining[@]}"}; do
	note "$p" "$p did not run to the end: the grader used up its $max_boots VM boots."
done

# ------------------------------------------------------------ the scores
# One line per test: LAB PROGRAM TEST POINTS SCORE STATUS, and its output
# in $work/out.N.
n=0
: >"$work/scores.tsv"
while IFS=$'\t' read -r lab prog test pts; do
	n=$((n + 1))
	tap=$work/$prog.tap
	status=missing
	if [[ -f $tap ]]; then
		line=$(grep -E "^(not )?ok [0-9]+ $test( |\$)" "$tap" | tail -n 1)
		case $line in
		"not ok "*) status=failed ;;
		"ok "*"# SKIP"*) status=skipped ;;
		"ok "*) status=passed ;;
		esac
		# What the harness said about it: from RUN to its result.
		awk -v t="$test" 'index($0, "#  RUN           " t " ...") == 1 { p = 1; print; next }
			p && /^(#  RUN  |TAP version)/ { exit }
			p { print }
			p && /^(not )?ok [0-9]+ / { exit }' "$tap" >"$work/out.$n"
	fi
	: >>"$work/out.$n"
	case $status in
	passed) score=$pts ;;
	skipped) score=0; echo "The test was skipped: it could not run here." >>"$work/out.$n" ;;
	missing) score=0; echo "The test did not report a result." >>"$work/out.$n" ;;
	*) score=0 ;;
	esac
	if [[ $status != passed && -f $work/crash.$prog.$test ]]; then
		cat "$work/crash.$prog.$test" >>"$work/out.$n"
	elif [[ $status == missing && -f $work/$prog.note ]]; then
		cat "$work/$prog.note" >>"$work/out.$n"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$lab" "$prog" "$test" "$pts" "$score" "$status" >>"$work/scores.tsv"
done <"$work/weights.tsv"

echo
awk -F'\t' '
	!($1 in max) { order[++nl] = $1 }
	{ max[$1] += $4; got[$1] += $5; tests[$1]++; if ($5 == $4) ok[$1]++ }
	$5 != $4 { fails[$1] = fails[$1] sprintf("    %-8s %s: %s\n", $6, $2, $3) }
	END {
		for (i = 1; i <= nl; i++) {
			l = order[i]
			printf "%-8s %3d / %3d   (%d of %d tests)\n", l, got[l], max[l], ok[l], tests[l]
			printf "%s", fails[l]
		}
	}' "$work/scores.tsv"

# ------------------------------------------------------------ results.json
# Gradescope's format (docs/course.md): score, output, execution_time and
# one entry per test with name, score, max_score, status, output, tags.
elapsed=$(($(date +%s) - t0))
{
	[[ $built == 1 ]] || echo "The module did not build."
	[[ ! -f $work/general.note ]] || cat "$work/general.note"
} >"$work/general.txt"
awk -F'\t' -v work="$work" -v elapsed="$elapsed" -v general="$work/general.txt" '
function esc(s,    r, i, c, n) {
	r = ""
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\\") r = r "\\\\"
		else if (c == "\"") r = r "\\\""
		else if (c == "\t") r = r "\\t"
		else if (c == "\r") r = r "\\r"
		else if (c < " ") r = r " "
		else r = r c
	}
	return r
}
function slurp(f,    s, l) {
	s = ""
	while ((getline l < f) > 0)
		s = s esc(l) "\\n"
	close(f)
	return s
}
{
	score += $5
	max += $4
	t[NR] = sprintf("    {\"name\": \"%s: %s\", \"score\": %d, \"max_score\": %d, \"status\": \"%s\", \"tags\": [\"%s\"], \"output\": \"%s\"}",
		esc($1), esc($3), $5, $4, $5 == $4 ? "passed" : "failed", esc($1), slurp(work "/out." NR))
}
END {
	printf "{\n  \"score\": %d,\n  \"execution_time\": %d,\n", score, elapsed
	printf "  \"output\": \"%s\",\n", esc("kipc labs: " score " / " max " points.") "\\n" slurp(general)
	printf "  \"tests\": [\n"
	for (i = 1; i <= NR; i++)
		printf "%s%s\n", t[i], i < NR ? "," : ""
	printf "  ]\n}\n"
}' "$work/scores.tsv" >"$work/results.json"
if command -v python3 >/dev/null; then
	python3 "$here/grade-json-check.py" "$work/results.json" ||
		die "results.json does not validate (a grader bug)"
fi
cp "$work/results.json" "$results"
echo
echo "grade: results in $results (${elapsed}s)"
awk -F'\t' '{ s += $5; m += $4 } END { printf "Total: %d / %d\n", s, m }' "$work/scores.tsv"
exit
}
