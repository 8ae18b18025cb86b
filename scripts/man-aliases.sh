#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# man-aliases.sh PAGE... - print "ALIAS PAGE" for every kipc_* function a
# section 3 page names in its NAME section other than the page itself, so
# that "man kipc_sem_post" finds kipc_sem.3.  make install writes each alias
# as a one-line ".so man3/PAGE" page; the docs test checks that every
# function libkipc exports has a page or an alias.
for page in "$@"; do
	case $page in
	*.3) ;;
	*) continue ;;
	esac
	base=${page##*/}
	# The NAME section: from ".SH NAME" to the line with "\-".
	sed -n '/^\.SH NAME/,/\\-/p' "$page" | sed '1d; s/\\-.*//' |
		tr ', ' '\n' | grep '^kipc_[a-z_0-9]*$' |
		while read -r name; do
			[ "$name.3" = "$base" ] || echo "$name.3 $base"
		done
done
