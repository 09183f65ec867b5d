#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guest side of the qemu-dpdk-testpmd-* tests (runs under busybox sh in the
# QEMU guest, never on the host): unmodified dpdk-testpmd forwards between
# two e1000e NICs on one QEMU hub with the uiommu plugin loaded by -d.
#
#   guest_dpdk_testpmd.sh MODE [SECS [EAL_LOG [plugin [KEY=VALUE]]]]
#                                   MODE: uio (uio_pci_generic) | vfio
#                                   (vfio-pci, no-IOMMU mode)
# (The performance runs without the plugin or on the kernel path are
# bench/qemu/dpdk_ab.sh's, with its own guest script.)
#
# Checks: the plugin protected both NICs (isolated, the rest pass-through);
# `uiommuctl device list` on the plugin's shared state shows both NICs
# attached while testpmd runs; testpmd forwarded (RX and TX above a
# threshold); no DMA fault; the units were given back at exit.
mode=${1:-uio}
EAL_LOG=${3:-notice}
vargs=${5:-} # one more configuration key for the plugin (e.g. poll=app)
name=dpdk-testpmd-$mode
secs=${2:-8}
min_pkts=1000
log=/tmp/testpmd.log

result() { echo "UIOMMU-RESULT $name $1 $2"; }
fail() { result FAIL "$*"; head -n 150 $log 2>/dev/null | sed 's/^/# testpmd: /'; exit 1; }

nics=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10d3 ] &&
		nics="$nics ${d##*/}"
done
set -- $nics
[ $# = 2 ] || fail "want two e1000e NICs, found: '$nics'"
nic0=$1 nic1=$2

case $mode in
uio)
	drv=uio_pci_generic
	echo "8086 10d3" > /sys/bus/pci/drivers/uio_pci_generic/new_id || fail "bind to $drv"
	;;
vfio)
	drv=vfio-pci
	# run_dpdk_vfio.sh put the rebuilt vfio.ko (no-IOMMU) and Debian's
	# modules that load on top of it into /uiommu/share.
	for m in irqbypass "vfio enable_unsafe_noiommu_mode=1" vfio_virqfd vfio-pci-core vfio-pci; do
		set -- $m
		insmod "/uiommu/share/$1.ko" ${2:-} || fail "insmod $1"
	done
	[ -e /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ] || fail "vfio not loaded"
	echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
	echo "8086 10d3" > /sys/bus/pci/drivers/vfio-pci/new_id || fail "bind to $drv"
	;;
*) fail "unknown mode $mode" ;;
esac
i=0
while [ $i -lt 50 ]; do
	[ -e /sys/bus/pci/devices/$nic0/driver ] && [ -e /sys/bus/pci/devices/$nic1/driver ] && break
	sleep 0.1
	i=$((i + 1))
done
for n in $nic0 $nic1; do
	d=$(readlink /sys/bus/pci/devices/$n/driver)
	[ "${d##*/}" = $drv ] || fail "$n bound to '${d##*/}', not $drv"
done
echo "# $name: NICs $nic0 $nic1 on $drv"
# EAL refuses a -d plugin under a world-writable directory (the rootfs is).
chmod 755 /

# testpmd does not link the e1000 PMD or the ring mempool: load them by -d,
# by file (EAL 22.11 scans a plugin directory for *.so and *.so.23.0 only,
# and mkinitramfs.sh --dpdk-plugins names the copies *.so.23).
pmds=$(dirname "$(ls /usr/lib/*/dpdk/pmds-*/librte_net_e1000.so.* | head -n1)")
echo "# $name: PMDs from $pmds: $(ls $pmds | tr '\n' ' ')"
dpdk-testpmd --lcores 0@0,1@0 -n 1 --log-level lib.eal:${EAL_LOG:-notice} --log-level pmd.uiommu:info \
	-d "$pmds/librte_net_e1000.so.23" -d "$pmds/librte_mempool_ring.so.23" \
	-d /uiommu/lib/librte_uiommu.so --vdev "uiommu${vargs:+,$vargs}" \
	-- --forward-mode=io --tx-first --nb-cores=1 --total-num-mbufs=4096 \
	--stats-period 1 > $log 2>&1 &
pid=$!
# The plugin's state, adopted by uiommuctl while testpmd runs.
i=0
while [ $i -lt 60 ] && ! grep -q "uiommu: protected" $log; do
	kill -0 $pid 2>/dev/null || break
	sleep 0.5
	i=$((i + 1))
done
grep -q "uiommu: protected: 1 unit(s), 2 device(s) isolated" $log || { kill -9 $pid; fail "not protected"; }
sleep "$secs"
uiommuctl --state dpdk device list > /tmp/devs.txt 2>&1
ctl=$?
sed 's/^/# uiommuctl: /' /tmp/devs.txt
# The IOAS's page table (leaf sizes: docs/performance.md).
hw=$(sed -n 's/.*RID -> hwpt \([0-9]*\) (ioas.*/\1/p' /tmp/devs.txt | head -n1)
[ -n "$hw" ] && uiommuctl --state dpdk hwpt show "$hw" 2>&1 | head -n 30 | sed 's/^/# hwpt: /'
kill -INT $pid
wait $pid
rc=$?
tr -d '\r' < $log | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' > $log.clean
grep -E "uiommu|Accumulated|RX-packets|TX-packets|Bye" $log.clean | tail -n 20 | sed 's/^/# /'

[ $ctl = 0 ] || fail "uiommuctl device list failed ($ctl)"
for n in $nic0 $nic1; do
	short=${n#0000:}
	grep -A1 -E "($n|$short)" /tmp/devs.txt | grep -q "(ioas" || fail "uiommuctl: $n not attached to the IOAS"
done
[ $rc = 0 ] || fail "testpmd exit status $rc"
# The last "Accumulated forward statistics for all ports" block.
acc=$(grep -A2 "Accumulated forward statistics for all ports" $log.clean | tail -n 2)
rx=$(echo "$acc" | sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | head -n1)
tx=$(echo "$acc" | sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' | head -n1)
[ -n "$rx" ] && [ -n "$tx" ] || fail "no forward statistics"
[ "$rx" -gt $min_pkts ] && [ "$tx" -gt $min_pkts ] || fail "forwarded too little: RX $rx TX $tx"
if grep -q "DMA fault" $log.clean; then fail "IOMMU faults: $(grep -c 'DMA fault' $log.clean)"; fi
grep -q "released: units given back" $log.clean || fail "units not given back at exit"
[ ! -e /dev/hugepages/uiommu-0/dpdk ] || fail "state left behind"
pps=$(awk '/Rx-pps:/ { s += $2; n++ } END { if (n > 4) printf "%d", 2 * s / n; else print 0 }' $log.clean)
echo "# perf: $name plugin rx-pps (both ports) $pps"
result PASS "RX $rx TX $tx packets, 2 NICs isolated, 0 faults, given back; $pps pps"
