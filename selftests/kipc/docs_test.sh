#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The documentation keeps up with the code: docs/uapi.md names everything
# the UAPI header defines, every function libkipc exports has a man page,
# the man pages format without warnings, and the Markdown files' links to
# files in the tree resolve.  Needs no module.
cd "$(dirname "$0")" || exit 1
top=$(cd ../.. && pwd)
pass=0
fail=0
skip=0
n=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n # SKIP $1"; }
check() { desc=$1; shift; if "$@" >"$out" 2>&1; then ok "$desc"; else sed 's/^/# /' "$out"; not_ok "$desc"; fi; }

echo "TAP version 13"
# Once, as root: nothing here depends on the user.
if [ "$(id -u)" != 0 ] || [ ! -f "$top/docs/uapi.md" ]; then
	echo "1..0 # SKIP runs once, as root, in the kipc source tree"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
echo "1..5"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
header=$top/include/uapi/linux/kipc.h
uapi=$top/docs/uapi.md

# Every KIPC_* name and struct of the header, as a word of docs/uapi.md.
uapi_names() {
	missing=
	for name in $(grep -o '\bKIPC_[A-Z0-9_]*' "$header" | sort -u) \
		$(sed -n 's/^struct \(kipc_[a-z_]*\) {.*/\1/p' "$header" | sort -u); do
		case $name in
		*_) continue ;;	# a prefix in a comment: KIPC_A_*
		esac
		grep -q "\b$name\b" "$uapi" || missing="$missing $name"
	done
	[ -z "$missing" ] || { echo "not in docs/uapi.md:$missing"; return 1; }
}
check "docs/uapi.md names every constant, ioctl and struct of <linux/kipc.h>" uapi_names

# Every ioctl has a row in the table of ioctls.
uapi_ioctls() {
	missing=
	for ioc in $(sed -n 's/^#define \(KIPC_IOC_[A-Z_]*\)[[:space:]]*_IO.*/\1/p' "$header"); do
		grep -q "^| \`$ioc\` |" "$uapi" || missing="$missing $ioc"
	done
	[ -z "$missing" ] || { echo "no row in the ioctl table:$missing"; return 1; }
}
check "docs/uapi.md's ioctl table has every KIPC_IOC_*" uapi_ioctls

# Every kipc_* function of the version script is the name of a man page
# or an alias make install writes (scripts/man-aliases.sh).
man_coverage() {
	pages=$(for p in "$top"/man/*.3; do echo "${p##*/}"; done)
	aliases=$("$top/scripts/man-aliases.sh" "$top"/man/*.3 | cut -d' ' -f1)
	missing=
	for f in $(sed -n 's/^[[:space:]]*\(kipc_[a-z0-9_]*\);/\1/p' "$top/lib/libkipc.map"); do
		echo "$pages $aliases" | tr ' ' '\n' | grep -qx "$f.3" || missing="$missing $f"
	done
	[ -z "$missing" ] || { echo "no man page names:$missing"; return 1; }
}
check "every function in lib/libkipc.map has a man page" man_coverage

# groff's warnings (-ww) and, where installed, mandoc's lint.
man_lint() {
	status=0
	for page in "$top"/man/*.[1-8] "$top"/tools/*.[1-8]; do
		w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
		[ -z "$w" ] || { echo "$page: $w"; status=1; }
	done
	if command -v mandoc >/dev/null 2>&1; then
		for page in "$top"/man/*.[1-8]; do
			w=$(mandoc -Tlint -W warning "$page" 2>&1 |
				grep -v 'referenced manual not found')
			[ -z "$w" ] || { echo "$w"; status=1; }
		done
	fi
	return $status
}
if command -v groff >/dev/null 2>&1; then
	check "the man pages format without warnings (groff -ww, mandoc -Tlint)" man_lint
else
	skip "the man pages format without warnings (groff is not installed)"
fi

# Relative links of README.md and docs/*.md name files that exist.
md_links() {
	status=0
	for md in "$top/README.md" "$top"/docs/*.md; do
		dir=$(dirname "$md")
		for target in $(grep -o '](\([^)#:]*\)\(#[^)]*\)\?)' "$md" |
			sed 's/^](\([^)#]*\).*/\1/'); do
			[ -n "$target" ] || continue
			[ -e "$dir/$target" ] || { echo "${md#"$top"/}: broken link $target"; status=1; }
		done
	done
	return $status
}
check "README.md and docs/*.md link only to files that exist" md_links

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]
