#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kvm-probe.sh - print "kvm" if QEMU can use KVM here, else "tcg".
#
# Usage: scripts/kvm-probe.sh [-v]
#   -v   say why on stderr
# KIPC_KVM_DEV names the device to probe (default /dev/kvm; tests point it
# elsewhere).
#
# The probe has no side effects.  It never opens a path that is not a
# character device: in bash, a read-write redirection (exec 3<>/dev/kvm)
# *creates* a regular file where there is no device, and other tools on the
# host then take that file for KVM.  It opens the device without O_CREAT
# and asks KVM_GET_API_VERSION, which only KVM answers (with 12).
set -euo pipefail

dev=${KIPC_KVM_DEV:-/dev/kvm}
verbose=0
[[ ${1:-} != -v ]] || verbose=1

say() { [[ $verbose -eq 0 ]] || echo "kvm-probe: $*" >&2; }

tcg() {
	say "$1: using TCG"
	echo tcg
	exit 0
}

[[ -e $dev ]] || tcg "no $dev"
[[ -c $dev ]] || tcg "$dev is not a character device"
[[ -r $dev && -w $dev ]] || tcg "$dev is not readable and writable for us"

# KVM_GET_API_VERSION = _IO(KVMIO, 0x00) = 0xAE00; KVM_API_VERSION is 12.
# sysopen without O_CREAT cannot create anything.  perl is Essential in
# Debian (perl-base).
if ! perl -e 'use Fcntl; sysopen(my $f, $ARGV[0], O_RDWR) or exit 1;
	my $v = ioctl($f, 0xAE00, 0); exit((defined $v && $v == 12) ? 0 : 1)' "$dev" 2>/dev/null; then
	tcg "$dev does not answer KVM_GET_API_VERSION"
fi

# A /dev/kvm backed only by kvm_pvm (PVM, software nested virtualisation in
# some cloud sandboxes) runs only PVM-enabled guest kernels: a stock Debian
# kernel hangs right after "Probing EDD".
if [[ -d /sys/module/kvm_pvm && ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
	tcg "$dev is PVM (kvm_pvm)"
fi

say "$dev answers: using KVM"
echo kvm
