#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build DPDK's igb_uio.ko for the QEMU guest kernel (bench/qemu/dpdk_ab.sh
# mode "igb"; docs/dpdk.md "igb_uio").  Debian 12 packages igb_uio's source
# as dpdk-kmods-dkms (bookworm main, built by DKMS on install); here it is
# built out of tree, without installing anything, against the guest
# kernel's headers:
#
#   bench/qemu/build-igb-uio.sh KDIR      (KDIR from scripts/qemu/fetch-kernel.sh)
#
# Downloads (apt-get download) dpdk-kmods-dkms, linux-headers-KVER,
# linux-headers-ABI-common and linux-kbuild-SERIES of the guest kernel's
# exact version, unpacks them into a temporary directory and prints the
# path of the module, cached as $UIOMMU_QEMU_CACHE/igb-uio/KVER/igb_uio.ko.
set -euo pipefail

die() { echo "build-igb-uio.sh: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kdir=${1:?usage: build-igb-uio.sh KDIR}
[ -f "$kdir/.kver" ] && [ -f "$kdir/.deb" ] || die "'$kdir' is not a kernel unpacked by fetch-kernel.sh"
kver=$(cat "$kdir/.kver")
cache=${UIOMMU_QEMU_CACHE:-$repo/.qemu-cache}
out=$cache/igb-uio/$kver/igb_uio.ko
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
for t in apt-get dpkg make gcc; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done
deb=$(cat "$kdir/.deb")
ver=${deb#*_}
ver=${ver%%_*}
flavour=${kver##*-}     # amd64
abi=${kver%-"$flavour"} # 6.1.0-57
series=${abi%.*}        # 6.1
mkdir -p "$cache/igb-uio"
tmp=$(mktemp -d "$cache/igb-uio/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q dpdk-kmods-dkms "linux-headers-$kver=$ver" \
	"linux-headers-$abi-common=$ver" "linux-kbuild-$series=$ver") >&2 ||
	die "cannot download dpdk-kmods-dkms or the headers of $kver $ver (apt-get update?)"
for d in "$tmp"/*.deb; do dpkg -x "$d" "$tmp/root"; done
src=$(ls -d "$tmp"/root/usr/src/dpdk-kmods-* 2>/dev/null | head -n1)
[ -n "$src" ] && [ -f "$src/igb_uio.c" ] || die "dpdk-kmods-dkms has no igb_uio.c"
mkdir -p "$tmp/mod"
cp "$src/igb_uio.c" "$src/compat.h" "$tmp/mod/"
echo 'obj-m := igb_uio.o' > "$tmp/mod/Kbuild"
# The headers package's Makefile points at /usr/src/linux-headers-*-common.
sed -i "s|/usr/src/|$tmp/root/usr/src/|g" "$tmp/root/usr/src/linux-headers-$kver/Makefile"
make -s -C "$tmp/root/usr/src/linux-headers-$kver" M="$tmp/mod" -j2 modules >&2 ||
	die "building igb_uio.ko failed"
mkdir -p "$(dirname "$out")"
cp "$tmp/mod/igb_uio.ko" "$out.tmp"
mv "$out.tmp" "$out"
echo "build-igb-uio.sh: built $out for $kver ($ver) from $(basename "$src")" >&2
echo "$out"
