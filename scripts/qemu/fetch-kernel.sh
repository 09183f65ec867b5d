#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Fetch and unpack a Debian amd64 (or arm64) guest kernel for the QEMU tests.
#
#   scripts/qemu/fetch-kernel.sh [--arch amd64|arm64]
#
# --arch arm64 (or UIOMMU_QEMU_ARCH=arm64): the arm64 kernel, resolved and
# downloaded through the private arm64 APT configuration of
# scripts/arm64/apt-env.sh (arm64 is not added to dpkg); the package is the
# one linux-image-arm64 depends on, $UIOMMU_QEMU_KERNEL_PKG_ARM64 overrides.
# The result goes to kernel-arm64.env instead of kernel.env.
#
# Downloads (apt-get download, no install) the kernel image package into
# $UIOMMU_QEMU_CACHE (default <repo>/.qemu-cache), unpacks it with dpkg -x,
# and runs depmod -b on it.  Idempotent: an unpacked kernel is reused.
#
# Which package:  $UIOMMU_QEMU_KERNEL_PKG if set (e.g.
# linux-image-6.1.0-56-amd64 or linux-image-6.12.57+deb12-amd64-unsigned),
# else the package the bookworm metapackage linux-image-amd64 depends on
# (the newest 6.1 ABI in the apt index).  We do not pin a fixed ABI: when the
# security suite moves to a new ABI the old package leaves the index and a
# pinned name would fail on a fresh machine.  If the apt index cannot tell
# (no apt-get update yet) the newest kernel already in the cache is used.
#
# On success prints one line "KVER=<version> KDIR=<dir>" and writes the same
# as shell assignments to $UIOMMU_QEMU_CACHE/kernel.env; KDIR holds
# boot/vmlinuz-KVER and lib/modules/KVER/ (with modules.dep).
set -euo pipefail

die() { echo "fetch-kernel.sh: $*" >&2; exit 1; }

arch=${UIOMMU_QEMU_ARCH:-amd64}
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) arch=${2:?}; shift 2 ;;
	-h|--help) sed -n '3,30p' "$0"; exit 0 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
case "$arch" in
amd64|arm64) ;;
*) die "--arch wants amd64 or arm64" ;;
esac

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${UIOMMU_QEMU_CACHE:-$repo/.qemu-cache}
mkdir -p "$cache/kernel"
cache=$(cd "$cache" && pwd)

for t in apt-get apt-cache dpkg depmod; do
	command -v "$t" >/dev/null 2>&1 ||
		[ -x "/usr/sbin/$t" ] || [ -x "/sbin/$t" ] ||
		die "'$t' not found (run scripts/setup-deps.sh --qemu)"
done
DEPMOD=$(command -v depmod || echo /usr/sbin/depmod)
[ -x "$DEPMOD" ] || DEPMOD=/sbin/depmod

# Choose the package.
envfile=$cache/kernel.env
if [ "$arch" = arm64 ]; then
	# Foreign packages through the private arm64 APT configuration.
	APT_CONFIG=$("$repo/scripts/arm64/apt-env.sh") || die "scripts/arm64/apt-env.sh failed"
	export APT_CONFIG
	pkg=${UIOMMU_QEMU_KERNEL_PKG_ARM64:-}
	envfile=$cache/kernel-arm64.env
else
	pkg=${UIOMMU_QEMU_KERNEL_PKG:-}
fi
if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends "linux-image-$arch" 2>/dev/null |
		sed -n -E "s/^ *Depends: (linux-image-[0-9][^ ]*-$arch)\$/\\1/p" |
		sort -V | tail -n1 || true)
fi
if [ -z "$pkg" ]; then
	# No apt index: fall back to the newest cached kernel.
	pkg=$(find "$cache/kernel" -mindepth 2 -maxdepth 2 -name .done -printf '%h\n' 2>/dev/null |
		xargs -r -n1 basename | grep -E -- "-$arch(-unsigned)?\$" | sort -V | tail -n1 || true)
	[ -n "$pkg" ] || die "cannot pick a kernel package: apt index has no linux-image-amd64 (run apt-get update or scripts/setup-deps.sh --qemu), and nothing is cached in $cache/kernel"
	echo "fetch-kernel.sh: apt index silent, using cached $pkg" >&2
fi
case "$pkg" in
linux-image-*) ;;
*) die "'$pkg' does not look like a linux-image package" ;;
esac

kdir=$cache/kernel/$pkg
if [ ! -f "$kdir/.done" ]; then
	tmp=$(mktemp -d "$cache/kernel/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "fetch-kernel.sh: downloading $pkg" >&2
	# apt-get download writes into the current directory (as root it warns
	# that the download is unsandboxed: harmless).
	(cd "$tmp" && apt-get download -q "$pkg") >&2 ||
		die "apt-get download $pkg failed (is it still in the apt index? set UIOMMU_QEMU_KERNEL_PKG)"
	deb=$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)
	[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
	mkdir "$tmp/root"
	dpkg -x "$deb" "$tmp/root"
	kver=$(find "$tmp/root/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
	if [ -z "$kver" ] || [ ! -f "$tmp/root/boot/vmlinuz-$kver" ]; then
		die "$deb has no boot/vmlinuz-<ver> and lib/modules/<ver>"
	fi
	"$DEPMOD" -b "$tmp/root" "$kver"
	echo "$kver" > "$tmp/root/.kver"
	basename "$deb" > "$tmp/root/.deb"
	touch "$tmp/root/.done"
	rm -rf "$kdir"
	mv "$tmp/root" "$kdir"
	rm -rf "$tmp"
	trap - EXIT
fi

kver=$(cat "$kdir/.kver")
[ -f "$kdir/boot/vmlinuz-$kver" ] || die "$kdir is incomplete; remove it and retry"
printf 'KVER=%s\nKDIR=%s\n' "$kver" "$kdir" > "$envfile"
echo "KVER=$kver KDIR=$kdir"
