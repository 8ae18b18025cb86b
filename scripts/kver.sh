#!/usr/bin/env bash
# kver.sh - print the kernel version kipc should be built and booted for.
#
# Order of preference:
#   1. $KVER, if set (explicit choice always wins);
#   2. the running kernel, if we can build for it (/lib/modules/$(uname -r)/build)
#      AND load modules into it (/proc/modules exists - it does not in many
#      containers, where tests must run in a VM instead);
#   3. the kernel of Debian's linux-image-amd64 metapackage, if usable;
#   4. the newest installed kernel that has both an image in /boot (so vm.sh
#      can boot it) and headers (so we can build against it).
set -euo pipefail

if [[ -n ${KVER:-} ]]; then
	printf '%s\n' "$KVER"
	exit 0
fi

running=$(uname -r)
if [[ -d /lib/modules/$running/build && -e /proc/modules ]]; then
	printf '%s\n' "$running"
	exit 0
fi

usable() { [[ -e /boot/vmlinuz-$1 && -d /lib/modules/$1/build ]]; }

# Debian's default kernel (what linux-image-amd64 points at) is what CI tests:
# installing another kernel for a one-off run must not change the default.
meta=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
if [[ -n $meta ]] && usable "$meta"; then
	printf '%s\n' "$meta"
	exit 0
fi

best=
while IFS= read -r kver; do
	if [[ -e /boot/vmlinuz-$kver && -d /lib/modules/$kver/build ]]; then
		best=$kver # list is sorted ascending; the last match is the newest
	fi
done < <(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V)

if [[ -z $best ]]; then
	echo "kver: no usable kernel found (need /boot/vmlinuz-X and /lib/modules/X/build);" \
		"try: scripts/deps.sh" >&2
	exit 1
fi
printf '%s\n' "$best"
