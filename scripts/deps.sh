#!/usr/bin/env bash
# deps.sh - install missing Debian packages needed to build and test kipc.
#
# Usage: scripts/deps.sh [pkg...]
#   With no arguments installs the project's default build/test set.
#   With arguments installs those packages *in addition* to the default set
#   (e.g. scripts/deps.sh mmdebstrap).
#
# Idempotent and quiet: packages are checked with dpkg-query first, and apt is
# only touched (one `apt-get update`, one `apt-get install`) when something is
# actually missing, so calling this from every `make` target costs ~nothing.
set -euo pipefail

default_pkgs=(
	build-essential
	qemu-system-x86
	busybox-static
	kmod
	cpio
	libnl-3-dev
	libnl-genl-3-dev
	linux-source-6.1
	pkg-config
	sparse
	gnuplot-nox
	stress-ng
	xz-utils
	zstd
	# 6.12's headers make BTF for modules (CONFIG_DEBUG_INFO_BTF_MODULES)
	# and fail without pahole; 6.1's skip it.
	pahole
	# What the suite runs in the guest, which a minimal root lacks:
	# mount (run_all.sh), ps, and the man page checks of docs_test.
	mount
	procps
	groff
	mandoc
	man-db
)
# No kernel packages: scripts/kernel.sh fetches the kernels it boots and
# builds against into the cache instead of installing them, so that a test
# run never changes what this machine boots.

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: dpkg-query not found; this script only supports Debian/Ubuntu" >&2
	exit 1
fi

# A package counts as present only when dpkg reports it fully installed;
# half-configured or "deinstall" states must be repaired by apt.
is_installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[[ $status == "install ok installed" ]]
}

missing=()
for pkg in "${default_pkgs[@]}" "$@"; do
	if ! is_installed "$pkg"; then
		# Skip duplicates (the caller may repeat a default package).
		case " ${missing[*]-} " in
		*" $pkg "*) ;;
		*) missing+=("$pkg") ;;
		esac
	fi
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

# Only escalate when needed; CI containers usually run as root without sudo.
sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: need root to install: ${missing[*]} (sudo not available)" >&2
		exit 1
	fi
	sudo=(sudo)
fi

# Everything this script says goes to stderr: callers run it inside
# command substitutions whose stdout is their own answer.
echo "deps: installing ${missing[*]}" >&2
# Package lists in fresh containers are often empty, so refresh once.
"${sudo[@]}" apt-get update -qq >&2
# noninteractive + -y: must never prompt (CI has no stdin). Output of a
# successful install is noise, so keep it and only show it on failure.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
	cat "$log" >&2
	echo "deps: apt-get install failed" >&2
	exit 1
fi
