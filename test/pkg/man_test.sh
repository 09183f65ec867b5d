#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The man pages against the code they describe.
#
#   man_test.sh commands UIOMMUCTL SRCDIR
#     Every command of `uiommuctl --help` (OBJECT [VERB]) has an entry
#     "*OBJECT VERB*" under COMMANDS in docs/man/uiommuctl.8.scd, every
#     option of --help (global or of a command) appears as "*--option*",
#     and every entry under COMMANDS is a command --help lists; the
#     commands of EXAMPLES run (on the VT-d model, in an own state).
#   man_test.sh layout UIOMMUCTL SRCDIR
#     Every statement and field the layout parser (apps/uiommuctl/layout.c)
#     knows appears in docs/man/uiommu-layout.5.scd, and the page's
#     example applies on the VT-d model (then applies again as a no-op).
set -uo pipefail
mode=$1 CTL=$2 SRC=$3
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

case_commands() {
	local page=$SRC/docs/man/uiommuctl.8.scd help cmds entries c o
	help=$("$CTL" --help) || { fail "uiommuctl --help"; return; }
	# "OBJECT [VERB]": the first word, and the second when it is a verb.
	cmds=$(printf '%s\n' "$help" | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
		on { print $1 ($2 ~ /^[a-z][a-z-]*$/ ? " " $2 : "") }')
	[ "$(printf '%s\n' "$cmds" | wc -l)" -ge 10 ] || fail "too few commands parsed from --help: $cmds"
	# The entries under "# COMMANDS": lines that start with *WORD[ WORD]*.
	entries=$(awk '/^# COMMANDS/ { on = 1; next } /^# / { on = 0 }
		on && /^\*[a-z]/ { s = $0; sub(/^\*/, "", s); sub(/\*.*$/, "", s); print s }' "$page")
	while IFS= read -r c; do
		# (here-strings, not pipes: under pipefail grep -q's early exit can fail
		# the writer with SIGPIPE, a flake seen under load)
		if grep -qxF -- "$c" <<<"$entries"; then
			echo "ok: command '$c' in uiommuctl(8)"
		else
			fail "command '$c' (uiommuctl --help) has no entry '*$c*' under COMMANDS in $page"
		fi
	done <<<"$cmds"
	while IFS= read -r c; do
		grep -qxF -- "$c" <<<"$cmds" ||
			fail "uiommuctl(8) describes '$c', which uiommuctl --help does not list"
	done <<<"$entries"
	# Every option --help mentions, as *--option* (or *-j*).
	for o in $(printf '%s\n' "$help" | grep -oE -- '(^|[^a-z-])--?[a-z][a-z-]*' |
		   grep -oE -- '--?[a-z][a-z-]*' | sort -u); do
		case "$o" in -[a-z][a-z]*) continue ;; esac # "-include"-like words are no options
		if grep -qF -- "*$o*" "$page"; then
			echo "ok: option $o in uiommuctl(8)"
		else
			fail "option $o (uiommuctl --help) is not in $page as *$o*"
		fi
	done
}

# The EXAMPLES of uiommuctl(8) run as written (on the model, in an own
# state): each line succeeds, except those marked "# blocked", which must fail.
case_examples() {
	local page=$SRC/docs/man/uiommuctl.8.scd state="manex-$$" line cmd n=0
	trap '"$CTL" --state "$state" reset >/dev/null 2>&1' RETURN
	while IFS= read -r line; do
		cmd=${line%%#*}
		set -- $cmd
		[ "${1-}" = uiommuctl ] || continue
		shift
		n=$((n + 1))
		if "$CTL" --state "$state" "$@" >/dev/null 2>&1; then
			case "$line" in *"# blocked"*) fail "example '$line' succeeded" ;; *) echo "ok: $line" ;; esac
		else
			case "$line" in *"# blocked"*) echo "ok (refused): $line" ;; *) fail "example '$line' failed" ;; esac
		fi
	done < <(awk '/^# EXAMPLES/ { on = 1 } /^# SEE ALSO/ { on = 0 } on' "$page")
	[ "$n" -ge 5 ] || fail "only $n example commands found in $page"
}

case_layout() {
	local page=$SRC/docs/man/uiommu-layout.5.scd parser=$SRC/apps/uiommuctl/layout.c w
	local state="mantest-$$" tmp
	for w in $(grep -oE 'strcmp\(t\[0\], "[a-z-]+"\)' "$parser" | grep -oE '"[a-z-]+"' | tr -d '"'); do
		grep -qE -- "^\*$w\*" "$page" && echo "ok: statement $w" ||
			fail "layout statement '$w' (layout.c) has no entry '*$w*' in $page"
	done
	for w in $(grep -oE 'kv\(t\[[0-9a-z]+\], "[a-z-]+"\)' "$parser" | grep -oE '"[a-z-]+"' | tr -d '"' | sort -u); do
		grep -qF -- "*$w=*" "$page" && echo "ok: field $w=" ||
			fail "layout field '$w=' (layout.c) is not in $page as *$w=*"
	done
	for w in alloc rw r w; do
		grep -qF -- "*$w*" "$page" || fail "layout flag '$w' is not in $page"
	done
	tmp=$(mktemp -d)
	trap '"$CTL" --state "$state" reset >/dev/null 2>&1; rm -rf "$tmp"' RETURN
	# The first ``` block of EXAMPLE.
	awk '/^# EXAMPLE/ { on = 1 } on && /^```/ { if (in_) exit; in_ = 1; next } in_ { print }' \
		"$page" >"$tmp/example.layout"
	[ -s "$tmp/example.layout" ] || { fail "no example in $page"; return; }
	"$CTL" --model vtd --state "$state" unit list >/dev/null || { fail "model state"; return; }
	"$CTL" --state "$state" apply "$tmp/example.layout" --dry-run || fail "example: --dry-run"
	"$CTL" --state "$state" apply "$tmp/example.layout" >"$tmp/out" ||
		{ fail "the example of uiommu-layout(5) does not apply"; return; }
	grep -q "applied" "$tmp/out" || fail "example: $(cat "$tmp/out")"
	"$CTL" --state "$state" apply "$tmp/example.layout" >"$tmp/out" || fail "example: second apply"
	grep -q "nothing to do" "$tmp/out" && echo "ok: example applies, then is a no-op" ||
		fail "example: second apply changed something: $(cat "$tmp/out")"
}

case "$mode" in
commands) case_commands; case_examples ;;
layout) case_layout ;;
*) echo "man_test.sh: unknown case $mode" >&2; exit 2 ;;
esac
[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
