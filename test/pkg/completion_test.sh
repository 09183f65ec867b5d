#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The bash completion (apps/uiommuctl/uiommuctl.bash) driven as bash would:
# COMP_WORDS / COMP_CWORD set, _uiommuctl called, COMPREPLY checked.  It
# completes objects, verbs and options from `uiommuctl --help` and the
# names of existing objects from the state (own --state, reset on exit).
#
#   completion_test.sh UIOMMUCTL SRCDIR
set -uo pipefail
CTL=$1 SRC=$2
STATE="comptest-$$"
FAILS=0
TMP=$(mktemp -d)
trap '"$CTL" --state "$STATE" reset >/dev/null 2>&1; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# shellcheck source=/dev/null
source "$SRC/apps/uiommuctl/uiommuctl.bash" || { echo "FAIL: cannot source"; exit 1; }
complete -p uiommuctl >/dev/null || fail "no 'complete' registration for uiommuctl"

# expect WORDS... :: WANT...: the completion of the last word is exactly WANT (any order).
expect() {
	local words=() want=() got
	while [ "$1" != :: ]; do words+=("$1"); shift; done
	shift
	want=("$@")
	COMP_WORDS=("$CTL" "${words[@]}")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_uiommuctl
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ')
	local w=$(printf '%s\n' "${want[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ')
	if [ "$got" = "$w" ]; then
		echo "ok: [${words[*]}] -> $got"
	else
		fail "[${words[*]}]: got '$got', want '$w'"
	fi
}
# contains WORDS... :: WANT...: every WANT is among the completions.
contains() {
	local words=() w
	while [ "$1" != :: ]; do words+=("$1"); shift; done
	shift
	COMP_WORDS=("$CTL" "${words[@]}")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_uiommuctl
	for w in "$@"; do
		# (a here-string, not a pipe: under pipefail grep -q's early exit
		# could fail printf with SIGPIPE)
		grep -qxF -- "$w" <<<"$(printf '%s\n' "${COMPREPLY[@]}")" ||
			fail "[${words[*]}]: '$w' not among: ${COMPREPLY[*]}"
	done
	echo "ok: [${words[*]}] has $*"
}

# Objects and verbs: every one --help lists.
objs=$("$CTL" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' | sort -u)
# shellcheck disable=SC2086
expect "" :: $objs
expect io :: ioas
expect ioas "" :: create destroy list show map unmap attach detach
expect state "" :: users check
expect --mo :: --model
contains --model "" :: vtd
contains "" --ver :: --version
# Options of a command (from `uiommuctl ioas map --help`) and the globals.
contains ioas map x --i :: --iova
contains ioas map x -- :: --alloc --phys --len --hugefile --memzone --iova --prot --json --state
expect apply x --d :: --dry-run
expect ioas map x --alloc 4K --prot "" :: r w rw
# Before the state exists: no names, and asking does not create it.
expect --state "$STATE" ioas attach "" ::
[ ! -e "/dev/shm/uiommu-$(id -u)/$STATE" ] && echo "ok: completion created no state" ||
	fail "completion created state $STATE"

# Objects of the state, by name (unnamed: by ID).
"$CTL" --model vtd --state "$STATE" unit list >/dev/null || { fail "model state"; exit 1; }
"$CTL" --state "$STATE" ioas create --name dma0 >/dev/null &&
	"$CTL" --state "$STATE" ioas create --name dma1 >/dev/null &&
	"$CTL" --state "$STATE" ioas create >"$TMP/anon" &&
	"$CTL" --state "$STATE" device add 1 00:03.0 --name nic >/dev/null &&
	"$CTL" --state "$STATE" device add 1 00:04.0 --name nvme >/dev/null ||
	{ fail "setting up objects"; exit 1; }
anon=$(awk '{ print $2 }' "$TMP/anon")
contains --state "${STATE%-*}" :: "$STATE"
expect --state "$STATE" ioas attach "" :: dma0 dma1 "$anon"
expect --state "$STATE" ioas attach dma0 "" :: nic nvme
expect --state "$STATE" ioas attach dma0 n :: nic nvme
expect --state "$STATE" ioas attach dma0 --pasid 1 nv :: nvme
expect --state "$STATE" ioas show d :: dma0 dma1
expect --state "$STATE" device add "" :: 1
expect --state "$STATE" -j walk "" :: nic nvme
expect --state "$STATE" ioas unmap dma0 "" ::
# --model vtd --state S: the state S; UIOMMUCTL_STATE when no --state.
UIOMMUCTL_STATE=$STATE expect device show "" :: nic nvme
# Files for FILE / LAYOUT placeholders.
touch "$TMP/net.layout"
expect apply "$TMP/net." :: "$TMP/net.layout"
expect show --svg "$TMP/net." :: "$TMP/net.layout"

[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
