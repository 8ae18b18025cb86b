# SPDX-License-Identifier: GPL-2.0
#
# kipc: kernel-managed IPC objects.
#
#   make            build the module (kmod/kipc.ko), library, tools, selftests
#   make check      install what is missing, build, and run the selftests in a
#                   VM (or natively where modules can be loaded)
#   make bench      the comparison benchmark (see README.md)
#   make check-kernels  build, load, smoke-test and unload on every tested
#                   kernel (scripts/kernel.sh matrix), with a table
#   make check-fresh    the README's two commands in a pristine Debian 12 root
#   make lint       checkpatch --strict and sparse on the module
#   make check-debug  the suite on a debug kernel (KASAN, lockdep, kmemleak,
#                   UBSAN, fault injection), built once into the cache
#   make check-clients  real programs under the preload in the VM: PostgreSQL
#                   15, Python, perl IPC::SysV, ipcmk/ipcrm, fakeroot-sysv
#   make vm         an interactive shell in the VM with kipc loaded
#   make lab LAB=list | LAB=NAME LAB_OUT=DIR   the course's labs: list them,
#                   or write one's student tree (docs/course.md)
#   make grade      the labs' tests in the VM, points per lab, results.json
#                   (SUBMISSION=DIR grades another tree, RESULTS=FILE)
#   make check-labs every lab's skeleton scores 0 for it and full marks for
#                   the others, the full tree 100%
#   make install    library, headers, pkg-config file, tools, man pages, udev
#                   rule (PREFIX=/usr/local, DESTDIR); make uninstall
#   make modules_install   kipc.ko under /lib/modules (INSTALL_MOD_PATH), depmod
#   make dkms-install      register with DKMS (dkms.conf); make check-dkms
#
# KVER picks the kernel (default: scripts/kernel.sh default); KDIR overrides
# its build dir.  A KVER that is not installed is fetched into the cache
# (scripts/kernel.sh), never installed.  KIPC_NATIVE=1 runs on the host
# instead of a VM.

KVER ?= $(shell scripts/kernel.sh default 2>/dev/null)
KDIR ?= $(or $(shell scripts/kernel.sh info $(KVER) 2>/dev/null | sed -n 's/^kdir=//p'),/lib/modules/$(KVER)/build)
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kipc
# Runs the kernel's make for kmod/: on the host, or in a root of the
# kernel's own Debian suite when the host lacks its compiler.
KBUILD := scripts/kbuild.sh $(KDIR)
# The kernel a target that boots one runs on, decided after deps (a fresh
# machine has none before) and fetched if missing: "KVER=... KDIR=...".
# Only a KVER given on the command line or in the environment is passed on.
KVER_ARG = $(if $(filter command line environment,$(origin KVER)),$(KVER))
KERNEL_VARS = $$(scripts/kernel.sh vars $(KVER_ARG))

MODULE := kmod/kipc.ko
VM := scripts/vm.sh --kver $(KVER)

.PHONY: all module lib compat tools examples selftests check bench vm deps clean lint checkpatch sparse

all: module lib compat tools examples selftests

# The tools; kernels come from scripts/kernel.sh.
deps:
	@scripts/deps.sh

module:
	@test -d "$(KDIR)" || { echo "no kernel build dir '$(KDIR)': set KVER (scripts/kernel.sh fetch KVER) or KDIR" >&2; exit 1; }
	$(KBUILD) W=1 modules

lib:
	$(MAKE) -C lib

# The stock IPC calls over kipc: libkipc-compat.so, libkipc-preload.so.
compat: lib
	$(MAKE) -C compat

# ring_test links lib/libkipc.a, the netlink tests tools/lib/libkipcnl.a.
selftests: lib tools
	$(MAKE) -C selftests/kipc

tools: lib
	$(MAKE) -C tools
examples: lib
	$(MAKE) -C examples

check: deps
	@$(MAKE) --no-print-directory check-kernel $(KERNEL_VARS)

# The same, for a kernel that is here (what check runs once it knows KVER).
# The harness's own tests run first, on the host; the last line sums both.
.PHONY: check-kernel
# The whole suite takes 8 minutes on two idle cores, three times that on a
# busy host: the guest is killed only after an hour.
CHECK_TIMEOUT ?= 3600
check-kernel: all
	@scripts/check.sh $(VM) --timeout $(CHECK_TIMEOUT) --module $(MODULE) -- env KIPC_MODULE=$(CURDIR)/$(MODULE) \
		KIPC_KDIR=$(KDIR) selftests/kipc/run_all.sh

# The suite on a debug kernel: KASAN, lockdep, kmemleak, UBSAN, and failslab
# for fault_test.  scripts/debug-kernel.sh builds it once (45-90 min) into
# $(CACHE)/debug; the module is built against that tree and the VM boots its
# bzImage.  Everything runs several times slower there, so the stress tests
# get fewer rounds (DEBUG_ENV) and the VM more memory and time.
.PHONY: check-debug
DEBUG_DIR ?= $(CACHE)/debug
DEBUG_KDIR := $(DEBUG_DIR)/linux-source-6.1
DEBUG_MEM ?= 2048
DEBUG_TIMEOUT ?= 14400
DEBUG_ENV ?= KIPC_STRESS_MSGS=$(or $(KIPC_STRESS_MSGS),10000) \
	KIPC_STRESS_OPS=$(or $(KIPC_STRESS_OPS),1000) \
	KIPC_RING_MSGS=$(or $(KIPC_RING_MSGS),100000)

check-debug:
	@scripts/deps.sh
	@KIPC_DEBUG_DIR=$(DEBUG_DIR) scripts/debug-kernel.sh
	@$(MAKE) --no-print-directory all KDIR=$(DEBUG_KDIR)
	scripts/vm.sh --kernel $(DEBUG_KDIR)/arch/x86/boot/bzImage --mem $(DEBUG_MEM) \
		--timeout $(DEBUG_TIMEOUT) --module $(MODULE) -- \
		env KIPC_MODULE=$(CURDIR)/$(MODULE) KIPC_KDIR=$(DEBUG_KDIR) $(DEBUG_ENV) \
		selftests/kipc/run_all.sh

# Real programs, unchanged, under LD_PRELOAD=libkipc-preload.so against the
# module (selftests/kipc/clients_test.sh): PostgreSQL 15 with its defaults
# (initdb, start, pgbench for PGBENCH_SECS, PG_CRASHES kill -9 crashes and
# restarts, shutdown, nothing left in kipcs), Python threading and
# multiprocessing across fork, perl IPC::SysV, ipcmk/ipcrm, fakeroot-sysv
# as uid 65534.  About 10 minutes under TCG; the last line is
# "N passed, N failed, N skipped".
.PHONY: check-clients check-clients-kernel
CLIENT_PKGS := postgresql-15 postgresql-client-15 python3 perl util-linux fakeroot procps
PGBENCH_SECS ?= 30
PG_CRASHES ?= 20
CLIENTS_TIMEOUT ?= 2400
check-clients: deps
	@scripts/deps.sh $(CLIENT_PKGS)
	@$(MAKE) --no-print-directory check-clients-kernel $(KERNEL_VARS)

check-clients-kernel: all
	@KIPC_CHECK_HARNESS=0 scripts/check.sh $(VM) --mem 2048 --timeout $(CLIENTS_TIMEOUT) --module $(MODULE) -- \
		env KIPC_TESTS=clients_test.sh KIPC_USERS=root KIPC_PGBENCH_SECS=$(PGBENCH_SECS) \
		KIPC_PG_CRASHES=$(PG_CRASHES) selftests/kipc/run_all.sh

# The comparison benchmark: table, JSON, CSV and plots under results/
# (KIPC_BENCH_OUT); BENCH_ARGS go to kipc-bench, e.g. BENCH_ARGS="-r 3".
bench: deps
	@$(MAKE) --no-print-directory bench-kernel $(KERNEL_VARS)

.PHONY: bench-kernel
bench-kernel: all
	KVER=$(KVER) scripts/bench.sh $(BENCH_ARGS)

# Every tested kernel (KIPC_KERNELS="KVER..." to choose, "newest" for the
# newest only): fetched if missing, module built (in the kernel's own
# suite's root where needed), loaded, a smoke subset of the suite as root
# and as nobody, unloaded; a table, then "N passed, N failed".
.PHONY: check-kernels
check-kernels: deps
	@$(MAKE) --no-print-directory lib compat selftests tools examples
	scripts/check-kernels.sh

# The README's two commands, from a clean git archive of HEAD, in a pristine
# Debian 12 root (mmdebstrap: apt and make only; cached in $(CACHE)/roots).
# FRESH_TESTS and FRESH_BENCH_ARGS choose how much of each runs.
.PHONY: check-fresh
check-fresh:
	@scripts/deps.sh mmdebstrap
	scripts/check-fresh.sh

# A shell in the VM with kipc loaded and the tools on PATH: where a kernel
# bug can't hurt the host (Ctrl-A X leaves QEMU if the guest hangs).
vm: deps
	@$(MAKE) --no-print-directory vm-kernel $(KERNEL_VARS)

.PHONY: vm-kernel
vm-kernel: all
	KIPC_VM_PATH=$(CURDIR)/tools:$(CURDIR)/examples:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		$(VM) --module $(MODULE) --shell

# ---------------------------------------------------------------- the course
# docs/course.md.  Labs are cut from the sources by their LAB() markers
# (scripts/lab.sh); make grade builds a tree's module and runs the tests
# labs/weights names in the VM (scripts/grade.sh).
.PHONY: lab grade grade-kernel check-labs check-labs-kernel
lab:
	@case "$(LAB)" in \
	"") echo "make lab LAB=list, or make lab LAB=NAME LAB_OUT=DIR" >&2; exit 2 ;; \
	list) scripts/lab.sh list ;; \
	*) test -n "$(LAB_OUT)" || { echo "make lab LAB=$(LAB) LAB_OUT=DIR (a directory, or DIR.tar.gz)" >&2; exit 2; }; \
	   scripts/lab.sh make "$(LAB)" "$(LAB_OUT)" ;; \
	esac

SUBMISSION ?= $(CURDIR)
RESULTS ?= results.json
grade: deps
	@$(MAKE) --no-print-directory grade-kernel $(KERNEL_VARS)

grade-kernel: lib tools selftests
	@scripts/grade.sh --kver $(KVER) --kdir $(KDIR) --submission "$(SUBMISSION)" --results "$(RESULTS)"

# Ends with "N passed, N failed" (scripts/tally.sh counts it in CI).
check-labs: deps
	@$(MAKE) --no-print-directory check-labs-kernel $(KERNEL_VARS)

check-labs-kernel: module lib tools selftests
	@scripts/check-labs.sh --kver $(KVER) --kdir $(KDIR)

# Style and static checks for the kernel code.
CHECKPATCH := $(CACHE)/checkpatch/checkpatch.pl

$(CHECKPATCH):
	@scripts/deps.sh linux-source-6.1
	@mkdir -p $(dir $@)
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C $(dir $@) --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch

checkpatch: $(CHECKPATCH)
	$(CHECKPATCH) --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f $(filter-out %.mod.c,$(wildcard kmod/*.c)) kmod/*.h include/uapi/linux/kipc.h \
		include/uapi/linux/kipc_stat.h

sparse:
	@mkdir -p $(CACHE)
	$(KBUILD) C=2 W=1 modules 2>&1 | tee $(CACHE)/sparse.log
	@! grep -E 'warning|error' $(CACHE)/sparse.log

lint: checkpatch sparse

clean:
	-$(KBUILD) clean
	-$(MAKE) -C lib clean
	-$(MAKE) -C compat clean
	-$(MAKE) -C selftests/kipc clean
	-$(MAKE) -C tools clean
	-$(MAKE) -C examples clean

# ---------------------------------------------------------------- installing
# README.md, "Installing".  PREFIX and DESTDIR as usual; the module goes
# where the kernel looks (INSTALL_MOD_PATH stages it), the udev rule where
# udev looks: udev reads /lib, /etc and /run, never PREFIX.
VERSION := $(shell cat VERSION)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /lib/udev/rules.d
INSTALL ?= install
MANPAGES := $(wildcard man/*.[1-8] tools/*.[1-8])
man_dest = $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(1)))/$(notdir $(1))

.PHONY: install uninstall install-man uninstall-man modules_install dkms-source dkms-install dkms-uninstall check-dkms

install: lib compat tools install-man
	$(MAKE) -C lib install
	$(MAKE) -C compat install
	$(MAKE) -C tools install
	$(INSTALL) -d $(DESTDIR)$(UDEVRULESDIR)
	$(INSTALL) -m 644 udev/60-kipc.rules $(DESTDIR)$(UDEVRULESDIR)/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

uninstall: uninstall-man
	$(MAKE) -C lib uninstall
	$(MAKE) -C compat uninstall
	$(MAKE) -C tools uninstall
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-kipc.rules

# Each kipc_* function a page names gets a one-line ".so" alias page, so
# that "man kipc_sem_post" works (scripts/man-aliases.sh).
install-man:
	$(foreach p,$(MANPAGES),$(INSTALL) -D -m 644 $(p) $(call man_dest,$(p)) &&) true
	scripts/man-aliases.sh $(MANPAGES) | while read -r alias page; do \
		echo ".so man3/$$page" >$(DESTDIR)$(MANDIR)/man3/$$alias || exit 1; \
		chmod 644 $(DESTDIR)$(MANDIR)/man3/$$alias; done

uninstall-man:
	rm -f $(foreach p,$(MANPAGES),$(call man_dest,$(p)))
	scripts/man-aliases.sh $(MANPAGES) | while read -r alias page; do \
		rm -f $(DESTDIR)$(MANDIR)/man3/$$alias; done

# The kernel's own modules_install: extra/kmod/kipc.ko.  It would sign with
# the kernel's build key, which distribution headers don't ship: without
# it the module goes unsigned (DKMS signs with its own key).  The kernel's
# depmod step needs a System.map that headers lack, so depmod runs here;
# a staging INSTALL_MOD_PATH has no modules.builtin and depmod says so.
modules_install:
	@test -f kmod/kipc.ko || { echo "build first: make module" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install \
		$(if $(wildcard $(KDIR)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=)
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER) \
		$(if $(wildcard $(INSTALL_MOD_PATH)/lib/modules/$(KVER)/modules.builtin),,2>/dev/null)

# DKMS: the module's sources alone, in /usr/src/kipc-VERSION (DKMS_SRCDIR).
DKMS_SRCDIR ?= /usr/src/kipc-$(VERSION)
DKMS_FILES := Kbuild VERSION dkms.conf include/uapi/linux/kipc.h \
	include/uapi/linux/kipc_stat.h kmod/Kbuild \
	$(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h)

dkms-source:
	rm -rf $(DKMS_SRCDIR)
	$(foreach f,$(DKMS_FILES),$(INSTALL) -D -m 644 $(f) $(DKMS_SRCDIR)/$(f) &&) true

# For the running kernel; DKMS_FLAGS="-k KVER" picks another (AUTOINSTALL
# builds for kernels installed later).
dkms-install: dkms-source
	dkms add kipc/$(VERSION) $(DKMS_FLAGS)
	dkms install kipc/$(VERSION) $(DKMS_FLAGS)

dkms-uninstall:
	dkms remove kipc/$(VERSION) --all
	rm -rf $(DKMS_SRCDIR)

# DKMS builds, installs and loads the module inside the VM (10-15 minutes
# under TCG, hence not part of make check).
# A kernel whose compiler the host lacks runs DKMS in its build root: the
# guest's user space is that root, with the headers and this tree bound in.
check-dkms: deps
	@scripts/deps.sh dkms
	@$(MAKE) --no-print-directory check-dkms-kernel $(KERNEL_VARS)

.PHONY: check-dkms-kernel
check-dkms-kernel: all
	$(VM) $(DKMS_ROOT) -- env KIPC_TESTS=dkms_test.sh KIPC_USERS=root KIPC_KDIR=$(KDIR) selftests/kipc/run_all.sh
DKMS_ROOT = $(shell set -- $$(scripts/kernel.sh buildroot $(KDIR)); [ $$# -eq 0 ] || \
	echo "--root $$(scripts/buildroot.sh $$1 $$2 dkms) --bind $$(realpath $(KDIR)/../../..)")
