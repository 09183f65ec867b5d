#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build vfio.ko with VFIO no-IOMMU support for the guest kernel that
# fetch-kernel.sh unpacked (Debian builds it without CONFIG_VFIO_NOIOMMU).
#
#   scripts/qemu/build-vfio-noiommu.sh KDIR     (prints the path of vfio.ko)
#
# Downloads (apt-get download, no install) the headers, kbuild and source
# packages of exactly the image's version (≈ 150 MB), takes
# drivers/vfio/{vfio_main.c,iova_bitmap.c,container.c,vfio.h} from the
# source and builds vfio.ko out of tree with -DCONFIG_VFIO_NOIOMMU=1
# (IS_ENABLED() needs the C define; CONFIG_...=y on the make line does
# nothing).  The module is cached per kernel version in
# $UIOMMU_QEMU_CACHE/vfio-noiommu/KVER/vfio.ko; its symbol CRCs match
# Debian's, so Debian's vfio_virqfd, vfio-pci-core and vfio-pci load on it.
# Needs make and gcc (scripts/setup-deps.sh --qemu).
set -euo pipefail

die() { echo "build-vfio-noiommu.sh: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kdir=${1:?usage: build-vfio-noiommu.sh KDIR}
[ -f "$kdir/.kver" ] && [ -f "$kdir/.deb" ] || die "'$kdir' is not a kernel unpacked by fetch-kernel.sh"
kver=$(cat "$kdir/.kver")
cache=${UIOMMU_QEMU_CACHE:-$repo/.qemu-cache}
out=$cache/vfio-noiommu/$kver/vfio.ko
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
for t in apt-get dpkg make gcc tar xz; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found (scripts/setup-deps.sh --qemu)"
done
# linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb -> 6.1.192-3
deb=$(cat "$kdir/.deb")
ver=${deb#*_}
ver=${ver%%_*}
flavour=${kver##*-}      # amd64
abi=${kver%-"$flavour"}  # 6.1.0-57
series=${abi%.*}         # 6.1
mkdir -p "$cache/vfio-noiommu"
tmp=$(mktemp -d "$cache/vfio-noiommu/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "linux-headers-$kver=$ver" "linux-headers-$abi-common=$ver" \
	"linux-kbuild-$series=$ver" "linux-source-$series=$ver") >&2 ||
	die "cannot download the headers/source of $kver $ver (apt-get update?)"
for d in "$tmp"/*.deb; do dpkg -x "$d" "$tmp/root"; done
mkdir -p "$tmp/mod"
tar -xJf "$tmp/root/usr/src/linux-source-$series.tar.xz" -C "$tmp/mod" --strip-components=3 \
	"linux-source-$series/drivers/vfio/vfio_main.c" \
	"linux-source-$series/drivers/vfio/iova_bitmap.c" \
	"linux-source-$series/drivers/vfio/container.c" \
	"linux-source-$series/drivers/vfio/vfio.h" || die "source tarball lacks drivers/vfio"
cat > "$tmp/mod/Kbuild" <<'KB'
obj-m := vfio.o
vfio-y := vfio_main.o iova_bitmap.o container.o
ccflags-y += -DCONFIG_VFIO_NOIOMMU=1
KB
# The headers' Makefile includes the common tree by its absolute path: point
# it into the unpacked packages.
sed -i "s|/usr/src/|$tmp/root/usr/src/|g" "$tmp/root/usr/src/linux-headers-$kver/Makefile"
make -s -C "$tmp/root/usr/src/linux-headers-$kver" M="$tmp/mod" -j2 modules >&2 ||
	die "building vfio.ko failed"
mkdir -p "$(dirname "$out")"
cp "$tmp/mod/vfio.ko" "$out.tmp"
mv "$out.tmp" "$out"
echo "build-vfio-noiommu.sh: built $out for $kver ($ver)" >&2
echo "$out"
