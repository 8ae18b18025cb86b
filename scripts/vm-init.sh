#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vm-init.sh - /init of the kipc test VM (scripts/vm.sh puts it in the
# initramfs).  Runs under busybox ash.
#
# It mounts the host's root file system read-only over 9p and chroots into
# it (or into a root below it: vm.sh --root), loads the modules, runs the
# job vm.sh wrote, unloads the modules and reports through the writable
# share: .vm-status (the job's exit status), .vm-stages (how far it got),
# .vm-error, dmesg.txt, kmemleak.txt.  Settings come from .vm-config there.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node (creating one needs root on the
# build host), so attach stdio to the console ourselves.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# udev normally creates these; bash process substitution needs /dev/fd.
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr

# Without a status file the host reports a crash; that is all we can do.
fail() { echo "vm-init: $*"; poweroff -f; }

while read -r ko; do
	insmod "/lib/modules/$ko" || fail "insmod $ko failed"
done </etc/modules.order

# msize: bigger 9p messages = fewer round trips (512000 is the virtio max).
# The host root is read-only for us, so aggressive caching is safe enough.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose hostroot /host ||
	fail "cannot mount host root over 9p"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 kipcout /kipc-out ||
	fail "cannot mount output dir over 9p"
. /kipc-out/.vm-config || fail "cannot read .vm-config"
stage() { echo "$1" >>/kipc-out/.vm-stages; }

# The chroot is a bind of the pristine 9p mount (or of a root below it), so
# that paths hidden by the tmpfs mounts below stay reachable via /host.
R=/newroot
mount -o bind "/host$KIPC_ROOT" $R || fail "no root $KIPC_ROOT on the host"
# In another root, the host paths the job needs (its directory, the
# modules, the kernel's headers) appear where they are on the host; vm.sh
# made the mount points.
for p in $KIPC_BINDS; do
	mount -o bind "/host$p" "$R$p" || fail "cannot bind $p into $KIPC_ROOT"
done
mount -o bind /proc $R/proc
mount -o rbind /sys $R/sys
mount -o bind /dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts

err() { echo "$*" >>/kipc-out/.vm-error; echo "vm-init: $*"; }
# Use the root's kmod tools by absolute path: a bare name would be run as
# the busybox applet even under chroot (busybox prefers its own applets).
host_tool() {
	for d in /usr/sbin /sbin /usr/bin /bin; do
		# -L too: absolute symlinks (insmod -> /bin/kmod) dangle from here.
		if [ -e "$R$d/$1" ] || [ -L "$R$d/$1" ]; then echo "$d/$1"; return; fi
	done
	echo "$1"
}
INSMOD=$(host_tool insmod) MODPROBE=$(host_tool modprobe) RMMOD=$(host_tool rmmod)
loaded=
load_module() { # name path [in-tree deps...]
	name=$1 path=$2
	shift 2
	for dep in "$@"; do chroot $R "$MODPROBE" -q "$dep"; done
	if chroot $R "$INSMOD" "$path"; then
		loaded="$name $loaded"
	else
		err "insmod $path failed"
		return 1
	fi
}

# Leaks from before the modules came are not theirs: report and forget them.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ]; then
	echo scan >$KMEMLEAK
	echo clear >$KMEMLEAK
fi
echo "$KIPC_KLOG_MARK" >/dev/kmsg
stage booted
status=0
# Load before the tmpfs mounts, so modules under the host /tmp are visible.
if kipc_modules; then
	[ -z "$loaded" ] || stage loaded
else
	status=$KIPC_EXIT_KERNEL
fi
# From here a WARN is a failed run, stopped at the line that caused it (the
# console shows it): boot-time warnings about the host CPU don't count.
[ "$KIPC_PANIC_ON_WARN" != 1 ] || echo 1 >/proc/sys/kernel/panic_on_warn

mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/tmp
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs $R/run
mkdir -p -m 1777 $R/run/lock
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/dev/shm
mount -t mqueue none $R/dev/mqueue
# If the working dir is under a path we just hid, show the host one there.
case $KIPC_CWD in
/tmp/* | /run/* | /dev/shm/*)
	mkdir -p "$R$KIPC_CWD" && mount -o bind "/host$KIPC_CWD" "$R$KIPC_CWD" ;;
esac
mkdir -p "$R$KIPC_OUT" 2>/dev/null
mount -o bind /kipc-out "$R$KIPC_OUT" || fail "cannot mount $KIPC_OUT in the chroot"

hostname kipc-vm
ip link set lo up 2>/dev/null

read -r t_start _ </proc/uptime
if [ "$status" = 0 ]; then
	if [ "$KIPC_SHELL" = 1 ]; then
		stty $KIPC_STTY 2>/dev/null
		# cttyhack gives the shell a controlling tty (job control, ^C).
		setsid cttyhack chroot $R /bin/bash "$KIPC_OUT/.vm-run.sh"
		status=$?
	else
		# Raw newlines: the host wants a log, not a terminal stream.
		stty -onlcr 2>/dev/null
		chroot $R /bin/bash "$KIPC_OUT/.vm-run.sh" </dev/null
		status=$?
	fi
	stage ran
fi
read -r t_end _ </proc/uptime

# Leftover processes could pin the modules; unloading is part of the test
# (module_exit bugs, refcount leaks), so clear the way first.
kill -KILL -1 2>/dev/null
sleep 0.1
if [ "$KIPC_UNLOAD" = 1 ] && [ -n "$loaded" ]; then
	unloaded=1
	for name in $loaded; do
		# The test may have unloaded (or reloaded) it itself.
		[ -e "/sys/module/$name" ] || continue
		# Where it was, to read kmemleak backtraces into it once it is gone.
		echo "$name .text $(cat /sys/module/$name/sections/.text 2>/dev/null)" >>/kipc-out/modules.txt
		chroot $R "$RMMOD" "$name" || { err "rmmod $name failed (still in use, or no module_exit?)"; unloaded=0; }
	done
	[ "$unloaded" = 0 ] || stage unloaded
fi
# With kmemleak: what the modules left unreferenced.  Objects younger than
# 5 s are not reported, and a second scan catches what the first still saw
# referenced from a stale pointer (as kmemleak.rst advises).
if [ -w $KMEMLEAK ]; then
	sleep 6
	echo scan >$KMEMLEAK
	echo scan >$KMEMLEAK
	cat $KMEMLEAK >/kipc-out/kmemleak.txt
fi

dmesg >/kipc-out/dmesg.txt
echo "$t_start $t_end" >/kipc-out/.vm-times
echo "$status" >/kipc-out/.vm-status
sync
poweroff -f
