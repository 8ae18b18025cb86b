#!/usr/bin/env bash
# vm.sh - run a command with kipc kernel module(s) loaded, inside a throwaway VM.
#
# The host kernel usually cannot load modules (containers, CI), so we boot an
# installed Debian kernel under QEMU with a tiny busybox initramfs whose /init
# mounts the *host's* root filesystem read-only over virtio-9p and chroots into
# it.  The guest therefore sees exactly the host's tools, libraries, build tree
# and test binaries, with no disk image to build or keep in sync.  A second,
# writable 9p share (--out) carries results, the guest's dmesg and the exit
# status back to the host.
#
# When the host itself can load modules (root + /proc/modules, running kernel
# == KVER) or KIPC_NATIVE=1, the command runs directly on the host instead,
# with the same module handling and kernel-log checks.
set -euo pipefail

# The whole script is one compound command, so bash parses all of it before
# running any: editing vm.sh while a (long) test run uses it cannot break
# that run.
{

usage() {
	cat <<'EOF'
Usage: scripts/vm.sh [options] -- CMD [ARGS...]
       scripts/vm.sh [options] --shell

Boot /boot/vmlinuz-$KVER in QEMU, insmod the given modules and run CMD as root
in a chroot of the host's (read-only) root filesystem, in the current directory.

Options:
  --kver KVER     kernel to boot (default: scripts/kernel.sh default)
  --kernel IMAGE  boot this bzImage instead (e.g. a kernel tree's
                  arch/x86/boot/bzImage); KVER defaults to its version.  With
                  no /lib/modules/KVER, virtio and 9p must be built in.
  --module KO     insmod this .ko before CMD (repeatable, loaded in order,
                  unloaded in reverse order afterwards)
  --no-unload     leave the modules loaded (skip the rmmod check after CMD)
  --root DIR      the guest's user space is the root file system in DIR (a
                  Debian root, e.g. scripts/buildroot.sh's) instead of the
                  host's /; the current directory, --out and --bind paths
                  appear at their host paths in it
  --bind PATH     a host path to show at the same path under --root
  --out DIR       writable host dir, mounted at the same path in the guest
                  (default: fresh temp dir, removed afterwards)
  --mem MB        guest memory (default 1024)
  --smp N         guest CPUs (default 2)
  --timeout SEC   kill the guest after SEC seconds (default 1200, 0 = none)
  --shell         interactive shell in the guest instead of CMD (Ctrl-A X quits
                  QEMU if the guest hangs)
  -v, --verbose   print boot/command timings
  -h, --help      this help

Environment:
  KIPC_*          passed through to CMD (plus KIPC_IN_VM=1 in the VM)
  KIPC_NATIVE=1   run on the host instead of a VM (=0 forces the VM)
  KIPC_VM_ACCEL   kvm or tcg (default: kvm if /dev/kvm is usable)
  KIPC_VM_PATH    PATH for CMD in the guest
  KIPC_VM_KEEP=1  keep the default temp --out dir (path is printed)
  KIPC_VM_QEMU_ARGS  extra QEMU arguments (whitespace-separated), e.g. -s
  KIPC_VM_VERBOSE=1  same as --verbose

Exit status: CMD's status; 124 if the guest timed out; 125 if the kernel log
shows a problem (BUG/WARNING/Oops/...) while CMD succeeded, if a module failed
to load/unload, or if the guest died without reporting a status; 2 on usage
errors.  The guest's kernel log is saved as DIR/dmesg.txt.  On a kernel with
kmemleak, the guest scans for leaks after unloading the modules (the report,
DIR/kmemleak.txt, must be empty) and the result is 125 if it finds any.
EOF
}

SELF=$(realpath -- "${BASH_SOURCE[0]}")
SCRIPT_DIR=${SELF%/*}

# Exit codes shared with callers (Makefile, CI); see usage().
readonly EXIT_TIMEOUT=124 EXIT_KERNEL=125 EXIT_USAGE=2

# Kernel log lines that mean "the kernel is unhappy", even if CMD passed.
readonly KLOG_BAD='BUG:|WARNING:|Oops|general protection fault|Call Trace|KASAN|UBSAN|kmemleak:|INFO: task .* blocked|refcount_t:|list_add corruption|list_del corruption|possible circular|sleeping function called|INFO: possible|INFO: trying to register non-static key|inconsistent lock state|Disabling lock debugging|soft lockup|detected stall'
# Written to the kernel log right before the modules are loaded; only lines
# after it are checked, so boot-time noise (e.g. CPU-bug mitigation warnings
# about the host CPU) is not blamed on our modules.
readonly KLOG_MARK='kipc-vm: loading modules'
klog_mark=$KLOG_MARK

readonly SANE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
	echo "vm: $*" >&2
	exit "$EXIT_USAGE"
}

# ---------------------------------------------------------------- arguments

kver=
kernel=
modules=()
out=
guest_root=
guest_binds=()
mem=1024
smp=2
timeout=1200
shell=0
unload=1
verbose=${KIPC_VM_VERBOSE:-0}

need_arg() { [[ $# -ge 2 ]] || die "option $1 needs an argument (see --help)"; }

while [[ $# -gt 0 ]]; do
	case $1 in
	--kver) need_arg "$@"; kver=$2; shift 2 ;;
	--kver=*) kver=${1#*=}; shift ;;
	--kernel) need_arg "$@"; kernel=$2; shift 2 ;;
	--kernel=*) kernel=${1#*=}; shift ;;
	--module) need_arg "$@"; modules+=("$2"); shift 2 ;;
	--module=*) modules+=("${1#*=}"); shift ;;
	--root) need_arg "$@"; guest_root=$2; shift 2 ;;
	--bind) need_arg "$@"; guest_binds+=("$2"); shift 2 ;;
	--out) need_arg "$@"; out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--mem) need_arg "$@"; mem=$2; shift 2 ;;
	--mem=*) mem=${1#*=}; shift ;;
	--smp) need_arg "$@"; smp=$2; shift 2 ;;
	--smp=*) smp=${1#*=}; shift ;;
	--timeout) need_arg "$@"; timeout=$2; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--shell) shell=1; shift ;;
	--no-unload) unload=0; shift ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option: $1 (see --help)" ;;
	*) break ;; # first non-option starts CMD
	esac
done
cmd=("$@")

[[ $mem =~ ^[1-9][0-9]*$ ]] || die "--mem must be a number of MB: $mem"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp must be a positive number: $smp"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds: $timeout"
if [[ $shell -eq 1 ]]; then
	[[ ${#cmd[@]} -eq 0 ]] || die "--shell takes no command"
else
	[[ ${#cmd[@]} -gt 0 ]] || die "no command given (usage: vm.sh [options] -- CMD [ARGS...])"
fi

# Modules are handed to the guest as absolute host paths.
mod_paths=()
mod_names=()
for m in ${modules[@]+"${modules[@]}"}; do
	[[ -f $m ]] || die "module not found: $m"
	p=$(realpath -- "$m")
	mod_paths+=("$p")
	# The name rmmod needs can differ from the file name (e.g. '-' vs '_').
	n=$(modinfo -F name "$p" 2>/dev/null || true)
	if [[ -z $n ]]; then
		n=${p##*/}
		n=${n%%.ko*}
		n=${n//-/_}
	fi
	mod_names+=("$n")
done

# The version a bzImage announces in its setup header (as file(1) reads it).
image_version() {
	local off ver=
	[[ $(head -c 518 -- "$1" | tail -c 4) == HdrS ]] || return 1
	off=$(od -An -tu2 -j 526 -N 2 -- "$1" | tr -d ' ')
	[[ -n $off && $off -gt 0 ]] || return 1
	# "6.1.0-1-amd64 (builder@host) #1 SMP ...", NUL-terminated.
	IFS=' ' read -r -d '' ver _ < <(head -c "$((off + 512 + 256))" -- "$1" | tail -c 256) || true
	[[ -n $ver ]] && echo "$ver"
}

if [[ -n $kernel ]]; then
	[[ -r $kernel ]] || die "kernel image not found: $kernel"
	kernel=$(realpath -- "$kernel")
	[[ -n $kver ]] || kver=$(image_version "$kernel") ||
		die "cannot tell the version of $kernel (not a bzImage?): use --kver"
fi
[[ -n $kver ]] || kver=$("$SCRIPT_DIR/kernel.sh" default)

# ---------------------------------------------------------------- cleanup

cleanup_paths=()
# shellcheck disable=SC2317 # invoked via trap
cleanup() {
	local p
	for p in ${cleanup_paths[@]+"${cleanup_paths[@]}"}; do
		rm -rf -- "$p"
	done
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM

out_is_temp=0
if [[ -n $out ]]; then
	mkdir -p -- "$out"
	out=$(realpath -- "$out")
else
	out=$(mktemp -d "${TMPDIR:-/tmp}/kipc-vm.XXXXXX")
	if [[ ${KIPC_VM_KEEP:-0} == 1 ]]; then
		echo "vm: output dir: $out" >&2
	else
		out_is_temp=1
		cleanup_paths+=("$out")
	fi
fi
# Never mistake results of a previous run for this one's.
rm -f -- "$out/.vm-status" "$out/.vm-error" "$out/.vm-times" "$out/.vm-stages" "$out/dmesg.txt" \
	"$out/kmemleak.txt" "$out/modules.txt"

cwd=$(pwd -P)

# Another root: the job's directory and the modules must be in it too.  The
# mount points are made on the host side (the root is a directory of ours).
if [[ -n $guest_root ]]; then
	[[ -x $guest_root/bin/sh ]] || die "--root $guest_root is not a root file system"
	guest_root=$(realpath -- "$guest_root")
	[[ $guest_root != / ]] || guest_root=
fi
if [[ -n $guest_root ]]; then
	guest_binds+=("$cwd")
	mkdir -p -- "$guest_root$out"
	for p in ${mod_paths[@]+"${mod_paths[@]}"}; do guest_binds+=("${p%/*}"); done
	bl=()
	for p in "${guest_binds[@]}"; do
		p=$(realpath -- "$p")
		[[ -d $p ]] || die "--bind $p: not a directory"
		mkdir -p -- "$guest_root$p"
		bl+=("$p")
	done
	# Shortest first, so that a path inside another is bound after it.
	mapfile -t guest_binds < <(printf '%s\n' "${bl[@]}" | awk '{ print length, $0 }' | sort -n -u | cut -d' ' -f2-)
fi

# KIPC_* settings the caller wants the test to see (as NAME=value words).
kipc_env=()
while IFS= read -r var; do
	[[ $var == KIPC_IN_VM ]] || kipc_env+=("$var=${!var}")
done < <(compgen -e | grep '^KIPC_' || true)

# ---------------------------------------------------------------- results

# The part of the saved kernel log written after $klog_mark.
klog_since_mark() {
	awk -v m="$klog_mark" 'index($0, m) { p = 1 } p' "$out/dmesg.txt"
}

# Decide the final exit status from the files the guest (or native run) left
# in $out.  Prints kernel-log problems; returns the exit code to use.
check_results() {
	local status bad errs=0 rc

	if [[ ! -s $out/.vm-status ]]; then
		echo "vm: no exit status from the guest: it crashed, panicked or" \
			"failed to boot (see console output above)" >&2
		return "$EXIT_KERNEL"
	fi
	status=$(<"$out/.vm-status")
	[[ $status =~ ^[0-9]+$ ]] || status=$EXIT_KERNEL

	if [[ -s $out/.vm-error ]]; then
		sed 's/^/vm: /' "$out/.vm-error" >&2
		errs=1
	fi

	bad=
	if [[ -f $out/dmesg.txt ]]; then
		bad=$(klog_since_mark | grep -E -- "$KLOG_BAD" || true)
	else
		echo "vm: warning: guest did not save its kernel log" >&2
	fi
	if [[ -n $bad ]]; then
		# shellcheck disable=SC2001 # prefix every line; sed is clearest
		sed 's/^/vm: kernel log: /' <<<"$bad" >&2
		if [[ $out_is_temp -eq 1 ]]; then
			# The file goes away with the temp dir; show the context
			# (stack traces etc.) now, e.g. for CI logs.
			echo "vm: kernel log since module load:" >&2
			klog_since_mark | sed 's/^/vm: dmesg: /' >&2
		else
			echo "vm: full kernel log: $out/dmesg.txt" >&2
		fi
		errs=1
	fi
	if [[ -s $out/kmemleak.txt ]]; then
		echo "vm: kmemleak found unreferenced objects after the modules were unloaded:" >&2
		sed 's/^/vm: kmemleak: /' "$out/kmemleak.txt" >&2
		# Frees in a module that is gone print as bare addresses.
		[[ ! -s $out/modules.txt ]] || sed 's/^/vm: module at: /' "$out/modules.txt" >&2
		errs=1
	fi

	rc=$status
	if [[ $errs -eq 1 && $status -eq 0 ]]; then
		rc=$EXIT_KERNEL
	fi
	if [[ $verbose == 1 && -s $out/.vm-times ]]; then
		local t_boot t_end
		read -r t_boot t_end <"$out/.vm-times"
		echo "vm: boot-to-command ${t_boot}s, command finished at ${t_end}s (guest uptime)" >&2
	fi
	return "$rc"
}

# ---------------------------------------------------------------- native mode

run_native() {
	local sudo=() i rc status
	[[ $(id -u) -eq 0 ]] || sudo=(sudo)
	[[ -e /proc/modules ]] || die "KIPC_NATIVE=1 but this kernel cannot load modules"
	[[ $kver == "$(uname -r)" ]] || die "native mode needs KVER == running kernel ($(uname -r)), got $kver"

	: >"$out/.vm-error"
	# A stale instance from an earlier (crashed) run would make insmod fail.
	for ((i = ${#mod_names[@]} - 1; i >= 0; i--)); do
		if [[ -e /sys/module/${mod_names[i]} ]]; then
			"${sudo[@]}" rmmod "${mod_names[i]}" ||
				echo "rmmod ${mod_names[i]} (previous instance) failed" >>"$out/.vm-error"
		fi
	done
	# Mark the log instead of clearing it (dmesg -C): the host's log is not
	# ours to wipe, and an outer vm.sh (nested runs) must still see problems.
	klog_mark="$KLOG_MARK ($$.$RANDOM)"
	echo "$klog_mark" | "${sudo[@]}" tee /dev/kmsg >/dev/null

	status=0
	if [[ -s $out/.vm-error ]]; then
		status=$EXIT_KERNEL
	fi
	for i in "${!mod_paths[@]}"; do
		[[ $status -eq 0 ]] || break
		load_deps_native "${mod_paths[i]}"
		if ! "${sudo[@]}" insmod "${mod_paths[i]}"; then
			echo "insmod ${mod_paths[i]} failed" >>"$out/.vm-error"
			status=$EXIT_KERNEL
		fi
	done

	if [[ $status -eq 0 ]]; then
		local to=()
		[[ $timeout -eq 0 ]] || to=(timeout --foreground -k 10 "$timeout")
		rc=0
		if [[ $shell -eq 1 ]]; then
			"${sudo[@]}" "${SHELL:-/bin/bash}" || rc=$?
		else
			# env: sudo would drop the KIPC_* settings otherwise.
			${to[@]+"${to[@]}"} "${sudo[@]}" env ${kipc_env[@]+"${kipc_env[@]}"} \
				KIPC_NATIVE=1 "${cmd[@]}" </dev/null || rc=$?
			if [[ ${#to[@]} -gt 0 && $rc -eq $EXIT_TIMEOUT ]]; then
				echo "command timed out after ${timeout}s" >>"$out/.vm-error"
			fi
		fi
		status=$rc
	fi

	if [[ $unload -eq 1 ]]; then
		for ((i = ${#mod_names[@]} - 1; i >= 0; i--)); do
			[[ -e /sys/module/${mod_names[i]} ]] || continue
			"${sudo[@]}" rmmod "${mod_names[i]}" ||
				echo "rmmod ${mod_names[i]} failed (still in use, or no module_exit?)" >>"$out/.vm-error"
		done
	fi
	"${sudo[@]}" dmesg | awk -v m="$klog_mark" 'index($0, m) { p = 1 } p' >"$out/dmesg.txt"
	echo "$status" >"$out/.vm-status"
	check_results
}

# Load in-tree modules our .ko depends on (insmod does not resolve them).
# Called from run_native, whose $sudo it uses.
load_deps_native() {
	local dep deps
	deps=$(modinfo -F depends "$1" 2>/dev/null || true)
	for dep in ${deps//,/ }; do
		is_our_module "$dep" || "${sudo[@]}" modprobe -q "$dep" || true
	done
}

is_our_module() {
	local n
	for n in ${mod_names[@]+"${mod_names[@]}"}; do
		[[ $n == "${1//-/_}" ]] && return 0
	done
	return 1
}

native=0
case ${KIPC_NATIVE:-} in
1) native=1 ;;
0) native=0 ;;
*)
	if [[ $(id -u) -eq 0 && -e /proc/modules && $kver == "$(uname -r)" ]]; then
		native=1
	fi
	;;
esac

if [[ $native -eq 1 ]]; then
	rc=0
	run_native || rc=$?
	exit "$rc"
fi

# ---------------------------------------------------------------- initramfs

if [[ -n $kernel ]]; then
	vmlinuz=$kernel
	moddir=/lib/modules/$kver
	kconfig=
else
	# Installed, or fetched into the cache (scripts/kernel.sh).
	kinfo=$("$SCRIPT_DIR/kernel.sh" info "$kver") ||
		die "kernel $kver is not here: scripts/kernel.sh fetch $kver (make check KVER=$kver does)"
	eval "$kinfo"
	# shellcheck disable=SC2154 # assigned by the eval
	vmlinuz=$image kconfig=$config
fi
[[ -r $vmlinuz ]] || die "no readable kernel image $vmlinuz"
# A kernel given by --kernel may have no modules at all: then everything the
# initramfs needs must be built in, which the guest finds out soon enough.
moddeps=$moddir/modules.dep
if [[ ! -f $moddeps ]]; then
	[[ -n $kernel ]] || die "no $moddeps (kernel $kver not installed?)"
	[[ $verbose != 1 ]] || echo "vm: no $moddeps: assuming virtio and 9p are built into $kernel" >&2
	moddeps=
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (try: scripts/deps.sh)"

# The initramfs only needs to get the 9p root mounted; everything else comes
# from the host.  These are the modules that may be needed for that, listed
# by name; modules.dep supplies the load order, built-in ones are skipped and
# ones that do not exist in a given kernel (fscache was merged into netfs in
# 6.x) are ignored.
readonly INITRAMFS_MODULES='virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p'

# The guest's /init: its own file, covered by the initramfs cache key.
INIT_SCRIPT=$SCRIPT_DIR/vm-init.sh

# Print "relpath" lines for the initramfs modules, dependencies first.
resolve_initramfs_modules() {
	local line path base name want
	local -A dep_of=() by_name=() seen=()
	local -a order=()
	while IFS= read -r line; do
		path=${line%%:*}
		dep_of[$path]=${line#*:}
		base=${path##*/}
		base=${base%%.ko*}
		by_name[${base//-/_}]=$path
	done <"$moddeps"

	add() {
		local p=$1 i
		local -a deps
		[[ -z ${seen[$p]:-} ]] || return 0
		seen[$p]=1
		read -ra deps <<<"${dep_of[$p]-}"
		# modules.dep lists the deepest dependency last; load it first.
		for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
			add "${deps[i]}"
		done
		order+=("$p")
	}
	for want in $INITRAMFS_MODULES; do
		if [[ -n ${by_name[$want]:-} ]]; then
			add "${by_name[$want]}"
		fi
	done
	for name in 9p 9pnet_virtio; do
		if [[ -z ${by_name[$name]:-} ]] &&
			! grep -qE "/${name}\.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
			echo "vm: kernel $kver has no $name support (needed for the 9p root)" >&2
			return 1
		fi
	done
	printf '%s\n' ${order[@]+"${order[@]}"}
}

build_initramfs() {
	local dest=$1 tmp busybox applet rel ko
	busybox=$(command -v busybox || true)
	[[ -n $busybox ]] || die "busybox not found (try: scripts/deps.sh)"
	# A dynamic busybox would need the host libc in the initramfs.
	if ldd "$busybox" >/dev/null 2>&1; then
		die "$busybox is dynamically linked; install busybox-static (scripts/deps.sh)"
	fi

	echo "vm: building initramfs for $kver" >&2
	tmp=$(mktemp -d "${dest%/*}/build.XXXXXX")
	cleanup_paths+=("$tmp")
	mkdir -p "$tmp"/{bin,dev,proc,sys,etc,host,newroot,kipc-out,lib/modules}
	cp "$busybox" "$tmp/bin/busybox"
	for applet in $("$busybox" --list); do
		[[ $applet == busybox ]] || ln -s busybox "$tmp/bin/$applet"
	done

	local mods=
	if [[ -n $moddeps ]]; then
		mods=$(resolve_initramfs_modules) || exit "$EXIT_USAGE"
	fi
	: >"$tmp/etc/modules.order"
	while IFS= read -r rel; do
		[[ -n $rel ]] || continue
		ko=${rel##*/}
		ko=${ko%%.ko*}.ko
		# Decompress here: busybox insmod support for compressed modules
		# depends on its build options; plain .ko always works.
		case $rel in
		*.ko.xz) xz -dc "$moddir/$rel" >"$tmp/lib/modules/$ko" ;;
		*.ko.zst) zstd -qdc "$moddir/$rel" >"$tmp/lib/modules/$ko" ;;
		*.ko.gz) gzip -dc "$moddir/$rel" >"$tmp/lib/modules/$ko" ;;
		*) cp "$moddir/$rel" "$tmp/lib/modules/$ko" ;;
		esac
		echo "$ko" >>"$tmp/etc/modules.order"
	done <<<"$mods"

	cp -- "$INIT_SCRIPT" "$tmp/init"
	chmod 755 "$tmp/init"

	cleanup_paths+=("$dest.tmp.$$")
	# -R 0:0: files must be root-owned in the guest even when built by a user.
	(cd "$tmp" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$dest.tmp.$$"
	# Atomic, so concurrent vm.sh runs never see a half-written file.
	mv -f -- "$dest.tmp.$$" "$dest"
	rm -rf -- "$tmp"
}

cache_dir=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kipc
mkdir -p -- "$cache_dir"
initrd=$cache_dir/initramfs-$kver.cpio.gz
# Rebuild when this script (incl. /init), the kernel, its modules or busybox
# change.
cache_key=$(
	{
		cat -- "$SELF" "$INIT_SCRIPT"
		echo "$kver"
		stat -Lc '%n %s %Y' -- "$vmlinuz" ${moddeps:+"$moddeps"} "$(command -v busybox || echo none)"
	} | sha256sum
)
cache_key=${cache_key%% *}
if [[ ! -s $initrd || ! -f $initrd.key || $(<"$initrd.key") != "$cache_key" ]]; then
	build_initramfs "$initrd"
	echo "$cache_key" >"$initrd.key"
fi

# ---------------------------------------------------------------- kernel

# The kernel starts by decompressing itself; for Debian's XZ bzImage that
# takes ~3 s under TCG - longer than the rest of the boot.  QEMU can instead
# load the uncompressed ELF vmlinux and enter it through the PVH entry point
# (CONFIG_PVH), so extract it once per kernel and cache it.  Any failure just
# means we boot the bzImage as is.
extract_vmlinux() {
	local src=$1 dest=$2 fmt magic off
	local -a unpack
	for fmt in xz zstd gzip; do
		case $fmt in
		xz) magic='\xFD7zXZ\x00' unpack=(xz -dcq) ;;
		zstd) magic='\x28\xB5\x2F\xFD' unpack=(zstd -dcq) ;;
		gzip) magic='\x1F\x8B\x08' unpack=(gzip -dcq) ;;
		esac
		command -v "${unpack[0]}" >/dev/null || continue
		# Only the offsets may reach `read` (hence cut): the matched magic
		# bytes can be invalid UTF-8, on which bash's read fails.
		while read -r off; do
			# Decompressors complain about the bytes after the payload;
			# the ELF check below is what tells success.
			tail -c "+$((off + 1))" -- "$src" | "${unpack[@]}" >"$dest.tmp.$$" 2>/dev/null || true
			if [[ $(head -c 4 -- "$dest.tmp.$$" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
				mv -f -- "$dest.tmp.$$" "$dest"
				return 0
			fi
		done < <(LC_ALL=C grep -obUaP "$magic" -- "$src" 2>/dev/null | head -n 5 | cut -d: -f1)
	done
	rm -f -- "$dest.tmp.$$"
	return 1
}

boot_kernel=$vmlinuz
if [[ -z $kernel ]] && grep -qx 'CONFIG_PVH=y' "$kconfig" 2>/dev/null; then
	vmlinux=$cache_dir/vmlinux-$kver
	vmlinux_key=$(stat -Lc '%s %Y' -- "$vmlinuz")
	if [[ -s $vmlinux && -f $vmlinux.key && $(<"$vmlinux.key") == "$vmlinux_key" ]]; then
		boot_kernel=$vmlinux
	elif cleanup_paths+=("$vmlinux.tmp.$$") && extract_vmlinux "$vmlinuz" "$vmlinux"; then
		echo "$vmlinux_key" >"$vmlinux.key"
		boot_kernel=$vmlinux
	fi
fi

# ---------------------------------------------------------------- guest job

# POSIX-sh single quoting, for the config sourced by busybox ash.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

{
	echo "# generated by scripts/vm.sh; sourced by the guest's /init"
	echo "KIPC_OUT=$(shq "$out")"
	echo "KIPC_CWD=$(shq "$cwd")"
	echo "KIPC_SHELL=$shell"
	echo "KIPC_UNLOAD=$unload"
	echo "KIPC_ROOT=$(shq "$guest_root")"
	echo "KIPC_BINDS=$(shq "${guest_binds[*]-}")"
	echo "KIPC_KLOG_MARK=$(shq "$KLOG_MARK")"
	echo "KIPC_EXIT_KERNEL=$EXIT_KERNEL"
	echo "KIPC_PANIC_ON_WARN=${KIPC_VM_PANIC_ON_WARN:-1}"
	stty_size=
	if [[ $shell -eq 1 ]] && size=$(stty size 2>/dev/null); then
		stty_size="rows ${size% *} cols ${size#* }"
	fi
	echo "KIPC_STTY=$(shq "$stty_size")"
	echo "kipc_modules() {"
	echo "	:"
	for i in "${!mod_paths[@]}"; do
		# In-tree modules ours depend on; insmod does not resolve them.
		line="	load_module $(shq "${mod_names[i]}") $(shq "${mod_paths[i]}")"
		mod_deps=$(modinfo -F depends "${mod_paths[i]}" 2>/dev/null || true)
		for dep in ${mod_deps//,/ }; do
			is_our_module "$dep" || line+=" $(shq "$dep")"
		done
		echo "$line || return 1"
	done
	echo "}"
} >"$out/.vm-config"

# Runs in the chroot under the host's bash; %q quoting is bash-only, which is
# fine because bash is what reads it.
guest_env=(
	"PATH=${KIPC_VM_PATH:-$SANE_PATH}"
	HOME=/root USER=root LOGNAME=root SHELL=/bin/bash
	LANG=C.UTF-8 "TERM=${TERM:-dumb}" KIPC_IN_VM=1
)
guest_env+=(${kipc_env[@]+"${kipc_env[@]}"})
if [[ $shell -eq 1 ]]; then
	guest_cmd=(/bin/bash --noprofile --norc -i)
	guest_env+=('PS1=(kipc-vm) \w\$ ')
else
	guest_cmd=("${cmd[@]}")
fi
{
	echo "# generated by scripts/vm.sh; runs as root in the VM's chroot"
	printf 'cd -- %q || exit 126\n' "$cwd"
	printf 'exec env -i --'
	printf ' %q' "${guest_env[@]}"
	printf ' %q' "${guest_cmd[@]}"
	printf '\n'
} >"$out/.vm-run.sh"

# ---------------------------------------------------------------- qemu

accel=${KIPC_VM_ACCEL:-}
if [[ -z $accel ]]; then
	v=
	[[ $verbose != 1 ]] || v=-v
	accel=$("$SCRIPT_DIR/kvm-probe.sh" $v)
fi
case $accel in
kvm) cpu=host ;;
tcg) cpu=max ;;
*) die "KIPC_VM_ACCEL must be kvm or tcg, not $accel" ;;
esac

# QEMU option values escape ',' by doubling it.
out_opt=${out//,/,,}
# shellcheck disable=SC2054 # commas are QEMU option syntax
qemu=(
	qemu-system-x86_64
	-nodefaults -no-user-config -display none -no-reboot
	-machine pc -accel "$accel" -cpu "$cpu" -m "$mem" -smp "$smp"
	-kernel "$boot_kernel" -initrd "$initrd"
	# panic=-1: reboot at once on panic, which -no-reboot turns into a QEMU
	# exit; oopses do not panic - we find them in the log instead.
	# cryptomgr.notests: crypto self-tests cost ~0.3 s of boot under TCG.
	-append "console=ttyS0 panic=-1 quiet loglevel=4 cryptomgr.notests"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$out_opt,mount_tag=kipcout,security_model=none"
)
# Escape hatch for debugging, e.g. KIPC_VM_QEMU_ARGS="-s" for a gdb stub.
if [[ -n ${KIPC_VM_QEMU_ARGS:-} ]]; then
	read -ra extra <<<"$KIPC_VM_QEMU_ARGS"
	qemu+=("${extra[@]}")
fi

t0=$(date +%s.%N)
qrc=0
if [[ $shell -eq 1 ]]; then
	# mon:stdio: Ctrl-A X / Ctrl-A C still work if the guest wedges.
	"${qemu[@]}" -serial mon:stdio || qrc=$?
else
	# stdin from /dev/null: QEMU must never touch a tty (CI, make -j).
	to=()
	[[ $timeout -eq 0 ]] || to=(timeout --foreground -k 10 "$timeout")
	# The sed drops the kernel's final "reboot: Power down" (KERN_EMERG, so
	# no loglevel hides it), which would otherwise end every test's output.
	${to[@]+"${to[@]}"} "${qemu[@]}" -serial stdio -monitor none </dev/null |
		sed -u '/^\[ *[0-9.]*\] reboot: Power down/d' || qrc=$?
	if [[ ${#to[@]} -gt 0 && $qrc -eq $EXIT_TIMEOUT ]]; then
		echo "vm: timeout: guest did not finish within ${timeout}s; killed QEMU" >&2
		exit "$EXIT_TIMEOUT"
	fi
fi
t1=$(date +%s.%N)
if [[ $qrc -ne 0 ]]; then
	echo "vm: qemu exited with status $qrc" >&2
fi
if [[ $verbose == 1 ]]; then
	echo "vm: wall time $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s ($accel)" >&2
fi

rc=0
check_results || rc=$?
exit "$rc"
}
