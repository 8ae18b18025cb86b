#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check.sh - make check, once the kernel is known: the harness's own tests on
# the host (scripts/check-harness.sh), then the suite in the VM (the command
# given), then one line for both: "N passed, N failed, N skipped".  A VM
# that reports a kernel problem or dies counts as a failure even when every
# test passed.
#
# Usage: scripts/check.sh VM-COMMAND...
#   KIPC_CHECK_HARNESS=0  skip the harness's tests (make check-clients)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

if [[ ${KIPC_CHECK_HARNESS:-1} == 0 ]]; then
	echo "0 passed, 0 failed" >"$logs/harness.log"
else
	"$here/check-harness.sh" 2>&1 | tee "$logs/harness.log"
fi
"$@" 2>&1 | tee "$logs/suite.log"
vm=${PIPESTATUS[0]}
if [[ $vm -ne 0 ]] && ! grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' "$logs/suite.log"; then
	# The tests passed (or never reported), but the run did not: vm.sh's
	# status says why (kernel log, unload, crash, time-out).
	echo "0 passed, 1 failed (the VM run ended with status $vm)" >"$logs/vm.log"
else
	echo "0 passed, 0 failed" >"$logs/vm.log"
fi
"$here/tally.sh" "$logs/harness.log" "$logs/suite.log" "$logs/vm.log"
