#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kernel.sh - where a Debian kernel's image, modules and headers are, and
# how kipc gets them when they are not installed.
#
#   kernel.sh default        the kernel to use when none is named (below)
#   kernel.sh vars [KVER]    resolve KVER (default: as above), fetch it if it
#                            is not here, print "KVER=... KDIR=..." for make
#   kernel.sh fetch KVER     fetch KVER into the cache unless it is here
#   kernel.sh info KVER      print shell assignments: image, moddir, kdir,
#                            config and the build root the headers need
#   kernel.sh newest SUITE   the newest amd64 kernel that SUITE has headers for
#   kernel.sh matrix         the tested kernels, one per line (README)
#   kernel.sh buildroot KDIR "SUITE COMPILER" when KDIR can't be built here
#   kernel.sh mirror         the Debian mirror kernels and roots come from
#
# A kernel is either installed (/boot/vmlinuz-KVER, /lib/modules/KVER/build)
# or fetched: `apt-get download` and `dpkg -x` of its image, modules and
# headers into $CACHE/kernels/KVER, with a private apt configuration in
# $CACHE/apt.  Nothing is installed and the system's apt sources are not
# changed: fetching a kernel must not change what the machine boots.  The
# private configuration uses the Debian mirror the system's apt already uses,
# for its own release and for trixie, trixie-backports and sid.
#
# Headers whose compiler the host lacks (7.x wants gcc-14 or newer and
# glibc >= 2.38 for its tools) are built in a root of the kernel's own Debian
# suite: "info" names it as BUILDROOT, scripts/kbuild.sh makes and uses it.
#
# The default kernel, in order: $KVER; the running kernel if it can load
# modules and has headers; the kernel of the linux-image-amd64 package if it
# is installed; the newest installed or fetched kernel; otherwise the one
# Debian's linux-image-amd64 would install (fetched).
set -euo pipefail

CACHE=${KIPC_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kipc}
APTDIR=$CACHE/apt
KDIRS=$CACHE/kernels
# The suites beyond the system's own release that kernels may come from.
EXTRA_SUITES=${KIPC_KERNEL_SUITES:-"trixie trixie-backports sid"}

die() {
	echo "kernel: $*" >&2
	exit 1
}

# ---------------------------------------------------------------- apt

# The Debian mirrors the system's apt uses, as "URI SUITE" lines.  Asking
# apt (not parsing sources.list and deb822 files) sees exactly its sources.
system_debian_sources() {
	apt-get update --print-uris 2>/dev/null |
		sed -n "s|^'\([^']*\)/dists/\([^/]*\)/InRelease'.*|\1 \2|p" |
		awk '$1 ~ /\/debian(-security)?\/?$/' | sort -u
}

apt_setup() {
	local codename mirror uri suite keyring
	[[ -f $APTDIR/sources.list ]] && return 0
	command -v apt-get >/dev/null || die "apt-get not found: kernels are fetched from Debian"
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	mkdir -p "$APTDIR"/{lists/partial,archives/partial}
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[[ -r $keyring ]] || die "no $keyring (package debian-archive-keyring)"
	{
		while read -r uri suite; do
			echo "deb [signed-by=$keyring] $uri $suite main"
			[[ $suite != "$codename" ]] || mirror=$uri
		done < <(system_debian_sources)
		mirror=${KIPC_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
		for suite in $EXTRA_SUITES; do
			[[ $suite == "$codename" ]] || echo "deb [signed-by=$keyring] $mirror $suite main"
		done
	} >"$APTDIR/sources.list.tmp"
	# The other suites never win a version choice by accident: kernel
	# packages are named by their version, and what linux-image-amd64 means
	# is the system's release's answer.
	for suite in $EXTRA_SUITES; do
		[[ $suite == "$codename" ]] || printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n\n' "$suite"
	done >"$APTDIR/preferences"
	mv -f "$APTDIR/sources.list.tmp" "$APTDIR/sources.list"
}

# Check-Valid-Until: a mirror that is a snapshot serves Release files past
# their Valid-Until (sid's lasts a week); signatures are still checked.
apt_opts() {
	printf '%s\n' \
		-o "Dir::Etc::SourceList=$APTDIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::Etc::Preferences=$APTDIR/preferences" \
		-o Dir::Etc::PreferencesParts=/dev/null \
		-o "Dir::State::Lists=$APTDIR/lists" \
		-o "Dir::Cache=$APTDIR" \
		-o Dir::State::Status=/dev/null \
		-o Debug::NoLocking=1 \
		-o Acquire::Check-Valid-Until=false \
		-o APT::Sandbox::User=root
}

# Refresh the private package lists once a day (or when forced).
apt_update() {
	local stamp=$APTDIR/updated
	apt_setup
	if [[ ${1:-} == force || ! -f $stamp || -n $(find "$stamp" -mmin +1440 2>/dev/null) ]]; then
		mapfile -t opts < <(apt_opts)
		apt-get "${opts[@]}" -qq update >/dev/null 2>"$APTDIR/update.log" ||
			{ cat "$APTDIR/update.log" >&2; die "apt-get update (private lists in $APTDIR) failed"; }
		touch "$stamp"
	fi
}

kapt() {
	local cmd=$1 opts
	shift
	mapfile -t opts < <(apt_opts)
	"$cmd" "${opts[@]}" "$@"
}

# Whether the mirror has a version of package $1.  (Not "| grep -q": grep
# leaves early, apt-cache dies of SIGPIPE, and pipefail makes that a no.)
has_candidate() {
	local out
	out=$(kapt apt-cache policy "$1" 2>/dev/null) || return 1
	[[ $out == *"Candidate: "[0-9]* ]]
}

# "pkg=version" for a package and every linux-* package it needs: the image,
# binary and modules, the headers, their common part and the kbuild tools.
# Versions are pinned where the Depends line pins them.
resolve_pkgs() {
	local -a queue=("$@")
	local -A seen=()
	local item name ver dep deps alt
	while [[ ${#queue[@]} -gt 0 ]]; do
		item=${queue[0]}
		queue=("${queue[@]:1}")
		name=${item%%=*}
		[[ -z ${seen[$name]:-} ]] || continue
		seen[$name]=1
		if [[ $item == *=* ]]; then
			ver=${item#*=}
		else
			ver=$(kapt apt-cache policy "$name" 2>/dev/null | sed -n 's/^ *Candidate: //p')
			[[ -n $ver && $ver != "(none)" ]] || die "no package $name on the mirror (kernels: $0 newest SUITE)"
		fi
		echo "$name=$ver"
		deps=$(kapt apt-cache show "$name=$ver" 2>/dev/null | sed -n '0,/^Depends: /s/^Depends: //p')
		while read -r dep; do
			[[ -n $dep ]] || continue
			# Of alternatives ("signed | unsigned"), the first the
			# mirror has.
			alt=${dep%%|*}
			while [[ $dep == *"|"* ]]; do
				alt=${dep%%|*}
				has_candidate "${alt%% *}" && break
				dep=${dep#*|}
				dep=${dep# }
				alt=$dep
			done
			dep=${alt% }
			case $dep in
			linux-image-* | linux-binary-* | linux-modules-* | linux-headers-* | linux-kbuild-*) ;;
			*) continue ;;
			esac
			if [[ $dep =~ ^([^ ]+)\ \(=\ ([^\)]+)\) ]]; then
				queue+=("${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
			else
				queue+=("${dep%% *}")
			fi
		done < <(tr ',' '\n' <<<"$deps" | sed 's/^ *//')
	done
}

# The Debian suite a package version comes from (for the build root).
pkg_suite() {
	kapt apt-cache policy "$1" 2>/dev/null | awk -v v="$2" '
		$1 == "***" { $1 = "" ; sub(/^ /, "") }
		$1 == v { hit = 1; next }
		hit && $2 ~ /:\/\// { split($3, s, "/"); print s[1]; exit }
		hit && $1 !~ /^[0-9]+$/ { hit = 0 }'
}

# ---------------------------------------------------------------- layout

installed() { [[ -e /boot/vmlinuz-$1 && -d /lib/modules/$1/build ]]; }
fetched() { [[ -f $KDIRS/$1/.complete ]]; }

# Print "image= moddir= kdir= config= buildroot= suite=" for KVER.
info() {
	local kver=$1 r image moddir kdir config suite= buildroot=
	if installed "$kver"; then
		image=/boot/vmlinuz-$kver
		moddir=/lib/modules/$kver
		kdir=$(realpath "/lib/modules/$kver/build")
		config=/boot/config-$kver
	elif fetched "$kver"; then
		r=$KDIRS/$kver
		image=$r/boot/vmlinuz-$kver
		[[ -e $image ]] || image=$r/lib/modules/$kver/vmlinuz
		moddir=$r/lib/modules/$kver
		kdir=$r/usr/src/linux-headers-$kver
		config=$r/boot/config-$kver
		[[ -e $config ]] || config=$kdir/.config
		suite=$(<"$r/.suite")
	else
		return 1
	fi
	if ! host_can_build "$kdir"; then
		[[ -n $suite ]] || suite=$(suite_for_compiler "$kdir")
		buildroot=$CACHE/roots/$suite
	fi
	printf 'image=%q\nmoddir=%q\nkdir=%q\nconfig=%q\nbuildroot=%q\nsuite=%q\n' \
		"$image" "$moddir" "$kdir" "$config" "$buildroot" "$suite"
}

# The compiler a Debian kernel's headers name ("gcc-14"), from the
# .kernelvariables file Debian ships with them.
kernel_cc() {
	sed -n 's/^CC = .*\$(CROSS_COMPILE)\([a-z0-9.+-]*\).*/\1/p' "$1/.kernelvariables" 2>/dev/null | head -n 1
}

host_can_build() {
	local cc
	cc=$(kernel_cc "$1")
	[[ -z $cc ]] || command -v "x86_64-linux-gnu-$cc" >/dev/null || command -v "$cc" >/dev/null
}

# "SUITE COMPILER" for headers the host can't build with, else nothing.
buildroot_for() {
	local kdir=$1 top
	host_can_build "$kdir" && return 0
	top=$(realpath -- "$kdir")
	top=${top%/usr/src/*}
	if [[ -f $top/.suite ]]; then
		echo "$(<"$top/.suite") $(kernel_cc "$kdir")"
	else
		echo "$(suite_for_compiler "$kdir") $(kernel_cc "$kdir")"
	fi
}

# An installed kernel whose compiler the host lacks: the suite that has it.
suite_for_compiler() {
	local cc suite where
	cc=$(kernel_cc "$1")
	apt_update
	where=$(kapt apt-cache showpkg "$cc" 2>/dev/null) || where=
	for suite in $EXTRA_SUITES; do
		[[ $suite != *-backports ]] || continue
		if [[ $where == *"_dists_${suite}_"* ]]; then
			echo "$suite"
			return
		fi
	done
	die "no suite has $cc for the headers in $1"
}

# ---------------------------------------------------------------- fetch

# The package with KVER's image.  The signed linux-image-KVER is built
# from the -unsigned one after it and can lag it on the mirror (seen:
# 6.12.118+deb12 for days); the two hold the same kernel and modules.
image_pkg() {
	local p
	for p in "linux-image-$1" "linux-image-$1-unsigned"; do
		if has_candidate "$p"; then
			echo "$p"
			return
		fi
	done
	echo "linux-image-$1"
}

fetch() {
	local kver=$1 dest tmp deb p name ver suite
	installed "$kver" && return 0
	fetched "$kver" && return 0
	[[ $kver =~ ^[0-9]+\.[0-9]+[.0-9a-z+~-]*-amd64$ ]] || die "not a Debian amd64 kernel version: $kver"
	apt_update
	has_candidate "linux-headers-$kver" || apt_update force
	echo "kernel: fetching $kver into $KDIRS/$kver" >&2
	dest=$KDIRS/$kver
	tmp=$KDIRS/.fetch.$kver.$$
	rm -rf -- "$tmp"
	mkdir -p "$tmp/debs" "$tmp/root"
	# shellcheck disable=SC2064 # expand now: the path is fixed
	trap "rm -rf -- '$tmp'" EXIT
	mapfile -t pkgs < <(resolve_pkgs "$(image_pkg "$kver")" "linux-headers-$kver")
	(cd "$tmp/debs" && kapt apt-get -qq download "${pkgs[@]}" >/dev/null) ||
		die "apt-get download ${pkgs[*]} failed"
	for deb in "$tmp"/debs/*.deb; do
		dpkg -x "$deb" "$tmp/root"
	done
	r=$tmp/root
	# Merged /usr (7.x) or not (6.1): one spelling for the rest.
	[[ -e $r/lib ]] || ln -s usr/lib "$r/lib"
	[[ -d $r/lib/modules/$kver ]] || die "$kver: no modules in ${pkgs[*]}"
	[[ -e $r/boot/vmlinuz-$kver || -e $r/lib/modules/$kver/vmlinuz ]] ||
		die "$kver: no kernel image in ${pkgs[*]}"
	# Installing a kernel runs depmod; unpacking one does not.
	depmod -b "$r" "$kver" 2>&1 | { grep -v 'could not open modules\.' || :; } >&2
	relocate_headers "$r/usr/src/linux-headers-$kver"
	for p in "${pkgs[@]}"; do
		name=${p%%=*} ver=${p#*=}
		if [[ $name == "linux-headers-$kver" ]]; then
			suite=$(pkg_suite "$name" "$ver")
			# Backports are built with their stable release's compiler.
			echo "${suite%-backports}" >"$r/.suite"
		fi
	done
	printf '%s\n' "${pkgs[@]}" >"$r/.packages"
	touch "$r/.complete"
	rm -rf -- "$dest"
	mv -- "$r" "$dest"
	rm -rf -- "$tmp"
	trap - EXIT
}

# Debian's headers name their common half by absolute path (/usr/src/...):
# make them find it next to themselves, wherever the cache is.
relocate_headers() {
	local kdir=$1 mk=$1/Makefile common
	[[ -f $mk ]] || die "no $mk"
	common=$(sed -n 's|^include /usr/src/\([^/]*\)/Makefile$|\1|p' "$mk")
	[[ -n $common ]] || return 0
	cat >"$mk" <<EOF
# Rewritten by kipc's scripts/kernel.sh: Debian's file names
# /usr/src/$common; these headers are unpacked elsewhere.
kipc_headers := \$(patsubst %/,%,\$(dir \$(realpath \$(lastword \$(MAKEFILE_LIST)))))
KBUILD_OUTPUT=\$(kipc_headers)
include \$(kipc_headers)/../$common/Makefile
EOF
}

# ---------------------------------------------------------------- choosing

# Every amd64 headers package on the mirror, with where its versions come
# from: made once per list update (apt-cache takes seconds per call).
headers_policy() {
	local f=$APTDIR/headers.policy names
	apt_update
	if [[ ! -s $f || $f -ot $APTDIR/updated ]]; then
		mapfile -t names < <(kapt apt-cache search --names-only '^linux-headers-[0-9].*-amd64$' 2>/dev/null |
			awk '$1 !~ /-(rt|cloud)-amd64$/ { print $1 }')
		[[ ${#names[@]} -gt 0 ]] || die "the mirror has no kernel headers"
		kapt apt-cache policy "${names[@]}" >"$f.tmp" 2>/dev/null
		mv -f "$f.tmp" "$f"
	fi
	cat "$f"
}

newest() {
	# "package:" starts a block, "PRIO URI suite/main ..." lines name where
	# its versions come from; SUITE also means its -security and -updates.
	headers_policy | awk -v s="$1" '
		/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1); next }
		$2 ~ /:\/\// { split($3, a, "/"); x = a[1]
			if (x == s || (s !~ /-/ && (x == s "-security" || x == s "-updates")))
				print substr(pkg, length("linux-headers-") + 1) }' |
		sort -uV | tail -n 1
}

default() {
	local running meta best= k release answer
	if [[ -n ${KVER:-} ]]; then
		echo "$KVER"
		return
	fi
	running=$(uname -r)
	if [[ -d /lib/modules/$running/build && -e /proc/modules ]]; then
		echo "$running"
		return
	fi
	# Not installed is the common case here (containers, cloud images):
	# dpkg-query fails, and that must not end the script under set -e.
	meta=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/^linux-image-\([^ ,]*\).*/\1/p') || meta=
	if [[ -n $meta ]] && installed "$meta"; then
		echo "$meta"
		return
	fi
	# The user's own kernels count; the ones check-kernels fetched do
	# not: testing 7.x once must not make it every later run's default.
	for k in $(ls /lib/modules 2>/dev/null | sort -V); do
		if installed "$k"; then best=$k; fi
	done
	if [[ -n $best ]]; then
		echo "$best"
		return
	fi
	# Nothing here: what linux-image-amd64 of this release would install.
	# Every make asks (the Makefile's KVER), and apt-cache over five
	# suites' lists takes seconds: the answer is kept until the lists
	# are next refreshed.
	meta= answer=$APTDIR/default-kernel
	if [[ -s $answer && $answer -nt $APTDIR/updated && -z $(find "$APTDIR/updated" -mmin +1440 2>/dev/null) ]]; then
		cat "$answer"
		return
	fi
	if (apt_update) 2>/dev/null; then
		meta=$(kapt apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\([^ ]*\)$/\1/p' | head -n 1) || meta=
		[[ -z $meta ]] || echo "$meta" >"$answer"
	fi
	if [[ -z $meta ]]; then
		# Offline: the newest fetched kernel of this release.
		release=$(. /etc/os-release && echo "$VERSION_CODENAME")
		for k in $(ls "$KDIRS" 2>/dev/null | sort -V); do
			if fetched "$k" && [[ $(cat "$KDIRS/$k/.suite" 2>/dev/null) == "$release"* ]]; then
				meta=$k
			fi
		done
	fi
	[[ -n $meta ]] || die "no kernel installed, and the mirror names none for linux-image-amd64"
	echo "$meta"
}

case ${1:-} in
default) default ;;
vars)
	kver=${2:-$(default)}
	fetch "$kver"
	eval "$(info "$kver")"
	printf 'KVER=%s KDIR=%s\n' "$kver" "$kdir"
	;;
fetch) fetch "${2:?KVER}" ;;
info) info "${2:?KVER}" || die "kernel $2 is neither installed nor fetched" ;;
newest) newest "${2:?SUITE}" ;;
buildroot) buildroot_for "${2:?KDIR}" ;;
mirror)
	apt_setup
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	awk -v c="$codename" '$4 == c { print $3; exit }' "$APTDIR/sources.list"
	;;
matrix)
	# README, "Kernels": Debian 12's two, the newest of trixie-backports
	# and of sid.
	default
	newest "$(. /etc/os-release && echo "$VERSION_CODENAME")"
	newest trixie-backports
	newest sid
	;;
*)
	sed -n '3,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
