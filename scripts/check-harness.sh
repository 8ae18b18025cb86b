#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check-harness.sh - tests of the test harness itself, on the host: the KVM
# probe has no side effects, kernels are found where kernel.sh puts them,
# tallies add up.  TAP, then "N passed, N failed, N skipped".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0 skip=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n # SKIP $1"; }
check() {
	local desc=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$desc"; else sed 's/^/# /' "$tmp/out"; not_ok "$desc"; fi
}

echo "TAP version 13"
echo "# harness: scripts/ on the host"

# The probe must not create the device it looks for (bash's <> would).
probe_absent() {
	local dev=$tmp/dev/kvm a
	mkdir -p "$tmp/dev"
	a=$(KIPC_KVM_DEV=$dev "$here/kvm-probe.sh" -v) || return 1
	[[ $a == tcg && ! -e $dev ]]
}
check "kvm-probe: a missing device means TCG, and nothing is created" probe_absent

probe_regular() {
	local dev=$tmp/kvm-file a
	: >"$dev"
	a=$(KIPC_KVM_DEV=$dev "$here/kvm-probe.sh") || return 1
	[[ $a == tcg && -f $dev && ! -s $dev ]]
}
check "kvm-probe: a regular file named like the device is not KVM" probe_regular

probe_chardev_not_kvm() {
	local a
	a=$(KIPC_KVM_DEV=/dev/null "$here/kvm-probe.sh") || return 1
	[[ $a == tcg ]]
}
check "kvm-probe: a character device that doesn't answer KVM_GET_API_VERSION is not KVM" probe_chardev_not_kvm

# Where this host has no /dev/kvm, a whole VM run must leave none.
if [[ -e /dev/kvm ]]; then
	skip "vm.sh leaves no /dev/kvm behind (this host has a /dev/kvm)"
elif ! kver=$("$here/kernel.sh" default 2>/dev/null) || ! "$here/kernel.sh" info "$kver" >/dev/null 2>&1; then
	skip "vm.sh leaves no /dev/kvm behind (no kernel here yet)"
else
	vm_no_kvm() {
		"$here/vm.sh" --kver "$kver" --timeout 300 -- true || return 1
		[[ ! -e /dev/kvm ]] || { ls -l /dev/kvm; return 1; }
	}
	check "vm.sh on a host without /dev/kvm boots with TCG and leaves no /dev/kvm" vm_no_kvm
fi

tally_sums() {
	printf '1 passed, 2 failed, 3 skipped\n' >"$tmp/a"
	printf 'x\n10 passed, 0 failed\n' >"$tmp/b"
	: >"$tmp/c"
	[[ $("$here/tally.sh" "$tmp/a" "$tmp/b" "$tmp/c" 2>/dev/null) == "11 passed, 3 failed, 3 skipped" ]] &&
		! "$here/tally.sh" "$tmp/c" >/dev/null 2>&1 &&
		"$here/tally.sh" "$tmp/b" >/dev/null
}
check "tally.sh sums the counts, and a stage that never reported is a failure" tally_sums

# Fetched kernels: headers that build from where they are unpacked.
# (Only complete ones: another run may be unpacking one right now.)
fetched=$(find "${KIPC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kipc}/kernels" -mindepth 2 -maxdepth 2 -name .complete 2>/dev/null | head -n 1)
fetched=${fetched%/.complete}
if [[ -z $fetched ]]; then
	skip "fetched kernel headers name no absolute /usr/src path (none fetched)"
else
	relocated() {
		local k=${fetched##*/} mk
		mk=$fetched/usr/src/linux-headers-$k/Makefile
		[[ -f $mk ]] && ! grep -n '/usr/src/' "$mk" | grep -v '^[0-9]*:#'
		"$here/kernel.sh" info "$k" | grep -qx "kdir=$fetched/usr/src/linux-headers-$k"
	}
	check "kernel.sh: fetched headers (${fetched##*/}) are relocatable and found" relocated
fi

# A host with no kernel package installed (a container, a cloud image with
# linux-image-cloud-amd64): dpkg-query knows no linux-image-amd64, and the
# default is what that package would install, whatever else check-kernels
# fetched.  Asked directly, as check-kernels asks, this once exited 1 with
# no output under set -e; later it chose the newest fetched kernel (7.3).
# apt is a stand-in here: Depends names 6.1.0-99.
default_without_image() {
	mkdir -p "$tmp/bin" "$tmp/cache/kernels/7.9.9+deb13-amd64"
	printf '#!/bin/sh\nexit 1\n' >"$tmp/bin/dpkg-query"
	printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/apt-get"
	printf '#!/bin/sh\ncase "$*" in *"depends linux-image-amd64") echo "  Depends: linux-image-6.1.0-99-amd64" ;; esac\n' >"$tmp/bin/apt-cache"
	chmod +x "$tmp/bin/dpkg-query" "$tmp/bin/apt-get" "$tmp/bin/apt-cache"
	: >"$tmp/cache/kernels/7.9.9+deb13-amd64/.complete"
	[[ $(env -u KVER PATH="$tmp/bin:$PATH" KIPC_CACHE=$tmp/cache "$here/kernel.sh" default) == 6.1.0-99-amd64 ]]
}
if compgen -G '/lib/modules/*/build' >/dev/null; then
	skip "kernel.sh default without linux-image-amd64 (this host has an installed kernel)"
else
	check "kernel.sh default: no linux-image-amd64 installed, Debian's default kernel, not a fetched 7.x" default_without_image
fi

# deps.sh runs inside command substitutions (buildroot.sh's, whose stdout
# is the root's path): what it says goes to stderr.  Here every package is
# missing and apt-get is a stand-in that talks on stdout.
deps_quiet_stdout() {
	mkdir -p "$tmp/deps-bin"
	printf '#!/bin/sh\nexit 1\n' >"$tmp/deps-bin/dpkg-query"
	printf '#!/bin/sh\necho apt-get "$@"\n' >"$tmp/deps-bin/apt-get"
	chmod +x "$tmp/deps-bin/dpkg-query" "$tmp/deps-bin/apt-get"
	[[ -z $(PATH="$tmp/deps-bin:$PATH" "$here/deps.sh" mmdebstrap 2>/dev/null) ]]
}
if [[ $(id -u) -eq 0 ]]; then
	check "deps.sh writes nothing to stdout, even while installing" deps_quiet_stdout
else
	skip "deps.sh writes nothing to stdout (needs root: it would ask sudo)"
fi

# make lab: a region becomes its TODO and stub, the other lab's markers go
# and its code stays; a marker left open is an error.
lab_tree() { # DIR
	mkdir -p "$1/scripts" "$1/kmod" "$1/labs/a" "$1/labs/b"
	cp "$here/lab.sh" "$1/scripts/"
	printf 'a\tp\tf.t\t1\nb\tp\tf.u\t1\n' >"$1/labs/weights"
	echo a >"$1/labs/a/README.md"
	echo b >"$1/labs/b/README.md"
	printf '%s\n' 'int f(void)' '{' '	/* LAB(a): write f */' '	return 1;' \
		'	/* END LAB: return -ENOSYS; */' '}' '/* LAB(b): write g */' \
		'int g(void) { return 2; }' '/* END LAB */' >"$1/kmod/x.c"
}
lab_cut() {
	local t=$tmp/labtree
	lab_tree "$t"
	[[ $("$t/scripts/lab.sh" list | tr '\n' ' ') == "a b " ]] || return 1
	"$t/scripts/lab.sh" make a "$tmp/lab-a" || return 1
	printf '%s\n' 'int f(void)' '{' '	/* TODO(a): write f */' '	return -ENOSYS;' \
		'}' 'int g(void) { return 2; }' | diff -u - "$tmp/lab-a/kmod/x.c" &&
		[[ $(<"$tmp/lab-a/.lab") == a && -f $tmp/lab-a/LAB.md ]]
}
check "lab.sh: a lab's regions become stubs, the other labs' markers go" lab_cut

lab_open() {
	local t=$tmp/labopen
	lab_tree "$t"
	printf '%s\n' '/* LAB(a): never closed */' 'int h;' >"$t/kmod/y.c"
	! "$t/scripts/lab.sh" check && ! "$t/scripts/lab.sh" make a "$tmp/lab-open"
}
check "lab.sh: a LAB without END LAB is an error" lab_open

# results.json: what make grade writes validates, inconsistent scores don't.
grade_json() {
	local good=$tmp/good.json bad=$tmp/bad.json
	cat >"$good" <<-'EOF'
	{"score": 2, "execution_time": 1, "output": "x",
	 "tests": [{"name": "a: f.t", "score": 2, "max_score": 2, "status": "passed", "tags": ["a"], "output": ""},
	           {"name": "a: f.u", "score": 0, "max_score": 1, "status": "failed", "tags": ["a"], "output": ""}]}
	EOF
	sed 's/"score": 2, "execution/"score": 3, "execution/' "$good" >"$bad"
	python3 "$here/grade-json-check.py" "$good" 3 && ! python3 "$here/grade-json-check.py" "$bad" &&
		! python3 "$here/grade-json-check.py" "$good" 4
}
if command -v python3 >/dev/null; then
	check "grade-json-check.py: a valid results.json passes, a wrong total fails" grade_json
else
	skip "grade-json-check.py: no python3"
fi

echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
