#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# buildroot.sh - a Debian root of one suite, made once with mmdebstrap into
# $CACHE/roots/SUITE, holding the packages asked for.
#
# Usage: scripts/buildroot.sh SUITE [PACKAGE...]
# Prints the root's path.  Packages missing from an existing root are
# installed into it (apt-get in the root); the root is never shared with the
# system.  Kernels whose compiler the host lacks are built in the root of
# their own suite (scripts/kbuild.sh), and make check-dkms for such a kernel
# runs its guest on it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${KIPC_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kipc}
suite=${1:?usage: buildroot.sh SUITE [PACKAGE...]}
shift
# What building an out-of-tree module needs beyond a compiler (kbuild's
# tools link libelf; BTF for modules wants pahole; W=1 runs perl scripts;
# make lint runs sparse).
base=(build-essential libelf-dev pahole perl kmod sparse)
root=$CACHE/roots/$suite

mkdir -p "$CACHE/roots"
exec 9>"$CACHE/roots/.$suite.lock"
flock 9

if [[ ! -f $root/.complete ]]; then
	command -v mmdebstrap >/dev/null ||
		"$here/deps.sh" mmdebstrap
	mirror=$("$here/kernel.sh" mirror)
	echo "buildroot: making a $suite root in $root (about a minute)" >&2
	rm -rf -- "$root" "$root.tmp"
	include=$(IFS=,; echo "${base[*]}${*:+,$*}")
	# A mirror that is a snapshot serves Release files past their
	# Valid-Until (sid's is a week); their signatures are still checked.
	if ! mmdebstrap --quiet --variant=apt --include="$include" \
		--aptopt='Acquire::Check-Valid-Until "false"' "$suite" "$root.tmp" "$mirror" \
		>"$CACHE/roots/$suite.log" 2>&1; then
		cat "$CACHE/roots/$suite.log" >&2
		rm -rf -- "$root.tmp"
		echo "buildroot: mmdebstrap $suite failed" >&2
		exit 1
	fi
	touch "$root.tmp/.complete"
	mv -- "$root.tmp" "$root"
	echo "$root"
	exit 0
fi

missing=()
for p in "$@"; do
	s=$(chroot "$root" dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $s == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "buildroot: installing ${missing[*]} into the $suite root" >&2
	"$here/chroot.sh" "$root" -- sh -c 'apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "$@"' \
		sh "${missing[@]}" >"$CACHE/roots/$suite.log" 2>&1 ||
		{ cat "$CACHE/roots/$suite.log" >&2; echo "buildroot: apt-get install failed" >&2; exit 1; }
fi
echo "$root"
