#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lab.sh - the course's labs, cut from the working sources by their markers
# (docs/course.md).
#
#   scripts/lab.sh list             the labs, one a line, in course order
#   scripts/lab.sh check            the markers are well formed, and every
#                                   lab has its README and its weights
#   scripts/lab.sh make LAB DIR     LAB's student tree in DIR (a directory,
#                                   or a tarball if DIR ends in .tar.gz)
#
# A marker is a comment on a line of its own, in the C sources (kmod/):
#
#	/* LAB(queue): what the student writes, in one line */
#	... the solution ...
#	/* END LAB: return -ENOSYS; */
#
# In LAB's tree the region becomes "/* TODO(queue): what ... */" and the
# statement after "END LAB:" (none with a bare "/* END LAB */"), so that the
# stub compiles and fails cleanly.  Markers of the other labs are dropped
# and their code stays.  Regions do not nest.  labs/weights orders the labs
# (the order of their first lines there); labs/LAB/README.md is the
# student's sheet, which make lab copies to DIR/LAB.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
here=$(pwd)
cd "$top" || exit 1
weights=labs/weights

die() {
	echo "lab: $*" >&2
	exit 2
}

# The sources that may hold markers.
sources() {
	if [ -d .git ] || [ -f .git ]; then
		git ls-files -- 'kmod/*.c' 'kmod/*.h' 'lib/*.c' 'lib/*.h'
	else
		find kmod lib -name '*.[ch]' ! -name '*.mod.c' 2>/dev/null | sort
	fi
}

# shellcheck disable=SC2016 # awk's own $0, not the shell's
# awk over one file: MODE=names prints the labs it marks, MODE=cut writes it
# with LAB's regions cut, both fail on a malformed marker.
MARK_AWK='
function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	bad = 1
	exit 2
}
/^[ \t]*\/\* LAB\([a-z0-9_]+\): .* \*\/$/ {
	if (open)
		fail("LAB inside the LAB(" name ") of line " open)
	name = $0
	sub(/^[ \t]*\/\* LAB\(/, "", name)
	sub(/\).*/, "", name)
	hint = $0
	sub(/^[ \t]*\/\* LAB\([a-z0-9_]+\): /, "", hint)
	sub(/ \*\/$/, "", hint)
	indent = $0
	sub(/\/\*.*/, "", indent)
	open = FNR
	cut = (name == lab)
	if (mode == "names")
		print name
	else if (cut)
		print indent "/* TODO(" name "): " hint " */"
	next
}
/^[ \t]*\/\* END LAB(: .*)? \*\/$/ {
	if (!open)
		fail("END LAB without a LAB")
	stmt = $0
	if (!sub(/^[ \t]*\/\* END LAB: /, "", stmt))
		stmt = ""
	sub(/ \*\/$/, "", stmt)
	if (mode == "cut" && cut && stmt != "") {
		ind = $0
		sub(/\/\*.*/, "", ind)
		print ind stmt
	}
	open = 0
	next
}
/(\/\*|\*) *(END )?LAB[(: ]/ {
	fail("malformed LAB marker (one line: /* LAB(name): text */ or /* END LAB[: stmt] */)")
}
mode == "cut" && !(open && cut) { print }
END {
	if (!bad && open)
		fail("LAB(" name ") of line " open " has no END LAB")
}'

marked_labs() {
	for f in $(sources); do
		awk -v mode=names -v lab= "$MARK_AWK" "$f" >/dev/null || return 2
	done
	for f in $(sources); do
		awk -v mode=names -v lab= "$MARK_AWK" "$f"
	done | sort -u
}

# The labs in course order: as labs/weights first names them.
weights_labs() {
	[ -r "$weights" ] || die "no $weights"
	awk '!/^[ \t]*(#|$)/ && !seen[$1]++ { print $1 }' "$weights"
}

check() {
	marked=$(marked_labs) || exit 2
	listed=$(weights_labs) || exit 2
	status=0
	for l in $marked; do
		echo "$listed" | grep -qx "$l" || {
			echo "lab: $l is marked in the sources but has no tests in $weights" >&2
			status=1
		}
	done
	for l in $listed; do
		echo "$marked" | grep -qx "$l" || {
			echo "lab: $l has tests in $weights but no LAB($l) markers" >&2
			status=1
		}
		[ -r "labs/$l/README.md" ] || {
			echo "lab: $l has no labs/$l/README.md" >&2
			status=1
		}
	done
	return $status
}

make_lab() {
	lab=$1 out=$2
	check || exit 1
	weights_labs | grep -qx "$lab" ||
		die "no lab '$lab' (the labs: $(weights_labs | tr '\n' ' '))"
	[ -n "$out" ] || die "no output directory (LAB_OUT=DIR)"
	case $out in
	/*) ;;
	*) out=$here/$out ;;
	esac
	case $out in
	*.tar.gz)
		tarball=$out tmp=$(mktemp -d) || exit 1
		trap 'rm -rf "$tmp"' EXIT
		dir=$tmp/kipc-lab-$lab
		;;
	*) tarball='' dir=$out ;;
	esac
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
		die "$dir exists and is not empty"
	fi
	mkdir -p "$dir" || exit 1
	dir=$(cd "$dir" && pwd)
	case $dir/ in
	"$top"/*) die "$dir is inside the source tree" ;;
	esac
	# The tracked files, as they are in the working tree.
	if [ -d .git ] || [ -f .git ]; then
		git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null |
			tar -xf - -C "$dir" || exit 1
	else
		tar -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
			--exclude='.*.cmd' . | tar -xf - -C "$dir" || exit 1
	fi
	n=0
	for f in $(sources); do
		grep -q 'LAB(' "$f" || continue
		awk -v mode=cut -v lab="$lab" "$MARK_AWK" "$f" >"$dir/$f" || exit 1
		n=$((n + $(grep -c "TODO($lab)" "$dir/$f")))
	done
	cp "labs/$lab/README.md" "$dir/LAB.md"
	echo "$lab" >"$dir/.lab"
	if [ -n "$tarball" ]; then
		tar -czf "$tarball" -C "$tmp" "kipc-lab-$lab" || exit 1
		echo "lab: $lab: $n stubs, in $tarball (unpacks to kipc-lab-$lab/)"
	else
		echo "lab: $lab: $n stubs, in $dir (the sheet: $dir/LAB.md)"
	fi
}

case ${1:-} in
list) check >/dev/null 2>&1 || check || exit 1; weights_labs ;;
check) check && echo "lab: markers and weights agree: $(weights_labs | tr '\n' ' ')" ;;
make)
	[ $# -eq 3 ] || die "usage: lab.sh make LAB DIR"
	make_lab "$2" "$3"
	;;
*) die "usage: lab.sh list | check | make LAB DIR" ;;
esac
