#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# qemu-dpdk-testpmd-vfio: run-suite.sh with the guest kernel's vfio.ko
# rebuilt with no-IOMMU support (scripts/qemu/build-vfio-noiommu.sh, cached
# per kernel version) and Debian's modules that load on top of it, all
# copied to the guest's /uiommu/share (guest_dpdk_testpmd.sh loads them).
#   run_dpdk_vfio.sh RUN-SUITE-ARGS...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
q=$repo/scripts/qemu
required=${UIOMMU_QEMU_REQUIRED:-}
[ -n "$required" ] || case "${CI:-}" in true|1|yes) required=1 ;; *) required=0 ;; esac
skip() {
	echo "run_dpdk_vfio.sh: $*" >&2
	[ "$required" = 1 ] && exit 1
	exit 77
}
kline=$("$q/fetch-kernel.sh") || skip "no guest kernel"
kdir=${kline##*KDIR=}
kver=$(cat "$kdir/.kver")
ko=$("$q/build-vfio-noiommu.sh" "$kdir") || skip "cannot build vfio.ko with no-IOMMU for $kver"
m=$kdir/lib/modules/$kver/kernel
extras=(--extra "$ko:/uiommu/share/vfio.ko")
for x in virt/lib/irqbypass.ko drivers/vfio/vfio_virqfd.ko drivers/vfio/pci/vfio-pci-core.ko \
	drivers/vfio/pci/vfio-pci.ko; do
	[ -f "$m/$x" ] || skip "$m/$x missing"
	extras+=(--extra "$m/$x:/uiommu/share/$(basename "$x")")
done
exec "$q/run-suite.sh" "${extras[@]}" "$@"
