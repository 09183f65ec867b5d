#!/usr/bin/env bash
# The VT-d model walk-through (called by scripts/demo.sh):
#   uiommuctl's state outlives each command; every step below is a separate
#   process that adopts it.  Create an address space, add a model DMA
#   device and attach it, map a buffer, DMA through it, unmap, DMA again:
#   the IOMMU blocks it, and `faults` and `walk` explain why.
# Usage: scripts/model-demo.sh [PATH/TO/uiommuctl]
set -euo pipefail
ctl=${1:-build/apps/uiommuctl/uiommuctl}
state=demo-$$
u() {
	echo "\$ uiommuctl $*"
	"$ctl" --state "$state" "$@" 2>&1
}
trap '"$ctl" --state "$state" reset >/dev/null 2>&1 || true' EXIT

echo "=== The VT-d model: one address space, one DMA device (state '$state' in /dev/shm)"
u --model vtd unit list
u ioas create --name dma0
u device add 1 00:03.0 --name nic
u ioas attach dma0 nic
u ioas map dma0 --alloc 2M --iova 0x200000
u dma nic 0x200000 64 --write --pattern 0x5a
u dma nic 0x200000 32 --read
u ioas list
echo
echo "=== Unmap, and DMA again: the IOMMU blocks it"
u ioas unmap dma0 0x200000
u dma nic 0x200000 32 --read || echo "(exit status $?: blocked, as it should be)"
u faults
u walk nic 0x200000
echo
echo "=== Give everything back"
u reset
if [ -e "/dev/shm/uiommu-$(id -u)/$state" ]; then echo "state file left behind!"; exit 1; fi
echo "nothing left in /dev/shm"
trap - EXIT
