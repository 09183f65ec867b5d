#!/usr/bin/env bash
# uiommuctl object verbs on the VT-d model, driven as a user would.
# Usage: cli_test.sh PATH/TO/uiommuctl CASE
# Every case uses its own state name and resets it on exit.
set -uo pipefail
CTL=$1
CASE=$2
STATE="clitest-$CASE-$$"
SHM=/dev/shm/uiommu-$(id -u)/$STATE
TMP=$(mktemp -d)
FAILS=0
BG=

cleanup() {
	[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null
	"$CTL" --state "$STATE" reset >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

ctl() { "$CTL" --state "$STATE" "$@"; }
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
ok() { echo "ok: $*"; }
# expect RC DESCRIPTION -- CMD...: run, check the exit status.
expect() {
	local want=$1 what=$2
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$what: exit $rc, expected $want; stderr: $(cat "$TMP/err")"
		return 1
	fi
	ok "$what"
}
# jq-like: python expression over the parsed JSON on stdin (variable j).
jpy() { python3 -c "import json,sys; j=json.load(sys.stdin); $1"; }
grep_err() {
	if grep -q -- "$1" "$TMP/err"; then ok "message: $1"; else
		fail "stderr lacks '$1': $(cat "$TMP/err")"
	fi
}

setup_basic() {
	expect 0 "create model state" -- ctl --model vtd unit list
	expect 0 "ioas create" -- ctl ioas create --name dma0
	expect 0 "device add" -- ctl device add 1 00:03.0 --name nic --pasid-bits 8
	expect 0 "attach" -- ctl ioas attach dma0 nic
	expect 0 "map --alloc fixed" -- ctl ioas map dma0 --alloc 2M --iova 0x200000
}

case_persist() {
	setup_basic
	[ -e "$SHM" ] && ok "state file exists" || fail "no $SHM"
	# Every command above was its own process: the state is all there.
	ctl -j ioas list | jpy 'a=j[0]; assert a["name"]=="dma0" and a["areas"]==1 and a["mapped"]==2<<20, a; assert a["users"][0]["device"]>0' &&
		ok "ioas persisted" || fail "ioas list"
	ctl -j device show nic | jpy 'assert j["bdf"]=="00:03.0" and j["hw_id"]==0x18 and j["pasid_bits"]==8 and len(j["attached"])==1, j' &&
		ok "device persisted" || fail "device show"
	expect 0 "map chosen IOVA" -- ctl ioas map dma0 --alloc 64K --prot r
	ctl -j ioas show dma0 | jpy 'assert len(j["mappings"])==2 and any(m["prot"]=="r" for m in j["mappings"]), j' &&
		ok "two mappings" || fail "ioas show"
	ctl -j hwpt list | jpy 'assert len(j)==1 and j[0]["installed"][0]["unit"]==1, j' && ok "hwpt installed" || fail "hwpt list"
	expect 0 "PASID attach" -- ctl ioas attach dma0 nic --pasid 3
	expect 0 "PASID detach" -- ctl ioas detach dma0 nic --pasid 3
	expect 0 "unmap" -- ctl ioas unmap dma0 0x200000
	expect 0 "detach" -- ctl ioas detach dma0 nic
	expect 0 "ioas destroy" -- ctl ioas destroy dma0
	expect 0 "device remove" -- ctl device remove nic
	ctl -j ioas list | jpy 'assert j==[], j' && ok "all gone" || fail "leftovers"
}

case_dma() {
	setup_basic
	expect 0 "DMA write" -- ctl dma nic 0x200000 64 --write --pattern 0x5a
	ctl -j dma nic 0x200010 16 --read | jpy 'assert j["data"]=="5a"*16, j' && ok "DMA read back" || fail "read back"
	expect 0 "walk mapped" -- ctl -j walk nic 0x200000
	jpy 'assert j["verdict"].startswith("translates") and j["levels"][-1]["leaf"], j' <"$TMP/out" && ok "walk translates" || fail "walk"
	expect 0 "unmap" -- ctl ioas unmap dma0 0x200000
	expect 1 "DMA after unmap is blocked" -- ctl dma nic 0x200000 16 --read
	grep_err "blocked by the IOMMU"
	ctl -j faults | jpy 'assert len(j)==1 and j[0]["type"]=="fault" and j[0]["addr"]=="0x200000" and j[0]["bdf"]=="00:03.0" and j[0]["reason_text"], j' &&
		ok "fault reported" || fail "faults"
	# The history keeps it: shown again, under the same sequence number.
	ctl -j faults | jpy 'assert len(j)==1 and j[0]["seq"]==1 and j[0]["addr"]=="0x200000", j' &&
		ok "fault kept in the history" || fail "history"
	expect 1 "second blocked DMA" -- ctl dma nic 0x200000 16 --write
	ctl -j faults | jpy 'assert [e["seq"] for e in j]==[1,2] and "write" in j[1]["access"], j' &&
		ok "history in order, new event numbered 2" || fail "history after a second fault"
	# --follow: the history first, then what comes, whoever drains it.
	start_follower "$TMP/follow" || fail "follower not started"
	expect 1 "third blocked DMA" -- ctl dma nic 0x200000 16 --read
	ctl faults >/dev/null 2>&1 # drains it, unless the follower was first
	for _ in $(seq 1 100); do
		[ "$(grep -c ' at 0x200000: ' "$TMP/follow")" -ge 3 ] && break
		sleep 0.05
	done
	kill "$BG"
	wait "$BG" 2>/dev/null
	BG=
	[ "$(grep -c ' at 0x200000: ' "$TMP/follow")" -eq 3 ] &&
		ok "--follow: the kept events and the new one, each once" ||
		fail "follow: $(cat "$TMP/follow")"
	ctl -j walk nic 0x200000 | jpy 'assert j["verdict"].startswith("faults"), j' && ok "walk explains the fault" || fail "walk after unmap"
	expect 0 "detach" -- ctl ioas detach dma0 nic
	ctl -j walk nic 0x200000 | jpy 'assert j["verdict"].startswith("blocked"), j' && ok "walk: detached" || fail "walk detached"
}

# Wait until background process $1 has the state open (`state users`
# lists it).  0 then; 2 when it exited first; 1 on time-out.
wait_user() {
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 2
		ctl -j state users 2>/dev/null | grep -qw "$1" && return 0
		sleep 0.05
	done
	return 1
}

# Start a "faults --follow" poller in the background (BG = its pid), output
# to $1.
start_follower() {
	"$CTL" --state "$STATE" faults --follow >"$1" 2>&1 &
	BG=$!
	wait_user "$BG"
}

case_kill9() {
	setup_basic
	expect 0 "DMA write" -- ctl dma nic 0x200000 4096 --write --pattern 0x77
	ctl -j ioas list >"$TMP/before"
	start_follower "$TMP/follow" && ok "follower has the state open (state users)" || fail "follower not listed"
	# Commands run beside the follower (one lock, taken per call).
	expect 0 "map while a follower polls" -- ctl ioas map dma0 --alloc 4K --iova 0x800000
	expect 0 "unmap while a follower polls" -- ctl ioas unmap dma0 0x800000
	kill -9 "$BG"
	wait "$BG" 2>/dev/null
	BG=
	# The next command re-adopts; nothing was remapped.
	expect 0 "adopt after kill -9" -- ctl -j ioas list
	diff -u "$TMP/before" "$TMP/out" >/dev/null && ok "mappings intact" || fail "mappings changed: $(diff "$TMP/before" "$TMP/out")"
	ctl -j dma nic 0x200ff0 16 --read | jpy 'assert j["data"]=="77"*16, j' && ok "translation still works" || fail "DMA after adopt"
	# A clean stop (SIGTERM) of a follower also hands the state back.
	start_follower "$TMP/follow2" || fail "second follower"
	kill -TERM "$BG"
	wait "$BG"
	rc=$?
	BG=
	[ $rc = 0 ] && ok "follower exits 0 on SIGTERM" ||
		fail "follower rc $rc; its output: $(tail -c 2000 "$TMP/follow2")"
	expect 0 "command after SIGTERM" -- ctl ioas list
}

case_badinput() {
	setup_basic
	ctl -j ioas list >"$TMP/before"
	expect 1 "unknown device" -- ctl ioas attach dma0 nosuchdev
	grep_err "no device 'nosuchdev'"
	expect 1 "unknown device by BDF" -- ctl walk 00:1f.7 0x1000
	expect 1 "unknown IOAS" -- ctl ioas map 42 --alloc 4K
	expect 1 "overlapping window" -- ctl ioas map dma0 --alloc 4K --iova 0x201000
	grep_err "overlaps"
	expect 1 "misaligned size" -- ctl ioas map dma0 --alloc 5000 --iova 0x800000
	grep_err "misaligned"
	expect 1 "misaligned IOVA" -- ctl ioas map dma0 --alloc 4K --iova 0x800010
	expect 1 "reserved range (MSI window)" -- ctl ioas map dma0 --alloc 4K --iova 0xfee00000
	expect 1 "unmap that cuts a mapping" -- ctl ioas unmap dma0 0x200000 4K
	expect 1 "double attach" -- ctl ioas attach dma0 nic
	expect 1 "destroy attached IOAS" -- ctl ioas destroy dma0
	expect 1 "duplicate device ID" -- ctl device add 1 00:09.0 --id 0x18
	grep_err "already has a device with ID 0x18"
	expect 1 "duplicate PCI address" -- ctl device add 1 00:03.0 --id 0x99
	grep_err "device 00:03.0 exists already"
	expect 1 "memzone on a model" -- ctl ioas map dma0 --memzone mz0@nosuchapp --len 4K
	grep_err "memzone needs the hardware state"
	expect 1 "hugefile on a model" -- ctl ioas map dma0 --hugefile /dev/hugepages/x --len 2M
	expect 1 "phys outside buffers on a model" -- ctl ioas map dma0 --phys 0x1000 --len 4K
	expect 2 "bad number" -- ctl ioas map dma0 --alloc lots
	expect 2 "bad BDF" -- ctl device add 1 zz:99
	expect 2 "unknown verb" -- ctl ioas frobnicate
	expect 2 "missing args" -- ctl walk nic
	expect 2 "unknown model" -- "$CTL" --state "$STATE-x" --model foo unit list
	[ -e "/dev/shm/uiommu-$(id -u)/$STATE-x" ] && fail "state created for a bad model" || ok "no state for a bad model"
	expect 1 "no state" -- "$CTL" --state "$STATE-none" ioas list
	grep_err "no state"
	[ -e "/dev/shm/uiommu-$(id -u)/$STATE-none" ] && fail "state created" || ok "nothing created"
	expect 0 "list after errors" -- ctl -j ioas list
	diff -u "$TMP/before" "$TMP/out" >/dev/null && ok "nothing changed" || fail "state changed by bad input"
	for v in "unit list" "unit show" "unit add" "device list" "device show" "device add" \
		"device remove" "ioas create" "ioas destroy" "ioas list" "ioas show" "ioas map" \
		"ioas unmap" "ioas attach" "ioas detach" "hwpt list" "hwpt show" walk dma faults \
		apply show reset; do
		# shellcheck disable=SC2086
		"$CTL" $v --help >/dev/null 2>&1 || fail "$v --help"
	done
	ok "--help on every verb"
}

case_apply() {
	expect 0 "create model state" -- ctl --model vtd unit list
	cat >"$TMP/layout" <<-'LAYOUT'
		# two devices, two address spaces
		device nic unit=1 bdf=00:03.0 id=0x18 pasid-bits=8
		device gpu unit=1 bdf=00:04.0
		ioas net
		ioas gfx
		window net iova=0x100000 len=2M alloc rw
		window net iova=0x400000 len=64K alloc r
		window gfx iova=0x10000000 len=1M alloc
		attach nic net
		attach gpu gfx
		attach nic gfx pasid=5
	LAYOUT
	expect 0 "apply" -- ctl apply "$TMP/layout"
	ctl -j ioas list >"$TMP/after1"
	jpy 'assert [a["name"] for a in j]==["net","gfx"] and j[0]["areas"]==2 and len(j[1]["users"])==2, j' <"$TMP/after1" &&
		ok "layout in place" || fail "layout: $(cat "$TMP/after1")"
	expect 0 "apply again" -- ctl -j apply "$TMP/layout"
	jpy 'assert j["changed"]==0 and j["unchanged"]==10, j' <"$TMP/out" && ok "second apply changes nothing" || fail "not idempotent: $(cat "$TMP/out")"
	ctl -j ioas list >"$TMP/after2"
	diff -u "$TMP/after1" "$TMP/after2" >/dev/null && ok "state identical" || fail "state changed"
	expect 0 "DMA through the layout" -- ctl dma nic 0x100000 16 --write
	expect 0 "DMA through a PASID" -- ctl dma nic 0x10000000 16 --write --pasid 5
	# Malformed files: file:line message, nothing changed.
	bad() { # NAME LINE CONTENT
		printf '%b' "$3" >"$TMP/$1"
		expect 1 "malformed layout: $1" -- ctl apply "$TMP/$1"
		grep_err "$TMP/$1:$2:"
		ctl -j ioas list >"$TMP/cmp"
		diff -u "$TMP/after1" "$TMP/cmp" >/dev/null && ok "$1: nothing changed" || fail "$1 changed the state"
	}
	bad unknown-stmt 2 'ioas x\nfrob nic\n'
	bad missing-field 2 'ioas x\nwindow x iova=0x1000 alloc\n'
	bad misaligned 3 'ioas x\n# comment\nwindow x iova=0x1000 len=5000 alloc\n'
	bad overlap-file 3 'ioas x\nwindow x iova=0x1000 len=8K alloc\nwindow x iova=0x2000 len=4K alloc\n'
	bad overlap-state 2 'ioas x\nwindow net iova=0x200000 len=4K alloc\n'
	bad unknown-dev 2 'ioas x\nattach nosuch x\n'
	bad conflict 1 'device nic unit=1 bdf=00:05.0\n'
	bad elsewhere 3 'ioas x\nwindow x iova=0x1000 len=4K alloc\nattach gpu x\n'
	bad bad-number 1 'window net iova=zz len=4K alloc\n'
	# Fails only when applied (reserved MSI window vs. the new mapping):
	# everything this apply did is undone.
	bad rollback 3 'ioas y\nwindow y iova=0xfee00000 len=4K alloc\nattach nic y pasid=7\n'
	grep_err "undone, nothing changed"
	expect 1 "missing layout file" -- ctl apply "$TMP/nonexistent"
}

case_json() {
	setup_basic
	expect 0 "dma" -- ctl dma nic 0x200000 16 --write
	for v in "unit list" "unit show 1" "device list" "device show nic" "ioas list" \
		"ioas show dma0" "hwpt list" "hwpt show 4" "hwpt show 4 --all" "walk nic 0x200000" \
		"faults" "dma nic 0x200000 16 --read" "ioas create --name j2" \
		"ioas map j2 --alloc 4K" "ioas unmap j2 --all"; do
		# shellcheck disable=SC2086
		if ctl -j $v | python3 -c 'import json,sys; json.load(sys.stdin)' 2>"$TMP/err"; then
			ok "JSON: $v"
		else
			fail "JSON does not parse: $v: $(cat "$TMP/err")"
		fi
	done
	ctl -j unit show 1 | jpy 'assert j["registers"]["cap"]["SAGAW"] and j["registers"]["ecap"]["QI"], j' && ok "registers decoded" || fail "registers"
}

case_reset() {
	setup_basic
	ctl dma nic 0x200000 16 --read >/dev/null
	expect 0 "reset" -- ctl reset
	[ -e "$SHM" ] && fail "state file left in /dev/shm" || ok "nothing left in /dev/shm"
	ls /dev/shm/uiommu-$(id -u) 2>/dev/null | grep -q "$STATE" && fail "something left: $(ls /dev/shm)" || ok "no file of this state"
	expect 1 "commands after reset find no state" -- ctl ioas list
	expect 1 "reset without a state" -- ctl reset
	# reset refuses while another process has the state open.
	setup_basic
	start_follower /dev/null || fail "no follower"
	expect 1 "reset refused while in use" -- ctl reset
	grep_err "in use by process $BG"
	kill -9 "$BG"
	wait "$BG" 2>/dev/null
	BG=
	expect 0 "reset after the user died" -- ctl reset
	[ -e "$SHM" ] && fail "state file left" || ok "nothing left after adopt+reset"
	# A model state that failed to come up leaves nothing either.
	expect 1 "bad model config" -- "$CTL" --state "$STATE" --model vtd:nosuchkey=1 unit list
	[ -e "$SHM" ] && fail "state left by a failed create" || ok "failed create leaves nothing"
}

case_show() {
	setup_basic
	expect 0 "show --svg" -- ctl show --svg "$TMP/a.svg"
	python3 -c "import xml.dom.minidom as m,sys; d=m.parse(sys.argv[1]); assert d.documentElement.tagName=='svg'" "$TMP/a.svg" &&
		ok "SVG parses" || fail "SVG"
	grep -q "0x200000" "$TMP/a.svg" && ok "SVG shows the mapping" || fail "SVG lacks the mapping"
	expect 0 "show --dot" -- ctl show --dot
	grep -q "digraph" "$TMP/out" && grep -q 'dev[0-9]* -> ioas' "$TMP/out" && ok "DOT graph with device edge" || fail "DOT: $(cat "$TMP/out")"
	expect 2 "show needs a format" -- ctl show
}

# Several processes on one state at once, kill -9 among them: four workers
# map, unmap, add/attach/detach/remove devices; one follower polls faults;
# every so often a worker's running command is killed -9.  Afterwards the
# state checks clean, every listed mapping is DMA-able, and every IOVA the
# workers used that is not listed faults.
case_stress() {
	local secs=${UIOMMU_STRESS_SECS:-30} w kills=0 pids=() slots=16
	[ -n "${UIOMMU_TEST_QUICK:-}" ] && secs=${UIOMMU_STRESS_SECS:-6}
	setup_basic
	start_follower "$TMP/follow" || fail "no follower"
	local end=$(($(date +%s) + secs))
	for w in 1 2 3 4; do
		printf 'ioas w%s\nwindow w%s iova=0x100000 len=8K alloc rw\n' "$w" "$w" >"$TMP/l$w"
		(
			# Each worker owns its IOVAs: the last map or unmap of each that
			# finished says what must be there (a killed one: either).
			i=0
			while [ "$(date +%s)" -lt "$end" ]; do
				iova=$((0x10000000 + w * 0x1000000 + (RANDOM % slots) * 0x1000))
				case $((RANDOM % 6)) in
				0 | 1) ctl --wait 60 ioas map dma0 --alloc 4K --iova "$iova"
					r=$?; [ $r = 0 ] && echo "$iova M" || { [ $r -gt 128 ] && echo "$iova ?"; } ;;
				2 | 3) ctl --wait 60 ioas unmap dma0 "$iova"
					r=$?; [ $r = 0 ] && echo "$iova U" || { [ $r -gt 128 ] && echo "$iova ?"; } ;;
				4) ctl --wait 60 device add 1 "00:1$w.0" --name "dev$w" &&
					ctl --wait 60 ioas attach dma0 "dev$w" &&
					ctl --wait 60 ioas detach dma0 "dev$w" &&
					ctl --wait 60 device remove "dev$w" ;;
				5) ctl --wait 60 apply "$TMP/l$w" && ctl --wait 60 ioas destroy "w$w" ;;
				esac >>"$TMP/last$w" 2>/dev/null
				i=$((i + 1))
			done
			echo "$i" >"$TMP/ops$w"
		) >/dev/null 2>&1 &
		pids+=($!)
	done
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep "0.$((RANDOM % 5 + 1))"
		w=${pids[$((RANDOM % 4))]}
		[ -n "${UIOMMU_STRESS_NOKILL:-}" ] && continue
		if pkill -9 -P "$w" -x uiommuctl 2>/dev/null; then kills=$((kills + 1)); fi
	done
	wait "${pids[@]}"
	kill -TERM "$BG"
	wait "$BG"
	BG=
	local ops=0
	for w in 1 2 3 4; do ops=$((ops + $(cat "$TMP/ops$w" 2>/dev/null || echo 0))); done
	echo "stress: $ops worker commands in ${secs}s, $kills killed -9"
	[ "$ops" -gt 20 ] && ok "workers ran ($ops commands)" || fail "workers barely ran ($ops)"
	expect 0 "state check after the stress" -- ctl state check
	# Devices a worker left half-way: whatever is listed must be whole.
	ctl -j ioas show dma0 >"$TMP/dma0" || fail "ioas show"
	local bad=0 good=0 faulted=0 lost=0 ghost=0
	for w in 1 2 3 4; do
		for k in $(seq 0 $((slots - 1))); do
			iova=$((0x10000000 + w * 0x1000000 + k * 0x1000))
			hex=$(printf '0x%x' "$iova")
			want=$(awk -v a="$iova" '$1 == a { s = $2 } END { print s }' "$TMP/last$w" 2>/dev/null)
			if jpy "import sys; sys.exit(0 if any(m['iova']=='$hex' for m in j['mappings']) else 1)" <"$TMP/dma0"; then
				[ "$want" = U ] && ghost=$((ghost + 1))
				ctl dma nic "$hex" 16 --read >/dev/null 2>&1 && good=$((good + 1)) || bad=$((bad + 1))
			else
				[ "$want" = M ] && lost=$((lost + 1))
				ctl dma nic "$hex" 16 --read >/dev/null 2>&1 && bad=$((bad + 1)) || faulted=$((faulted + 1))
			fi
		done
	done
	[ "$bad" = 0 ] && ok "listed mappings DMA-able ($good), the rest fault ($faulted)" ||
		fail "$bad IOVAs disagree with the listing (good $good, faulted $faulted)"
	[ "$lost" = 0 ] && [ "$ghost" = 0 ] && ok "every finished map is listed, every finished unmap gone" ||
		fail "$lost finished maps missing, $ghost finished unmaps still listed"
	for w in 1 2 3 4; do
		ctl ioas show "w$w" >/dev/null 2>&1 && { ctl -j ioas show "w$w" | jpy 'assert j["areas"] == 1, j' ||
			fail "apply's ioas w$w is not whole"; }
	done
	ok "apply's address spaces: whole or absent"
}

# kill -9 in the middle of an apply of 1020 windows: all or nothing.
case_applykill() {
	local f="$TMP/big.layout" i rounds=${UIOMMU_APPLYKILL_ROUNDS:-6} n all=0 none=0
	{
		echo "ioas big"
		for i in $(seq 0 1019); do
			printf 'window big iova=0x%x len=4K alloc rw\n' $((0x1000000 + i * 0x2000))
		done
	} >"$f"
	expect 0 "create model state" -- ctl --model vtd unit list
	for r in $(seq 1 "$rounds"); do
		ctl apply "$f" >/dev/null 2>&1 &
		local pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		n=$(ctl -j ioas list | jpy 'print(sum(x["areas"] for x in j if x["name"]=="big"))' 2>/dev/null || echo 0)
		case "$n" in
		1020) all=$((all + 1)) ;;
		0) none=$((none + 1)) ;;
		*) fail "round $r: $n of 1020 windows after kill -9" ;;
		esac
		expect 0 "round $r: state check" -- ctl state check
		ctl ioas destroy big >/dev/null 2>&1
	done
	ok "apply killed -9 $rounds times: $all whole, $none rolled back"
}

# ---- bad input: a clear message, a non-zero exit, and nothing changed ----

# The state as the list verbs show it (units, devices, address spaces).
snap() {
	{
		ctl -j unit list
		ctl -j device list
		ctl -j ioas list
	} >"$TMP/$1" 2>&1
}
# refuse RC WHAT MESSAGE -- CMD...: exit RC, MESSAGE on stderr, and the
# state exactly as before.
refuse() {
	local want=$1 what=$2 msg=$3
	shift 4
	snap before-refuse
	expect "$want" "$what" -- "$@"
	grep_err "$msg"
	snap after-refuse
	if diff -u "$TMP/before-refuse" "$TMP/after-refuse" >"$TMP/diff"; then
		ok "$what: nothing changed"
	else
		fail "$what changed the state: $(cat "$TMP/diff")"
	fi
}
# layout NAME CONTENT: a layout file $TMP/NAME (printf %b escapes).
layout() { printf '%b' "$2" >"$TMP/$1"; }

case_input_names() {
	# A bad name on a fresh state: refused before the state is created.
	expect 2 "unit add --name 9bad (fresh state)" -- ctl --model vtd unit add --name 9bad
	grep_err "bad name '9bad': the first character must be a letter or '_'"
	[ -e "$SHM" ] && fail "a state was created for a refused unit add" || ok "no state created"
	setup_basic
	refuse 2 "unit add --name 9bad" "bad name '9bad'" -- ctl --model vtd unit add --name 9bad
	refuse 1 "unit add with a taken name" "an object named 'dma0' exists already" -- \
		ctl --model vtd unit add --name dma0
	refuse 2 "unit add --name ''" "bad name '': empty" -- ctl --model vtd unit add --name ""
	refuse 2 "ioas create --name ''" "bad name '': empty" -- ctl ioas create --name ""
	refuse 2 "ioas create --name=" "bad name '': empty" -- ctl ioas create --name=
	refuse 2 "device add --name ''" "bad name '': empty" -- ctl device add 1 00:09.0 --name ""
	refuse 2 "name that reads as a PCI address" "reads as a PCI address" -- \
		ctl ioas create --name ab:01.0
	refuse 2 "name with a blank" "only letters, digits" -- ctl ioas create --name "a b"
	refuse 2 "name of 32 characters" "longer than 31" -- \
		ctl ioas create --name abcdefghijklmnopqrstuvwxyz012345
	expect 0 "name of 31 characters" -- ctl ioas create --name abcdefghijklmnopqrstuvwxyz01234
	refuse 1 "device add with a taken name" "an object named 'nic' exists already" -- \
		ctl device add 1 00:09.0 --name nic
	# Model units: hardware options and garbage values are refused, not ignored.
	refuse 2 "model unit add --base zzz" "bad --base 'zzz'" -- ctl --model vtd unit add --base zzz
	refuse 2 "model unit add --base ADDR" "--base is for hardware units" -- \
		ctl --model vtd unit add --base 0xfed90000
	refuse 2 "model unit add --index 0" "--index is for hardware units" -- \
		ctl --model vtd unit add --index 0
	refuse 2 "model unit add --index -1" "bad --index '-1'" -- ctl --model vtd unit add --index -1
	refuse 2 "model unit add --index 1x" "bad --index '1x'" -- ctl --model vtd unit add --index 1x
	refuse 2 "model unit add --uio" "--uio is for hardware units" -- \
		ctl --model vtd unit add --uio /dev/uio0
	refuse 2 "model unit add --force" "--force is for hardware units" -- \
		ctl --model vtd unit add --force
	refuse 2 "--base and --index" "give one of --base or --index" -- \
		ctl unit add --base 0xfed90000 --index 0
	refuse 2 "--cfg contradicting --model" "contradicts --model vtd:smts=1" -- \
		ctl --model vtd:smts=1 unit add --cfg smts=0
	refuse 1 "--cfg garbage" "cannot add a model unit" -- ctl --model vtd unit add --cfg nosuchkey=1
	expect 0 "model unit add --cfg --name" -- ctl -j --model vtd unit add --cfg smts=0 --name u2
	jpy 'assert j["name"]=="u2" and not j["caps"]["scalable"], j' <"$TMP/out" &&
		ok "--cfg applied to the new unit" || fail "unit add --cfg: $(cat "$TMP/out")"
}

case_input_values() {
	setup_basic
	expect 0 "second mapping" -- ctl ioas map dma0 --alloc 4K --iova 0x40000000
	# Numbers: no sign, no blanks, nothing trailing, no overflow, in range.
	refuse 2 "negative size" "bad number" -- ctl ioas map dma0 --alloc -1
	refuse 2 "negative IOVA" "bad number" -- ctl ioas map dma0 --alloc 4K --iova -0x1000
	refuse 2 "IOVA with a leading blank" "bad number" -- ctl ioas map dma0 --alloc 4K --iova " 0x800000"
	refuse 2 "IOVA with trailing garbage" "bad number" -- ctl ioas map dma0 --alloc 4K --iova 0x800000zz
	refuse 2 "empty IOVA" "bad number" -- ctl ioas map dma0 --alloc 4K --iova ""
	refuse 2 "IOVA beyond 64 bits" "bad number" -- ctl ioas map dma0 --alloc 4K --iova 0x10000000000000000
	refuse 2 "size overflowing 64 bits" "bad number" -- ctl ioas map dma0 --alloc 17179869184G
	refuse 2 "--id beyond 32 bits" "bad --id '4294967296'" -- ctl device add 1 00:09.0 --id 4294967296
	refuse 2 "--pasid-bits -1" "bad --pasid-bits '-1'" -- ctl device add 1 00:09.0 --pasid-bits -1
	refuse 2 "--pasid-bits 21" "bad --pasid-bits '21'" -- ctl device add 1 00:09.0 --pasid-bits 21
	refuse 2 "--pasid 2^20" "bad --pasid '1048576'" -- ctl ioas attach dma0 nic --pasid 1048576
	refuse 2 "--pattern 256" "pattern" -- ctl dma nic 0x200000 16 --write --pattern 256
	refuse 2 "walk at -1" "bad IOVA" -- ctl walk nic -1
	refuse 1 "unit 2^32+1 is no unit 1" "no unit '4294967297'" -- ctl device add 4294967297 00:09.0
	# PCI addresses: [[SEG:]BUS:]DEV.FN, hex, in range, nothing around.
	for b in "00:06.0x" " 00:06.0" "00:06.0 " "00:20.0" "00:06.8" "100:06.0" "10000:00:06.0" \
		"0x0:06.0" "+0:06.0" "00:06" "00:06.0.0" "0:0:0:0.0" "00:-6.0" "" ":06.0"; do
		refuse 2 "bad BDF '$b'" "bad PCI address" -- ctl device add 1 "$b"
	done
	expect 0 "short BDF DEV.FN" -- ctl -j device add 1 1f.7
	jpy 'assert j["bdf"]=="00:1f.7", j' <"$TMP/out" && ok "1f.7 is 00:1f.7" || fail "short BDF: $(cat "$TMP/out")"
	expect 1 "segment 1 on a segment-0 unit" -- ctl device add 1 0001:00:06.2
	grep_err "is on segment 1"
	# One device per PCI address.
	refuse 1 "same BDF twice" "device 00:03.0 exists already (device" -- ctl device add 1 00:03.0 --id 0x99
	refuse 1 "same BDF, other spelling" "exists already" -- ctl device add 1 0000:00:03.0 --id 0x99
	# An option given twice is refused, whatever its values.
	refuse 2 "--name twice" "option --name given twice" -- ctl ioas create --name a --name b
	refuse 2 "--name= twice" "option --name given twice" -- ctl ioas create --name=a --name=a
	refuse 2 "--alloc twice" "option --alloc given twice" -- ctl ioas map dma0 --alloc 4K --alloc 8K
	refuse 2 "--alloc with --len" "--len is for --phys" -- ctl ioas map dma0 --alloc 4K --len 8K
	refuse 2 "--id twice" "option --id given twice" -- ctl device add 1 00:09.0 --id 1 --id 2
	refuse 2 "--read twice" "option --read given twice" -- ctl dma nic 0x200000 16 --read --read
	refuse 2 "--state twice" "option --state given twice" -- ctl --state other ioas list
	refuse 2 "--model twice" "option --model given twice" -- ctl --model vtd --model vtd ioas list
	refuse 2 "-j twice" "given twice" -- ctl -j --json ioas list
	refuse 2 "--all twice" "option --all given twice" -- ctl hwpt show 4 --all --all
	# unmap: aligned, not wrapping, and never more than the range named.
	refuse 1 "unmap unaligned IOVA and length" "misaligned" -- ctl ioas unmap dma0 0x1 0xfffffffffffffff
	refuse 1 "unmap unaligned length" "misaligned" -- ctl ioas unmap dma0 0x200000 0x1001
	refuse 1 "unmap unaligned IOVA" "misaligned" -- ctl ioas unmap dma0 0x200001
	refuse 1 "unmap wrapping range" "wraps around" -- ctl ioas unmap dma0 0xfffffffffffff000 0x2000
	refuse 2 "unmap length 0" "bad LEN" -- ctl ioas unmap dma0 0x200000 0
	refuse 2 "unmap IOVA and --all" "IOAS --all" -- ctl ioas unmap dma0 0x200000 --all
	refuse 1 "unmap range cutting a mapping" "removed whole" -- ctl ioas unmap dma0 0x200000 1M
	expect 0 "unmap exactly one mapping" -- ctl -j ioas unmap dma0 0x200000 2M
	jpy 'assert j["unmapped"]==2<<20, j' <"$TMP/out" && ok "unmapped 2 MiB only" || fail "unmap: $(cat "$TMP/out")"
	ctl -j ioas show dma0 | jpy 'assert [m["iova"] for m in j["mappings"]]==["0x40000000"], j' &&
		ok "the other mapping stays" || fail "unmap removed more than the range"
	refuse 1 "map wrapping IOVA range" "wraps around" -- ctl ioas map dma0 --alloc 8K --iova 0xfffffffffffff000
	refuse 1 "map wrapping address range" "wraps around" -- ctl ioas map dma0 --phys 0xfffffffffffff000 --len 8K
	refuse 1 "map unaligned IOVA" "misaligned" -- ctl ioas map dma0 --alloc 4K --iova 0x1
}

case_input_files() {
	setup_basic
	# Layout files: every field checked, nothing truncated, nothing applied.
	badl() { # NAME LINE MESSAGE CONTENT
		layout "$1" "$4"
		refuse 1 "layout $1" "$3" -- ctl apply "$TMP/$1"
		grep_err "$TMP/$1:$2: "
	}
	badl unit-2e32p1 1 "bad unit '4294967297'" 'device d unit=4294967297 bdf=00:09.0\n'
	badl unit-0 1 "bad unit '0'" 'device d unit=0 bdf=00:09.0\n'
	badl unit-neg 1 "bad unit '-1'" 'device d unit=-1 bdf=00:09.0\n'
	badl unit-empty 1 "bad unit ''" 'device d unit= bdf=00:09.0\n'
	badl id-2e32 1 "bad id '4294967296'" 'device d unit=1 bdf=00:09.0 id=4294967296\n'
	badl pasid-bits 1 "bad pasid-bits '21'" 'device d unit=1 bdf=00:09.0 pasid-bits=21\n'
	badl bdf-trail 1 "bad bdf '00:09.0x'" 'device d unit=1 bdf=00:09.0x\n'
	badl bdf-dev 1 "bad bdf '00:20.0'" 'device d unit=1 bdf=00:20.0\n'
	badl bdf-state 1 "a PCI address is added once" 'device d unit=1 bdf=00:03.0 id=0x99\n'
	badl bdf-file 2 "its PCI address is device d's already" \
		'device d unit=1 bdf=00:09.0\ndevice e unit=1 bdf=0000:00:09.0 id=0x77\n'
	badl iova-neg 2 "bad iova '-0x1000'" 'ioas x\nwindow x iova=-0x1000 len=4K alloc\n'
	badl iova-big 2 "bad iova" 'ioas x\nwindow x iova=0x10000000000000000 len=4K alloc\n'
	badl len-empty 2 "bad len ''" 'ioas x\nwindow x iova=0x1000 len= alloc\n'
	badl len-trail 2 "bad len '4Kx'" 'ioas x\nwindow x iova=0x1000 len=4Kx alloc\n'
	badl wrap 2 "wraps around" 'ioas x\nwindow x iova=0xfffffffffffff000 len=8K alloc\n'
	badl pasid 2 "pasid=N, 0 .. 0xfffff" 'ioas x\nattach nic x pasid=1048576\n'
	badl name-digit 1 "bad name '9x'" 'ioas 9x\n'
	badl twice-iova 2 "field iova= given twice" 'ioas x\nwindow x iova=0x1000 iova=0x2000 len=4K alloc\n'
	badl twice-unit 1 "field unit= given twice" 'device d unit=1 unit=2 bdf=00:09.0\n'
	badl twice-prot 2 "field rw|r|w given twice" 'ioas x\nwindow x iova=0x1000 len=4K alloc r w\n'
	badl twice-src 2 "give one of alloc or phys=, once" 'ioas x\nwindow x iova=0x1000 len=4K alloc alloc\n'
	badl nul 2 "NUL byte at line 2" 'ioas x\nioas y\0z\n'
	badl long 2 "line too long" "ioas x\n#$(printf '%600s' '')\n"
	refuse 2 "apply --dry-run twice" "option --dry-run given twice" -- \
		ctl apply "$TMP/nul" --dry-run --dry-run
	# Not a regular file: refused with the reason, never read as empty.
	refuse 1 "apply a directory" "not a regular file (a directory)" -- ctl apply "$TMP"
	mkfifo "$TMP/fifo"
	refuse 1 "apply a FIFO" "not a regular file (a FIFO)" -- timeout 10 "$CTL" --state "$STATE" apply "$TMP/fifo"
	refuse 1 "apply a missing file" "cannot open: No such file or directory" -- ctl apply "$TMP/nonexistent"
	# Messages that say what happened.
	refuse 1 "show --svg into a missing directory" \
		"cannot create the output file /nonexistent/x.svg: No such file or directory" -- \
		ctl show --svg /nonexistent/x.svg
	# A fault overflow on the model (one fault record): the hardware does
	# not count what it dropped, so no "dropped 0".
	local o="$STATE-ovf"
	"$CTL" --state "$o" --model vtd:nfr=1 ioas create --name a >/dev/null &&
		"$CTL" --state "$o" device add 1 00:03.0 --name nic >/dev/null &&
		"$CTL" --state "$o" ioas attach a nic >/dev/null || fail "overflow set-up"
	for i in 1 2 3; do "$CTL" --state "$o" dma nic 0x${i}000 16 --read >/dev/null 2>&1; done
	"$CTL" --state "$o" faults >"$TMP/faults" 2>&1
	"$CTL" --state "$o" reset >/dev/null 2>&1
	if grep -q "^overflow: unit 1: primary fault overflow: faults were dropped (how many is not known)" "$TMP/faults" &&
		! grep -q "dropped 0" "$TMP/faults"; then
		ok "overflow line says what happened"
	else
		fail "overflow line: $(cat "$TMP/faults")"
	fi
}

# The same verbs on the SMMUv3 model: StreamIDs, stage 1 (an IOAS gives
# a stage-1 table with a CD) and stage 2 (a model without stage 1), DMA,
# walk (STE -> CD -> table), faults from the event queue, the registers
# decoded, SubstreamIDs, a linear stream table.
case_smmuv3() {
	expect 0 "create smmuv3 state" -- ctl --model smmuv3 unit list
	ctl unit show 1 >"$TMP/show" 2>&1
	grep -q "IDR0 0x.*ST_LEVEL=0x1" "$TMP/show" && grep -q "IDR1 .*SIDSIZE=0x10" "$TMP/show" &&
		grep -q "AIDR 3.1" "$TMP/show" && ok "unit show decodes IDR0-5" || fail "unit show: $(cat "$TMP/show")"
	expect 0 "ioas create" -- ctl ioas create --name dma0
	expect 0 "device add (StreamID 0x18)" -- ctl device add 1 00:03.0 --name nic --pasid-bits 8
	expect 0 "attach (stage 1, CD 0)" -- ctl ioas attach dma0 nic
	expect 0 "map" -- ctl ioas map dma0 --alloc 2M --iova 0x200000
	expect 0 "DMA write" -- ctl dma nic 0x200000 64 --write --pattern 0x5a
	ctl -j dma nic 0x200010 16 --read | jpy 'assert j["data"]=="5a"*16, j' && ok "DMA read back" || fail "read back"
	ctl walk nic 0x200010 >"$TMP/walk" 2>&1
	grep -q "STE\[0x18\]: V Config=stage 1" "$TMP/walk" && grep -q "CD\[0\]: V ASID=" "$TMP/walk" &&
		grep -q "=> translates" "$TMP/walk" && ok "walk: STE -> CD -> stage 1" || fail "walk: $(cat "$TMP/walk")"
	expect 1 "DMA outside the mapping faults" -- ctl dma nic 0x900000 16 --read
	ctl faults >"$TMP/faults" 2>&1
	grep -q "read at 0x900000: reason 0x10 F_TRANSLATION" "$TMP/faults" &&
		ok "fault decoded from EVTQ" || fail "fault line: $(cat "$TMP/faults")"
	# SubstreamIDs: a CD each, beside the RID's CD 0; a device whose RID
	# is blocked has S1DSS terminate.
	expect 0 "ioas create" -- ctl ioas create --name dma1
	expect 0 "map" -- ctl ioas map dma1 --alloc 64K --iova 0x200000
	expect 0 "PASID attach (stage 1 + CD 3)" -- ctl ioas attach dma1 nic --pasid 3
	ctl -j dma nic 0x200010 16 --read --pasid 3 | jpy 'assert j["data"]=="00"*16, j' &&
		ok "PASID DMA through its own table" || fail "PASID DMA"
	expect 0 "device add (StreamID 0x20)" -- ctl device add 1 00:04.0 --name acc --pasid-bits 8
	expect 0 "PASID attach, RID blocked" -- ctl ioas attach dma0 acc --pasid 3
	ctl -j dma acc 0x200010 16 --read --pasid 3 | jpy 'assert j["data"]=="5a"*16, j' &&
		ok "PASID DMA through stage 1" || fail "PASID DMA acc"
	expect 1 "RID of the PASID device blocked" -- ctl dma acc 0x200000 16 --read
	ctl faults >"$TMP/faults" 2>&1
	grep -q "F_STREAM_DISABLED" "$TMP/faults" && ok "S1DSS terminate reported" || fail "S1DSS: $(cat "$TMP/faults")"
	ctl walk acc 0x200010 >"$TMP/walk" 2>&1
	grep -q "=> faults: no SubstreamID and S1DSS=terminate: F_STREAM_DISABLED" "$TMP/walk" &&
		ok "walk says why the RID faults" || fail "walk RID: $(cat "$TMP/walk")"
	expect 0 "PASID detach" -- ctl ioas detach dma0 acc --pasid 3
	expect 0 "PASID detach" -- ctl ioas detach dma1 nic --pasid 3
	expect 0 "device remove acc" -- ctl device remove acc
	expect 0 "unmap" -- ctl ioas unmap dma0 0x200000
	expect 1 "no stale translation after unmap" -- ctl dma nic 0x200000 16 --read
	ctl faults >"$TMP/faults" 2>&1
	grep -q "F_TRANSLATION" "$TMP/faults" && ok "unmapped: translation fault" || fail "after unmap: $(cat "$TMP/faults")"
	expect 0 "detach" -- ctl ioas detach dma0 nic
	expect 0 "ioas destroy" -- ctl ioas destroy dma0
	expect 0 "device remove" -- ctl device remove nic
	expect 0 "state check" -- ctl state check
	# Stage 2 (a model without stage 1), a linear stream table.
	local o="$STATE-s2"
	"$CTL" --state "$o" --model smmuv3:s1=0,st2l=0,sidsize=8 unit show 1 >"$TMP/show" 2>&1 &&
		grep -q "ST_LEVEL=0" "$TMP/show" && ok "linear stream table model" || fail "linear: $(cat "$TMP/show")"
	"$CTL" --state "$o" device add 1 01:00.0 >"$TMP/out" 2>"$TMP/err" &&
		fail "StreamID 0x100 beyond an 8-bit stream table accepted" || ok "StreamID beyond the table refused"
	"$CTL" --state "$o" ioas create --name s2 >/dev/null && "$CTL" --state "$o" device add 1 00:03.0 --name nic >/dev/null &&
		"$CTL" --state "$o" ioas attach s2 nic >/dev/null && "$CTL" --state "$o" ioas map s2 --alloc 64K --iova 0x10000 >/dev/null ||
		fail "stage-2 set-up"
	"$CTL" --state "$o" walk nic 0x10000 >"$TMP/walk" 2>&1
	grep -q "STE\[0x18\]: V Config=stage 2 .*VMID=" "$TMP/walk" && grep -q "arm-s2-4k" "$TMP/walk" &&
		ok "walk: STE -> stage 2" || fail "walk s2: $(cat "$TMP/walk")"
	"$CTL" --state "$o" dma nic 0x90000 16 --read >/dev/null 2>&1
	"$CTL" --state "$o" faults >"$TMP/faults" 2>&1
	grep -q "read,stage2 at 0x90000: reason 0x10 F_TRANSLATION" "$TMP/faults" && ok "stage-2 fault decoded" ||
		fail "stage-2 fault: $(cat "$TMP/faults")"
	"$CTL" --state "$o" reset >/dev/null 2>&1
	expect 1 "bad model setting" -- "$CTL" --state "$STATE-bad" --model smmuv3:sidsize=99 unit list
}

# The same verbs on the built-in AMD-Vi model.
case_amdvi() {
	# --small-devtab: AMD-Vi units only; also the first unit of a new state.
	refuse 2 "--small-devtab on a VT-d model" "--small-devtab is for AMD-Vi units" -- \
		ctl --model vtd unit add --small-devtab
	[ -e "$SHM" ] && fail "a state was left for a refused unit add" || ok "no state left"
	expect 0 "--small-devtab on a fresh AMD-Vi model state" -- ctl -j --model amdvi unit add --small-devtab
	ctl -j unit list | jpy 'assert len(j)==1 and j[0]["family"]=="amdvi", j' &&
		ok "the new state has that one unit" || fail "unit list after a first --small-devtab unit"
	expect 0 "reset" -- ctl reset
	expect 0 "create AMD-Vi model state" -- ctl --model amdvi unit list
	expect 0 "unit add --small-devtab" -- ctl -j --model amdvi unit add --small-devtab --name small
	ctl -j unit list | jpy 'assert len(j)==2 and all(u["family"]=="amdvi" for u in j), j' &&
		ok "the second AMD-Vi unit is there" || fail "unit list after --small-devtab"
	refuse 2 "--small-devtab on a VT-d model unit of an AMD-Vi state" "--small-devtab is for AMD-Vi units" -- \
		ctl --model vtd unit add --small-devtab
	ctl -j unit list | jpy 'assert j[0]["family"]=="amdvi", j' && ok "unit is AMD-Vi" || fail "unit list"
	expect 0 "unit show" -- ctl unit show 1
	grep -q "EFR .*IASup" "$TMP/out" && grep -q "Control .*IommuEn.*CmdBufEn" "$TMP/out" &&
		grep -q "DevTabBase" "$TMP/out" && ok "EFR, Control, bases decoded" || fail "unit show: $(cat "$TMP/out")"
	expect 0 "ioas create" -- ctl ioas create --name dma0
	expect 0 "device add" -- ctl device add 1 00:03.0 --name nic
	expect 0 "attach" -- ctl ioas attach dma0 nic
	expect 0 "map 2M" -- ctl ioas map dma0 --alloc 2M --iova 0x200000
	expect 0 "map read-only" -- ctl ioas map dma0 --alloc 4K --iova 0x800000 --prot r
	expect 0 "DMA write" -- ctl dma nic 0x200000 64 --write --pattern 0x5a
	ctl -j dma nic 0x200010 16 --read | jpy 'assert j["data"]=="5a"*16, j' && ok "DMA read back" || fail "read back"
	ctl -j walk nic 0x200000 | jpy 'assert j["verdict"].startswith("translates") and j["levels"][-1]["leaf"] and len(j["levels"])==3, j' &&
		ok "walk: v1 levels to a 2M leaf" || fail "walk"
	ctl -j walk nic 0x200000 | jpy 'assert "V TV Mode=4" in j["context"][0]["text"] and "IR IW DomainID=" in j["context"][0]["text"], j' &&
		ok "walk: the DTE decoded" || fail "walk entry"
	expect 1 "DMA write to a read-only page is blocked" -- ctl dma nic 0x800000 16 --write
	expect 0 "unmap" -- ctl ioas unmap dma0 0x200000
	expect 1 "DMA after unmap is blocked" -- ctl dma nic 0x200000 16 --read
	ctl -j faults | jpy 'assert len(j)==2 and all(e["reason_text"]=="IO_PAGE_FAULT" and e["bdf"]=="00:03.0" for e in j) and j[1]["addr"]=="0x200000", j' &&
		ok "IO_PAGE_FAULT events decoded" || fail "faults"
	ctl -j walk nic 0x200000 | jpy 'assert j["verdict"].startswith("faults"), j' && ok "walk explains the fault" || fail "walk after unmap"
	expect 0 "detach" -- ctl ioas detach dma0 nic
	ctl -j walk nic 0x800000 | jpy 'assert j["verdict"].startswith("blocked") and "Mode=0 DomainID=0 -- blocked" in j["context"][0]["text"], j' &&
		ok "walk: detached, the DTE blocks" || fail "walk detached"
	# An IVRS alias (--id differs from the BDF): the DTE at both IDs.
	expect 0 "device add with an alias DeviceID" -- ctl device add 1 00:04.0 --id 0x100 --name nic2
	expect 0 "attach the aliased device" -- ctl ioas attach dma0 nic2
	ctl -j walk nic2 0x800000 | jpy 'assert "DTE[0x0100]" in j["context"][0]["text"] and "DTE[0x0020]" in j["context"][1]["text"] and "alias of 0x0100" in j["context"][1]["text"], j' &&
		ok "walk: the DTE at the DeviceID and its RID alias" || fail "walk alias"
	ctl -j dma nic2 0x800000 16 --read | jpy 'assert len(j["data"])==32, j' && ok "DMA as the aliased device" || fail "alias DMA"
	# A 4 KiB strict unmap in a process of its own (the one-command flush
	# from the adopted state: template, tail and sequence in the arena).
	expect 0 "unmap 4K" -- ctl ioas unmap dma0 0x800000
	expect 1 "DMA after the 4K unmap is blocked" -- ctl dma nic2 0x800000 16 --read
	expect 0 "state check" -- ctl state check
	# Our own v2 tables (gt=1): a PASID through the device's GCR3 table.
	local o="$STATE-v2"
	expect 0 "AMD-Vi model with GTSup" -- "$CTL" --state "$o" --model amdvi:gt=1 unit list
	expect 0 "ioas create" -- "$CTL" --state "$o" ioas create --name v2
	expect 0 "device add" -- "$CTL" --state "$o" device add 1 00:05.0 --pasid-bits 16 --name acc
	expect 0 "PASID attach (a v2 table, GCR3 slot)" -- "$CTL" --state "$o" ioas attach v2 acc --pasid 0x345
	expect 0 "map" -- "$CTL" --state "$o" ioas map v2 --alloc 4K --iova 0x1000
	expect 0 "PASID DMA write" -- "$CTL" --state "$o" dma acc 0x1000 16 --write --pasid 0x345 --pattern 0x3c
	"$CTL" --state "$o" -j dma acc 0x1000 16 --read --pasid 0x345 | jpy 'assert j["data"]=="3c"*16, j' &&
		ok "PASID DMA read back" || fail "PASID DMA"
	"$CTL" --state "$o" -j walk acc 0x1008 --pasid 0x345 |
		jpy 'c=[x["text"] for x in j["context"]]; assert "GV GLX=1" in c[0] and c[1].startswith("GCR3 L1[1]: V") and c[2].startswith("GCR3 L0[325]: V CR3=") and len(j["levels"])==4 and j["verdict"].startswith("translates"), j' &&
		ok "walk: DTE -> GCR3 levels -> v2 levels" || fail "walk v2"
	"$CTL" --state "$o" walk acc 0x1000 --pasid 0x346 >"$TMP/walk" 2>&1
	grep -q "=> faults: GCR3 L0\[326\]: not valid -- PASID 838 has no table" "$TMP/walk" &&
		ok "walk says why another PASID faults" || fail "walk PASID 838: $(cat "$TMP/walk")"
	"$CTL" --state "$o" walk acc 0x1000 >"$TMP/walk" 2>&1
	grep -q "=> faults: GCR3 L1\[0\]: not valid -- PASID 0 (the RID under GIoV)" "$TMP/walk" &&
		ok "walk says why the RID faults" || fail "walk RID: $(cat "$TMP/walk")"
	expect 0 "unmap" -- "$CTL" --state "$o" ioas unmap v2 0x1000
	expect 1 "PASID DMA after unmap is blocked" -- "$CTL" --state "$o" dma acc 0x1000 16 --read --pasid 0x345
	"$CTL" --state "$o" -j faults | jpy 'assert any(e["reason_text"]=="IO_PAGE_FAULT" and e["pasid"]==0x345 for e in j), j' &&
		ok "fault with the PASID" || fail "faults v2"
	"$CTL" --state "$o" -j walk acc 0x1000 --pasid 0x345 | jpy 'assert j["verdict"].startswith("faults"), j' &&
		ok "walk explains the fault after unmap" || fail "walk v2 after unmap"
	expect 0 "PASID detach" -- "$CTL" --state "$o" ioas detach v2 acc --pasid 0x345
	expect 0 "state check" -- "$CTL" --state "$o" state check
	"$CTL" --state "$o" reset >/dev/null 2>&1
}

case "$CASE" in
persist | dma | kill9 | badinput | apply | json | reset | show | stress | applykill | \
	input-names | input-values | input-files | smmuv3 | amdvi)
	"case_${CASE//-/_}"
	;;
*)
	echo "unknown case $CASE" >&2
	exit 2
	;;
esac
if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS failure(s)" >&2
	exit 1
fi
echo "all ok"
