#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tally.sh - sum the "N passed, N failed[, N skipped]" lines of test logs
# into one such line.  A log without one counts as one failure (its stage
# ended before it could report).  Exit status 1 if anything failed.
#
# Usage: scripts/tally.sh LOG...
passed=0 failed=0 skipped=0
for log in "$@"; do
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null | tail -n 1)
	if [ -z "$line" ]; then
		echo "tally: $log has no \"N passed, N failed\" line: counted as 1 failed" >&2
		failed=$((failed + 1))
		continue
	fi
	# shellcheck disable=SC2046 # three numbers
	set -- $(echo "$line" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/')
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + ${3:-0}))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
