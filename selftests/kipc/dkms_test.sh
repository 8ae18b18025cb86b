#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# DKMS, as a distribution would use it: the module's sources (make
# dkms-source) go into a source tree, dkms add, build and install them for
# the running kernel, modprobe loads the result, and dkms remove takes it
# all away.  DKMS keeps its trees in /usr/src, /var/lib/dkms and
# /lib/modules, which the test VM has read-only: every tree is a temp dir
# (--sourcetree, --dkmstree, --installtree) and modprobe looks there (-d).
# Needs root, dkms and the running kernel's headers; loads its own kipc.ko,
# so the module must not be loaded by anyone else (make check-dkms boots
# the VM without it), and reloads KIPC_MODULE afterwards if it was.
cd "$(dirname "$0")" || exit 1
# Root-only: the tree where it was built (run_all.sh may run us from a
# bind mount of it, where Kbuild would not find its modules.order paths).
top=${KIPC_TREE:-$(cd ../.. && pwd)}
pass=0
fail=0
n=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
check() {
	desc=$1
	shift
	t0=$(date +%s)
	if "$@" >"$out" 2>&1; then ok "$desc"; else sed 's/^/# /' "$out"; not_ok "$desc"; fi
	echo "# $(($(date +%s) - t0)) s"
}

kver=$(uname -r)
# Headers fetched into kipc's cache are not under /lib/modules (make
# check-dkms passes their path).
kdir=${KIPC_KDIR:-/lib/modules/$kver/build}
echo "TAP version 13"
if [ "$(id -u)" != 0 ] || ! command -v dkms >/dev/null 2>&1 ||
	[ ! -e /proc/modules ] || [ ! -d "$kdir" ] ||
	[ ! -f "$top/dkms.conf" ]; then
	echo "1..0 # SKIP needs root, dkms (scripts/deps.sh dkms), /proc/modules and headers for $kver"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
echo "1..6"

work=$(mktemp -d)
out=$work/out
trap 'rm -rf "$work"' EXIT
version=$(cat "$top/VERSION")
root=$work/root			# what modprobe -d sees as /
mkdir -p "$work/src" "$work/dkms" "$root/lib/modules/$kver"
dkms() {
	command dkms --sourcetree "$work/src" --dkmstree "$work/dkms" \
		--installtree "$root/lib/modules" "$@"
}

was_loaded=0
if grep -q '^kipc ' /proc/modules; then
	was_loaded=1
	rmmod kipc || echo "# kipc is loaded and busy: the load below will fail"
fi

# 1
added() {
	make -s -C "$top" dkms-source DKMS_SRCDIR="$work/src/kipc-$version" &&
		dkms add "kipc/$version" -k "$kver" &&
		dkms status kipc | grep -q "kipc/$version: added"
}
check "dkms add kipc/$version (dkms.conf, version from VERSION)" added

# 2
built() {
	dkms build "kipc/$version" -k "$kver" --kernelsourcedir "$kdir" || { cat "$work/dkms/kipc/$version/build/make.log"; return 1; }
	ko=$(find "$work/dkms/kipc/$version/$kver" -name 'kipc.ko*' | head -n 1)
	[ -n "$ko" ] && [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$kver" ]
}
check "dkms build compiles kipc.ko for $kver" built

# 3
installed() {
	dkms install --no-depmod "kipc/$version" -k "$kver" --kernelsourcedir "$kdir" || return 1
	depmod -b "$root" "$kver" 2>/dev/null
	dkms status kipc | grep -q "kipc/$version, $kver, .*: installed" &&
		grep -q 'updates/dkms/kipc\.ko' "$root/lib/modules/$kver/modules.dep"
}
check "dkms install puts it under updates/dkms, depmod indexes it" installed

# 4
loaded() {
	modprobe -d "$root" kipc && [ -c /dev/kipc ] &&
		[ "$(cat /sys/module/kipc/version)" = "$(modinfo -F version "$top/kmod/kipc.ko")" ]
}
check "modprobe kipc loads the DKMS build and /dev/kipc appears" loaded

# 5: the DKMS build works (needs a built tree for the example).
if [ -x "$top/examples/prodcons" ]; then
	check "the DKMS-built module passes libkipc's prodcons example" \
		"$top/examples/prodcons" 500
else
	echo "ok $((n += 1)) # SKIP examples/prodcons is not built"
fi

# 6
removed() {
	modprobe -r -d "$root" kipc && ! grep -q '^kipc ' /proc/modules || return 1
	dkms remove --no-depmod "kipc/$version" --all || return 1
	[ -z "$(find "$root/lib/modules" -name 'kipc.ko*')" ] &&
		[ -z "$(dkms status kipc)" ]
}
check "modprobe -r and dkms remove leave no module behind" removed

if [ $was_loaded = 1 ] && [ -n "$KIPC_MODULE" ] && ! grep -q '^kipc ' /proc/modules; then
	insmod "$KIPC_MODULE"
fi
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$((6 - pass - fail)) error:0"
[ "$fail" = 0 ]
