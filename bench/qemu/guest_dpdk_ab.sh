#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guest side of bench/qemu/dpdk_ab.sh (runs under busybox sh in the QEMU
# guest, never on the host): unmodified dpdk-testpmd forwards between two
# e1000e NICs on one QEMU hub for SECS seconds in one of three modes:
#
#   noplugin  uio_pci_generic, no IOMMU translation (intel_iommu=off)
#   plugin    uio_pci_generic, -d librte_uiommu.so --vdev uiommu[,VARGS]
#   kernel    intel_iommu=on, Debian's vfio-pci with vfio_iommu_type1
#   igb       igb_uio (/uiommu/share/igb_uio.ko) + the plugin
#   papp      as plugin, with poll=app (no fault-polling alarm)
#   pvfio     vfio-pci in no-IOMMU mode + the plugin
#
#   guest_dpdk_ab.sh MODE SECS [VARGS]
#
# Every statistics block testpmd prints (--stats-period 1) becomes one line
# on the console, "UIOMMU-PERF-STAT <n> <rx> <tx>" (packets of both ports
# since the start), which the host stamps with its own clock and the QEMU
# process's CPU time as it arrives.  At the end: the plugin's page table
# (leaf sizes), testpmd's summary, "UIOMMU-RESULT dpdk-ab PASS|FAIL".
mode=${1:?mode}
secs=${2:-20}
vargs=${3:-}
log=/tmp/testpmd.log
name=dpdk-ab

result() { echo "UIOMMU-RESULT $name $1 $2"; }
fail() { result FAIL "$*"; head -n 80 $log 2>/dev/null | sed 's/^/# testpmd: /'; exit 1; }

nics=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10d3 ] &&
		nics="$nics ${d##*/}"
done
set -- $nics
[ $# = 2 ] || fail "want two e1000e NICs, found: '$nics'"
nic0=$1 nic1=$2
plugin=0
case $mode in
noplugin | plugin)
	drv=uio_pci_generic
	[ $mode = plugin ] && plugin=1
	echo "8086 10d3" > /sys/bus/pci/drivers/uio_pci_generic/new_id || fail "bind to $drv"
	;;
papp)
	# the plugin without its fault-polling alarm (poll=app: nobody polls)
	drv=uio_pci_generic
	plugin=1
	vargs=${vargs:+$vargs,}poll=app
	echo "8086 10d3" > /sys/bus/pci/drivers/uio_pci_generic/new_id || fail "bind to $drv"
	;;
pvfio)
	# vfio-pci in no-IOMMU mode (vfio.ko rebuilt by
	# scripts/qemu/build-vfio-noiommu.sh) with the plugin
	drv=vfio-pci
	plugin=1
	for m in irqbypass "vfio-noiommu enable_unsafe_noiommu_mode=1" vfio_virqfd vfio-pci-core vfio-pci; do
		set -- $m
		insmod "/uiommu/share/$1.ko" ${2:-} || fail "insmod $1"
	done
	echo "8086 10d3" > /sys/bus/pci/drivers/vfio-pci/new_id || fail "bind to $drv"
	;;
igb)
	# DPDK's igb_uio (built by bench/qemu/build-igb-uio.sh from Debian's
	# dpdk-kmods-dkms source) with the plugin
	drv=igb_uio
	plugin=1
	insmod /uiommu/share/igb_uio.ko || fail "insmod igb_uio"
	echo "8086 10d3" > /sys/bus/pci/drivers/igb_uio/new_id || fail "bind to $drv"
	;;
kernel)
	drv=vfio-pci
	for m in irqbypass vfio-debian "vfio_iommu_type1 allow_unsafe_interrupts=1" vfio_virqfd \
		vfio-pci-core vfio-pci; do
		set -- $m
		insmod "/uiommu/share/$1.ko" ${2:-} || fail "insmod $1"
	done
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
echo "# $name: mode $mode, NICs $nic0 $nic1 on $drv, kernel: $(cat /proc/cmdline)"
chmod 755 /
pmds=$(dirname "$(ls /usr/lib/*/dpdk/pmds-*/librte_net_e1000.so.* | head -n1)")

# testpmd's output goes through a FIFO to awk, which copies it to the log
# and prints one compact line per statistics block at once (testpmd flushes
# stdout after each block; a serial console line costs guest CPU).
: > $log
rm -f /tmp/testpmd.fifo
mkfifo /tmp/testpmd.fifo
awk -v lf=$log 'BEGIN { p = -1 }
	{ print > lf; fflush(lf) }
	/Signal .* received|Telling cores to stop/ { done = 1 }
	/NIC statistics for port/ { for (i = 1; i <= NF; i++) if ($i == "port") p = $(i + 1) + 0 }
	/RX-packets:/ && p >= 0 { for (i = 1; i < NF; i++) if ($i ~ /RX-packets:$/) rx[p] = $(i + 1) }
	/TX-packets:/ && p >= 0 { for (i = 1; i < NF; i++) if ($i ~ /TX-packets:$/) tx[p] = $(i + 1)
		if (p == 1 && !done) { n++; printf "UIOMMU-PERF-STAT %d %d %d\n", n, rx[0] + rx[1], tx[0] + tx[1]; fflush() }
		p = -1 }' \
	< /tmp/testpmd.fifo &
tpid=$!
dpdk-testpmd --lcores 0@0,1@0 -n 1 --log-level lib.eal:notice --log-level pmd.uiommu:info \
	-d "$pmds/librte_net_e1000.so.23" -d "$pmds/librte_mempool_ring.so.23" \
	$([ $plugin = 1 ] && echo "-d /uiommu/lib/librte_uiommu.so --vdev uiommu${vargs:+,$vargs}") \
	-- --forward-mode=io --tx-first --nb-cores=1 --total-num-mbufs=4096 \
	--stats-period 1 > /tmp/testpmd.fifo 2>&1 &
pid=$!
# forwarding starts a few seconds after the process; SECS of statistics
# blocks after the first one
i=0
while [ $i -lt 120 ] && ! grep -q "NIC statistics for port 1" $log; do
	kill -0 $pid 2>/dev/null || break
	sleep 0.5
	i=$((i + 1))
done
grep -q "NIC statistics for port 1" $log || { kill -9 $pid; fail "testpmd did not start forwarding"; }
# the guest's own CPU accounting (user nice system idle ...) at both ends:
# how much of the time the vCPU was idle
echo "UIOMMU-PERF-GCPU start $(head -n1 /proc/stat)"
sleep "$secs"
echo "UIOMMU-PERF-GCPU end $(head -n1 /proc/stat)"
# The measurement window ends here: the host ignores statistics after this
# line (uiommuctl below costs guest CPU while testpmd still forwards).
echo "UIOMMU-PERF-CUT"
if [ $plugin = 1 ]; then
	uiommuctl --state dpdk device list > /tmp/devs.txt 2>&1
	sed 's/^/# uiommuctl: /' /tmp/devs.txt
	hw=$(sed -n 's/.*RID -> hwpt \([0-9]*\) (ioas.*/\1/p' /tmp/devs.txt | head -n1)
	[ -n "$hw" ] && uiommuctl --state dpdk hwpt show "$hw" 2>&1 | head -n 20 | sed 's/^/# hwpt: /'
fi
kill -INT $pid
wait $pid
rc=$?
wait $tpid
tr -d '\r' < $log | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' > $log.clean
grep -E "IOVA|iova|uiommu|Accumulated|RX-packets|TX-packets|Bye" $log.clean | grep -v "^ *[RT]X-packets" |
	tail -n 20 | sed 's/^/# /'
acc=$(grep -A2 "Accumulated forward statistics for all ports" $log.clean | tail -n 2)
rx=$(echo "$acc" | sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | head -n1)
[ $rc = 0 ] || fail "testpmd exit status $rc"
[ -n "$rx" ] && [ "$rx" -gt 1000 ] || fail "forwarded too little: RX '$rx'"
if [ $plugin = 1 ]; then
	grep -q "uiommu: protected: 1 unit(s), 2 device(s) isolated" $log.clean || fail "plugin: NICs not isolated"
	for n in $nic0 $nic1; do
		grep -A1 -E "($n|${n#0000:})" /tmp/devs.txt | grep -q "(ioas" || fail "uiommuctl: $n not attached"
	done
	grep -q "released: units given back" $log.clean || fail "units not given back at exit"
fi
if grep -q "DMA fault" $log.clean; then fail "IOMMU faults: $(grep -c 'DMA fault' $log.clean)"; fi
result PASS "$mode: RX $rx"
