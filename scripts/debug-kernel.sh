#!/usr/bin/env bash
# debug-kernel.sh - build, once, the debug kernel `make check-debug` boots,
# and print where it is.
#
# The kernel is Debian's linux-source-6.1 configured as x86_64_defconfig +
# kvm_guest.config + scripts/debug.config: KASAN, lockdep, kmemleak, UBSAN,
# failslab/fail_page_alloc, with virtio and 9p built in so that scripts/vm.sh
# needs no modules but ours.  It lives outside the repository, in
# $XDG_CACHE_HOME/kipc/debug (default ~/.cache/kipc/debug); the first build
# takes 45-90 minutes on two cores, later calls return at once.  A changed
# scripts/debug.config is applied and built incrementally.
#
# Prints (shell-sourceable):
#   KDIR=<tree>     build kipc.ko with make KDIR=<tree>
#   IMAGE=<bzImage> boot with scripts/vm.sh --kernel <bzImage>
#   KVER=<release>
#
# Environment: KIPC_DEBUG_DIR (the cache), KIPC_DEBUG_JOBS (make -j, default
# the number of CPUs).
set -euo pipefail

SELF=$(realpath -- "${BASH_SOURCE[0]}")
SCRIPT_DIR=${SELF%/*}
FRAGMENT=$SCRIPT_DIR/debug.config
TARBALL=/usr/src/linux-source-6.1.tar.xz

cache=${KIPC_DEBUG_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kipc/debug}
tree=$cache/linux-source-6.1
image=$tree/arch/x86/boot/bzImage
# The fragment the tree was last built with: a different one means rebuild.
stamp=$cache/built-with.config
log=$cache/build.log

built() {
	[[ -s $image && -s $tree/Module.symvers && -s $tree/include/config/kernel.release ]]
}

report() {
	echo "KDIR=$tree"
	echo "IMAGE=$image"
	echo "KVER=$(<"$tree/include/config/kernel.release")"
}

mkdir -p -- "$cache"
# One build at a time: a second caller waits, then finds it done.
exec 9>"$cache/.lock"
flock 9

if built; then
	if [[ ! -e $stamp ]]; then
		# Built before the stamp existed (by hand, with these steps).
		cp -- "$FRAGMENT" "$stamp"
	fi
	if cmp -s -- "$FRAGMENT" "$stamp"; then
		report
		exit 0
	fi
	echo "debug-kernel: scripts/debug.config changed: rebuilding $tree" >&2
fi

"$SCRIPT_DIR/deps.sh" flex bison bc libelf-dev libssl-dev linux-source-6.1
if [[ ! -f $tree/Makefile ]]; then
	echo "debug-kernel: unpacking $TARBALL into $cache" >&2
	rm -rf -- "$tree"
	tar -xJf "$TARBALL" -C "$cache"
fi

jobs=${KIPC_DEBUG_JOBS:-$(nproc)}
echo "debug-kernel: building the debug kernel in $tree (45-90 min on 2 CPUs; log: $log)" >&2
rm -f -- "$stamp"
# Low priority: the machine stays usable meanwhile.
if ! (
	cd "$tree"
	make x86_64_defconfig
	make kvm_guest.config
	scripts/kconfig/merge_config.sh -m .config "$FRAGMENT"
	make olddefconfig
	nice -n 10 make -j"$jobs" bzImage modules
) >"$log" 2>&1; then
	tail -n 30 -- "$log" >&2
	echo "debug-kernel: build failed (full log: $log)" >&2
	exit 1
fi
cp -- "$FRAGMENT" "$stamp"
built || { echo "debug-kernel: the build left no $image" >&2; exit 1; }
report
