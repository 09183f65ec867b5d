#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# docs/performance.md, "DPDK plugin": dpdk-testpmd packet rates in the QEMU
# guest of qemu-dpdk-testpmd-uio, alternating boots:
#   noplugin  uio_pci_generic, no IOMMU translation (intel_iommu=off)
#   plugin    uio_pci_generic, -d librte_uiommu.so --vdev uiommu
#   kernel    intel_iommu=on, Debian's vfio-pci with vfio_iommu_type1
# Prints one line per boot and the medians.  Not a test: rates on TCG swing
# 2x with the host's load.
#   perf_dpdk_testpmd.sh BUILD_DIR [ROUNDS [SECS]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:?usage: perf_dpdk_testpmd.sh BUILD_DIR [ROUNDS [SECS]]}
rounds=${2:-3}
secs=${3:-10}
q=$repo/scripts/qemu
kline=$("$q/fetch-kernel.sh")
kdir=${kline##*KDIR=}
kver=$(cat "$kdir/.kver")
m=$kdir/lib/modules/$kver/kernel
common=(--prog "$(command -v dpdk-testpmd)"
	--extra "$here/guest_dpdk_testpmd.sh:/uiommu/bin/guest_dpdk_testpmd.sh"
	--extra "$build/src/dpdk/librte_uiommu.so:/uiommu/lib/librte_uiommu.so"
	--extra "$build/apps/uiommuctl/uiommuctl"
	--dpdk-plugins 'bus_pci net_e1000 mempool_ring'
	--qemu-arg -netdev --qemu-arg hubport,id=n0,hubid=0 --qemu-arg -device --qemu-arg e1000e,netdev=n0
	--qemu-arg -netdev --qemu-arg hubport,id=n1,hubid=0 --qemu-arg -device --qemu-arg e1000e,netdev=n1
	--timeout 400)
kernel_extras=(--extra "$m/virt/lib/irqbypass.ko:/uiommu/share/irqbypass.ko"
	--extra "$m/drivers/vfio/vfio.ko:/uiommu/share/vfio-debian.ko"
	--extra "$m/drivers/vfio/vfio_iommu_type1.ko:/uiommu/share/vfio_iommu_type1.ko"
	--extra "$m/drivers/vfio/vfio_virqfd.ko:/uiommu/share/vfio_virqfd.ko"
	--extra "$m/drivers/vfio/pci/vfio-pci-core.ko:/uiommu/share/vfio-pci-core.ko"
	--extra "$m/drivers/vfio/pci/vfio-pci.ko:/uiommu/share/vfio-pci.ko")
wd=$(mktemp -d "${TMPDIR:-/tmp}/uiommu-perf.XXXXXX")
declare -A all=()
for r in $(seq "$rounds"); do
	for mode in noplugin plugin kernel; do
		case $mode in
		noplugin) args=(--run "guest_dpdk_testpmd.sh,uio,$secs,notice,noplugin" --modules 'uio uio_pci_generic'
				--append 'uiommu.hugepages=160 uiommu.bind=0') ;;
		plugin) args=(--run "guest_dpdk_testpmd.sh,uio,$secs,notice" --modules 'uio uio_pci_generic'
				--append 'uiommu.hugepages=160 uiommu.bind=0') ;;
		kernel) args=(--run "guest_dpdk_testpmd.sh,kernel,$secs,notice" --modules ''
				--append 'uiommu.hugepages=160 uiommu.bind=0 intel_iommu=on' "${kernel_extras[@]}") ;;
		esac
		# the kernel mode reports as dpdk-testpmd-kernel
		exp=dpdk-testpmd-uio
		[ $mode = kernel ] && exp=dpdk-testpmd-kernel
		"$q/run-suite.sh" --name "perf-$mode" --workdir "$wd/$mode" "${common[@]}" "${args[@]}" \
			--expect "$exp" >/dev/null 2>&1 || { echo "round $r $mode: FAILED (logs $wd/$mode)"; continue; }
		pps=$(grep -a -o 'rx-pps (both ports) [0-9]*' "$wd/$mode/console.log" | awk '{print $4}')
		echo "round $r $mode ${pps:-?} pps"
		all[$mode]="${all[$mode]:-} ${pps:-}"
	done
done
for mode in noplugin plugin kernel; do
	med=$(echo ${all[$mode]:-} | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "?"}')
	echo "median $mode $med pps"
done
