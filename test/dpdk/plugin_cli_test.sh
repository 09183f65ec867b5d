#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The plugin with an application that knows nothing of uiommu: loaded with
# EAL's -d, configured with --vdev or UIOMMU_DPDK; a bad configuration
# stops the application before it runs unprotected; rte_eal_cleanup gives
# everything back; after kill -9 the state stays and `uiommuctl reset`
# gives it back.
# Usage: plugin_cli_test.sh PLAIN_APP PLUGIN UIOMMUCTL
set -u
APP=$1 PLUGIN=$2 CTL=$3
SHM=/dev/shm/uiommu-$(id -u)
# EAL refuses a plugin (-d) with a world-writable directory above it
# (eal_common_options.c, verify_perms): a build tree under /tmp cannot run this.
d=$(cd "$(dirname "$PLUGIN")" && pwd)
while [ "$d" != / ]; do
	case $(stat -c %A "$d") in
	????????w?) echo "SKIP: EAL refuses plugins under the world-writable $d: build outside /tmp"
		exit 77 ;;
	esac
	d=$(dirname "$d")
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
n=0
EAL="--no-huge -m 64 --no-pci -l 0 --log-level lib.eal:warning"
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }

S=plain-$$
# 1. --vdev
if "$APP" $EAL --file-prefix p1-$$ -d "$PLUGIN" --vdev "uiommu,model=vtd,state=$S,attach=00:03.0" \
	>"$TMP/o1" 2>&1 &&
	grep -q '"/uiommu/ioas":{"active":1' "$TMP/o1" &&
	grep -q '"devices":\["0000:00:03.0"\]' "$TMP/o1" &&
	grep -q '"access":"model"' "$TMP/o1" && grep -q CLEANED-UP "$TMP/o1" &&
	grep -q "released: units given back" "$TMP/o1" && [ ! -e "$SHM/$S" ]; then
	ok "-d plugin --vdev uiommu,...: protected, telemetry, given back on rte_eal_cleanup"
else
	bad "-d plugin --vdev uiommu,..."; cat "$TMP/o1"
fi

# 2. UIOMMU_DPDK
if UIOMMU_DPDK="model=vtd,state=$S-env" "$APP" $EAL --file-prefix p2-$$ -d "$PLUGIN" \
	>"$TMP/o2" 2>&1 && grep -q '"/uiommu/units":{"active":1,"state":"'"$S"'-env"' "$TMP/o2" &&
	[ ! -e "$SHM/$S-env" ]; then
	ok "UIOMMU_DPDK=...: protected"
else
	bad "UIOMMU_DPDK"; cat "$TMP/o2"
fi

# 3. a bad configuration stops the application; nothing is left
"$APP" $EAL --file-prefix p3-$$ -d "$PLUGIN" --vdev "uiommu,model=vtd,state=$S-bad,pol=app" \
	>"$TMP/o3" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "unknown key 'pol'" "$TMP/o3" && grep -q "NOT protected" "$TMP/o3" &&
	! grep -q CLEANED-UP "$TMP/o3" && [ ! -e "$SHM/$S-bad" ]; then
	ok "bad configuration: clear error, exit 1, nothing changed"
else
	bad "bad configuration (rc $rc)"; cat "$TMP/o3"
fi

# 4. ... unless on_error=continue (the application runs unprotected, loudly)
if "$APP" $EAL --file-prefix p4-$$ -d "$PLUGIN" \
	--vdev "uiommu,model=vtd,state=$S-c,poll_ms=0,on_error=continue" >"$TMP/o4" 2>&1 &&
	grep -q "NOT protected" "$TMP/o4" && grep -q '"/uiommu/ioas":{"active":0' "$TMP/o4" &&
	[ ! -e "$SHM/$S-c" ]; then
	ok "on_error=continue: runs unprotected, says so"
else
	bad "on_error=continue"; cat "$TMP/o4"
fi

# 5. kill -9: the state (and the translation) stays; uiommuctl reset gives it back
PLAIN_APP_SLEEP=30 "$APP" $EAL --file-prefix p5-$$ -d "$PLUGIN" \
	--vdev "uiommu,model=vtd,state=$S-k,attach=00:03.0" >"$TMP/o5" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q SLEEPING "$TMP/o5"; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid
wait $pid 2>/dev/null
if [ -e "$SHM/$S-k" ] && "$CTL" --state "$S-k" device list >"$TMP/o5b" 2>&1 &&
	grep -q "00:03.0" "$TMP/o5b" && "$CTL" --state "$S-k" reset >>"$TMP/o5b" 2>&1 &&
	[ ! -e "$SHM/$S-k" ]; then
	ok "kill -9: state stays, uiommuctl adopts it, uiommuctl reset gives it back"
else
	bad "kill -9"; cat "$TMP/o5" "$TMP/o5b"; "$CTL" --state "$S-k" reset --force >/dev/null 2>&1
fi
# 6. a fault while the plugin runs: its poll (an EAL alarm) drains it from the
# unit, and `uiommuctl faults` in another process shows it all the same
# (the unit's event history in the shared state)
PLAIN_APP_SLEEP=30 "$APP" $EAL --file-prefix p6-$$ -d "$PLUGIN" \
	--vdev "uiommu,model=vtd,state=$S-f,attach=00:03.0,poll_ms=10" >"$TMP/o6" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q SLEEPING "$TMP/o6"; do sleep 0.1; i=$((i + 1)); done
"$CTL" --state "$S-f" dma 00:03.0 0x7654000 16 --write >"$TMP/o6b" 2>&1
rc=$?
i=0
while [ $i -lt 100 ] && ! grep -q "DMA fault: 0000:00:03.0 write at IOVA 0x7654000" "$TMP/o6"; do
	sleep 0.1; i=$((i + 1))
done
"$CTL" --state "$S-f" -j faults >"$TMP/o6c" 2>&1
"$CTL" --state "$S-f" faults >"$TMP/o6d" 2>&1
kill -9 $pid
wait $pid 2>/dev/null
if [ $rc -eq 1 ] && grep -q "DMA fault: 0000:00:03.0 write at IOVA 0x7654000" "$TMP/o6" &&
	grep -q '"addr": "0x7654000"' "$TMP/o6c" && grep -q '"type": "fault"' "$TMP/o6c" &&
	grep -q "write at 0x7654000" "$TMP/o6d"; then
	ok "a fault the plugin drained is shown by uiommuctl faults in another process"
else
	bad "plugin fault in uiommuctl faults (dma rc $rc)"
	cat "$TMP/o6" "$TMP/o6b" "$TMP/o6c" "$TMP/o6d"
fi
"$CTL" --state "$S-f" reset --force >/dev/null 2>&1
exit $fail
