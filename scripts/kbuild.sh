#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kbuild.sh - the kernel's make for this tree's module: make -C KDIR M=TOP.
#
# Usage: scripts/kbuild.sh KDIR [make arguments...]
#
# Runs on the host when the host has the compiler the headers were made
# with; otherwise inside a root of the kernel's own Debian suite
# (scripts/buildroot.sh: Debian's 7.x headers want gcc-14 or newer, and their
# tools glibc >= 2.38), with the headers and this tree at the same paths as
# on the host, so that what it writes (kmod/*.ko, .cmd files) is the same
# either way.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kdir=${1:?usage: kbuild.sh KDIR [make arguments...]}
shift
[[ -d $kdir ]] || { echo "kbuild: no kernel build dir $kdir (KVER/KDIR)" >&2; exit 1; }

need=$("$here/kernel.sh" buildroot "$kdir")
if [[ -z $need ]]; then
	exec make -C "$kdir" M="$top" "$@"
fi

read -r suite cc <<<"$need"
root=$("$here/buildroot.sh" "$suite" "$cc")
# The headers (both halves and the kbuild tools they link to): a fetched
# kernel's whole unpacked tree, or an installed one's /usr/src and
# /usr/lib/linux-kbuild-*.
real=$(realpath -- "$kdir")
binds=(--bind "$top")
if [[ $real == */usr/src/* && -d ${real%/usr/src/*}/usr/lib ]] && [[ -n ${real%/usr/src/*} ]]; then
	binds+=(--bind "${real%/usr/src/*}")
else
	binds+=(--bind /usr/src)
	for d in /usr/lib/linux-kbuild-*; do [[ ! -d $d ]] || binds+=(--bind "$d"); done
fi
exec "$here/chroot.sh" "${binds[@]}" --cwd "$top" "$root" -- make -C "$real" M="$top" "$@"
