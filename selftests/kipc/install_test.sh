#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make install into a scratch DESTDIR, then use what it installed as a user
# of the package would: build libkipc's examples with
# `pkg-config --cflags --libs libkipc` (shared, and static), run them against
# the loaded module, build a program with libkipc-compat's flags and run an
# unmodified one under the installed LD_PRELOAD library, the installed
# tools, the man pages; as root also
# `make modules_install` into a scratch INSTALL_MOD_PATH and `modprobe` the
# module from there; finally make uninstall must leave nothing behind.
# Needs a built tree (make); writes only under a temp dir.
cd "$(dirname "$0")" || exit 1
# Root-only: the tree where it was built (run_all.sh may run us from a
# bind mount of it, where Kbuild would not find its modules.order paths).
top=${KIPC_TREE:-$(cd ../.. && pwd)}
pass=0
fail=0
skip=0
n=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n # SKIP $1"; }
check() {
	desc=$1
	shift
	t0=$(date +%s)
	if "$@" >"$out" 2>&1; then ok "$desc"; else sed 's/^/# /' "$out"; not_ok "$desc"; fi
	echo "# $(($(date +%s) - t0)) s"
}

echo "TAP version 13"
# Once, as root: nothing here depends on the user, and under TCG a pass
# takes minutes.
if [ "$(id -u)" != 0 ] || ! command -v pkg-config >/dev/null 2>&1 ||
	! command -v cc >/dev/null 2>&1 || [ ! -f "$top/lib/libkipc.a" ]; then
	echo "1..0 # SKIP needs root, pkg-config, cc and a built tree (make)"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
echo "1..15"

work=$(mktemp -d)
out=$work/out
dest=$work/dest
prefix=/usr/local
libdir=$dest$prefix/lib
bindir=$dest$prefix/bin
mandir=$dest$prefix/share/man
version=$(cat "$top/VERSION")
kver=$(uname -r)
trap 'rm -rf "$work"' EXIT

# 1
installed() {
	make -s -C "$top" install DESTDIR="$dest" PREFIX="$prefix" KVER="$kver" || return 1
	for f in "$libdir/libkipc.so.3" "$libdir/libkipc.a" \
		"$libdir/libkipc-compat.so.1" "$libdir/libkipc-preload.so" \
		"$libdir/pkgconfig/libkipc.pc" "$libdir/pkgconfig/libkipc-compat.pc" \
		"$dest$prefix/include/kipc.h" "$dest$prefix/include/linux/kipc.h" \
		"$dest$prefix/include/linux/kipc_stat.h" \
		"$bindir/kipcs" "$bindir/kipc-bench" "$mandir/man7/kipc.7" \
		"$mandir/man8/kipcs.8" "$mandir/man1/kipc-bench.1" \
		"$dest/lib/udev/rules.d/60-kipc.rules"; do
		[ -e "$f" ] || { echo "missing: $f"; return 1; }
	done
}
check "make install DESTDIR= installs library, headers, .pc, tools, man pages, udev rule" installed

# 2
soname_chain() {
	[ "$(readlink "$libdir/libkipc.so")" = libkipc.so.3 ] || return 1
	readelf -d "$libdir/libkipc.so.3" | grep -q 'SONAME.*\[libkipc\.so\.3\]' || return 1
	[ "$(readlink "$libdir/libkipc-compat.so")" = libkipc-compat.so.1 ] || return 1
	readelf -d "$libdir/libkipc-compat.so.1" | grep -q 'SONAME.*\[libkipc-compat\.so\.1\]' &&
		readelf -d "$libdir/libkipc-compat.so.1" | grep -q 'NEEDED.*\[libkipc\.so\.3\]'
}
check "libkipc.so -> libkipc.so.3, libkipc-compat.so -> .so.1 (sonames), compat needs libkipc" soname_chain

# 3: libkipc is the native library only: no libc name of the compatibility
# layer's, so a program linking -lkipc for rings keeps its libc IPC.
native_only() {
	names=$(nm -D --defined-only "$libdir/libkipc.so.3" | awk '$2 != "A" { print $3 }')
	[ -n "$names" ] || return 1
	other=$(echo "$names" | grep -v '^kipc_')
	[ -z "$other" ] || { echo "not kipc_*: $other"; return 1; }
}
check "libkipc.so exports kipc_* and nothing else" native_only

PKG_CONFIG_PATH=$libdir/pkgconfig
PKG_CONFIG_SYSROOT_DIR=$dest
PKG_CONFIG_LIBDIR=$libdir/pkgconfig
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

# 4
pc_flags() {
	[ "$(pkg-config --modversion libkipc)" = "$version" ] || return 1
	flags=$(pkg-config --cflags --libs libkipc) || return 1
	echo "$flags"
	# shellcheck disable=SC2086 # normalise the spacing
	set -- $flags
	[ "$*" = "-I$dest$prefix/include -L$libdir -lkipc" ] || return 1
	[ "$(pkg-config --modversion libkipc-compat)" = "$version" ] || return 1
	# shellcheck disable=SC2046 # normalise the spacing
	set -- $(pkg-config --libs libkipc-compat)
	[ "$*" = "-L$libdir -lkipc-compat" ]
}
check "pkg-config: libkipc and libkipc-compat, version $version, -I, -L, -l into the DESTDIR" pc_flags

have_kipc=0
[ -c /dev/kipc ] && have_kipc=1

# 5: the native API, dynamically linked.
build_shared() {
	# shellcheck disable=SC2046 # pkg-config's words
	cc -std=c11 -Wall -Wextra -Werror -o "$work/prodcons" \
		"$top/examples/prodcons.c" $(pkg-config --cflags --libs libkipc) || return 1
	readelf -d "$work/prodcons" | grep -q 'NEEDED.*\[libkipc\.so\.3\]'
}
check "an example builds with pkg-config's flags and needs libkipc.so.3" build_shared

# 6: ... statically, from libkipc.a and Libs.private.
build_static() {
	# shellcheck disable=SC2046 # pkg-config's words
	cc -std=c11 -Wall -Wextra -Werror -o "$work/shmring" \
		"$top/examples/shmring.c" $(pkg-config --cflags libkipc) \
		-L"$libdir" -Wl,-Bstatic -lkipc -Wl,-Bdynamic \
		$(pkg-config --static --libs-only-l libkipc | sed 's/-lkipc//') || return 1
	! readelf -d "$work/shmring" | grep -q 'NEEDED.*libkipc'
}
check "an example links libkipc.a with pkg-config --static" build_static

# 7, 8: run them.
if [ $have_kipc = 1 ]; then
	check "the shared example runs against the module" \
		env LD_LIBRARY_PATH="$libdir" "$work/prodcons" 200
	check "the static example runs against the module" "$work/shmring" 200
else
	skip "the shared example runs against the module (no /dev/kipc)"
	skip "the static example runs against the module (no /dev/kipc)"
fi

# 9, 10: a program that knows nothing of kipc, linked with libkipc-compat's
# flags, and unmodified under the installed preload library: its mq_open()
# must return a kipc queue fd.
cat >"$work/mq.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kipc.h>

int main(void)
{
	struct kipc_stat st;
	mqd_t q = mq_open("/install-test", O_CREAT | O_EXCL | O_RDWR, 0600, NULL);

	if (q == (mqd_t)-1) {
		perror("mq_open");
		return 1;
	}
	memset(&st, 0, sizeof(st));
	if (ioctl(q, KIPC_IOC_STAT, &st) || st.type != KIPC_TYPE_QUEUE ||
	    strcmp(st.name, "install-test")) {
		fprintf(stderr, "not a kipc queue (type %u, name '%s')\n",
			st.type, st.name);
		mq_unlink("/install-test");
		return 1;
	}
	return mq_unlink("/install-test") || mq_send(q, "x", 1, 0);
}
EOF
preloaded() {
	# shellcheck disable=SC2046 # pkg-config's words
	cc -std=c11 -Wall -Werror -o "$work/mq" "$work/mq.c" \
		$(pkg-config --cflags libkipc) -lrt || return 1
	env LD_PRELOAD="$libdir/libkipc-preload.so" "$work/mq"
}
linked() {
	# ld finds libkipc-compat's own NEEDED libkipc.so.3 in the system's
	# directories, not under -L: the DESTDIR needs -rpath-link.
	# shellcheck disable=SC2046 # pkg-config's words
	cc -std=c11 -Wall -Werror -o "$work/mq-compat" "$work/mq.c" \
		$(pkg-config --cflags libkipc) $(pkg-config --libs libkipc-compat) -lrt \
		-Wl,-rpath-link,"$libdir" || return 1
	readelf -d "$work/mq-compat" | grep -q 'NEEDED.*\[libkipc-compat\.so\.1\]' &&
		env LD_LIBRARY_PATH="$libdir" "$work/mq-compat"
}
if [ $have_kipc = 1 ]; then
	check "-lkipc-compat (pkg-config libkipc-compat) routes mq_open() to kipc" linked
	check "LD_PRELOAD=libkipc-preload.so routes an unmodified mq_open() to kipc" preloaded
else
	skip "-lkipc-compat routes mq_open() to kipc (no /dev/kipc)"
	skip "LD_PRELOAD routes mq_open() to kipc (no /dev/kipc)"
fi

# 11
tools_run() {
	"$bindir/kipc-bench" --list >/dev/null || return 1
	[ $have_kipc = 0 ] || "$bindir/kipcs" stats
}
check "the installed kipcs and kipc-bench run" tools_run

# 12: every function libkipc exports has a page (or an alias page).
man_pages() {
	funcs=$(sed -n 's/^[[:space:]]*\(kipc_[a-z0-9_]*\);/\1/p' "$top/lib/libkipc.map")
	[ -n "$funcs" ] || return 1
	for f in $funcs; do
		[ -f "$mandir/man3/$f.3" ] || { echo "no page: $f"; return 1; }
	done
	# man finds an alias page and shows its target.
	[ "$(man -M "$mandir" -w kipc_sem_post)" = "$mandir/man3/kipc_sem.3" ] &&
		MANWIDTH=80 man -M "$mandir" kipc_sem_post 2>/dev/null | grep -q kipc_sem_wait
}
if command -v man >/dev/null 2>&1; then
	check "every exported kipc_* function has a page under MANDIR, man finds it" man_pages
else
	skip "man finds every exported function (man-db not installed)"
fi

# 13: modules_install, depmod and modprobe from a scratch INSTALL_MOD_PATH.
modprobed() {
	mods=$work/mods
	make -s -C "$top" modules_install INSTALL_MOD_PATH="$mods" KVER="$kver" \
		KDIR="$kdir" || return 1
	grep -q 'kipc\.ko' "$mods/lib/modules/$kver/modules.dep" || return 1
	if grep -q '^kipc ' /proc/modules; then
		rmmod kipc || return 1
	fi
	modprobe -d "$mods" kipc || return 1
	[ -c /dev/kipc ] || return 1
	# The module modprobe loaded is the one this tree built.
	[ "$(cat /sys/module/kipc/srcversion)" = "$(modinfo -F srcversion "$top/kmod/kipc.ko")" ] || return 1
	# And it carries the package's version, the one dkms.conf registers.
	[ "$(cat /sys/module/kipc/version)" = "$version" ] || return 1
	modprobe -r -d "$mods" kipc && ! grep -q '^kipc ' /proc/modules
}
# The running kernel's build tree: a debug kernel's is not under /lib/modules
# (make check-debug passes it as KIPC_KDIR).
kdir=${KIPC_KDIR:-/lib/modules/$kver/build}
if [ ! -d "$kdir" ]; then
	skip "make modules_install and modprobe (no build tree for $kver: KIPC_KDIR)"
elif [ -e /proc/modules ] && [ -n "$KIPC_MODULE" ] &&
	[ -f "$top/kmod/kipc.ko" ]; then
	loaded=0
	grep -q '^kipc ' /proc/modules && loaded=1
	check "make modules_install INSTALL_MOD_PATH=, then modprobe kipc from there" modprobed
	# Leave the module as we found it, for the tests that follow.
	if [ $loaded = 1 ] && ! grep -q '^kipc ' /proc/modules; then
		insmod "$KIPC_MODULE"
	fi
else
	skip "make modules_install and modprobe (needs /proc/modules, KIPC_MODULE)"
fi

# 14
check "the udev rule gives /dev/kipc mode 0666" \
	grep -q '^KERNEL=="kipc", SUBSYSTEM=="misc", MODE="0666"' "$dest/lib/udev/rules.d/60-kipc.rules"

# 15
uninstalled() {
	make -s -C "$top" uninstall DESTDIR="$dest" PREFIX="$prefix" KVER="$kver" || return 1
	left=$(find "$dest" ! -type d)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}
check "make uninstall removes everything it installed" uninstalled

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]
