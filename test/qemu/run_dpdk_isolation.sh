#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# qemu-dpdk-isolation: run-suite.sh with a virtio-blk disk the guest kernel
# drives (through the IOMMU: iommu_platform=on), its sectors filled with a
# pattern guest_dpdk_isolation checks (sector number mod 251).
#   run_dpdk_isolation.sh WORKDIR RUN-SUITE-ARGS...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wd=${1:?}
shift
mkdir -p "$wd"
img=$wd/disk.img
python3 -c '
import sys
with open(sys.argv[1], "wb") as f:
    for s in range(8 * 2048):
        f.write(bytes([s % 251]) * 512)
' "$img"
exec "$here/../../scripts/qemu/run-suite.sh" --workdir "$wd" \
	--qemu-arg -drive --qemu-arg "file=$img,if=none,id=d0,format=raw,readonly=on" \
	--qemu-arg -device --qemu-arg "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on" \
	"$@"
