#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# chroot.sh - run a command in a Debian root (a directory), in a private
# mount namespace: /proc, /sys and /dev are mounted in it, the host paths
# named by --bind appear at the same paths inside, and every mount goes
# away with the command, whatever way it ends.
#
# Usage: scripts/chroot.sh [--bind PATH]... [--cwd DIR] ROOT -- CMD [ARGS...]
#
# The host's /dev is bound, not copied: nothing is created under /dev.
# Needs root (mount, chroot).
set -euo pipefail

binds=()
cwd=/
while [[ $# -gt 0 ]]; do
	case $1 in
	--bind) binds+=("$(realpath -- "$2")"); shift 2 ;;
	--cwd) cwd=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "chroot.sh: unknown option $1" >&2; exit 2 ;;
	*) root=$1; shift ;;
	esac
done
[[ ${1:-} != -- ]] || shift
[[ -n ${root:-} && $# -gt 0 ]] || { echo "usage: chroot.sh [--bind PATH]... ROOT -- CMD..." >&2; exit 2; }
[[ -x $root/bin/sh ]] || { echo "chroot.sh: $root is not a root file system" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "chroot.sh: needs root (mount and chroot in $root)" >&2; exit 2; }
root=$(realpath -- "$root")

# The mount points are made on the host side; the root is ours to write.
for p in ${binds[@]+"${binds[@]}"}; do
	if [[ -d $p ]]; then mkdir -p -- "$root$p"; else mkdir -p -- "$(dirname -- "$root$p")" && touch -- "$root$p"; fi
done

# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare --mount --propagation private -- bash -euc '
	root=$1 cwd=$2 n=$3
	shift 3
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --rbind /dev "$root/dev"
	# apt in the root resolves names as the host does (a symlink there
	# would point into the host: leave it).
	if [ -e /etc/resolv.conf ] && [ ! -L "$root/etc/resolv.conf" ]; then
		cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	fi
	while [ "$n" -gt 0 ]; do
		mount --bind "$1" "$root$1"
		shift
		n=$((n - 1))
	done
	cd "$root"
	exec chroot "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
' chroot.sh "$root" "$cwd" "${#binds[@]}" ${binds[@]+"${binds[@]}"} "$@"
