#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the busybox initramfs that runs uiommu guest programs under QEMU.
#
#   scripts/qemu/mkinitramfs.sh [options] OUT.cpio.gz GUEST_PROGRAM [EXTRA...]
#
# Options:
#   --kernel-dir DIR    unpacked kernel (default: from fetch-kernel.sh)
#   --modules "M ..."   kernel modules to load, deps resolved from modules.dep
#                       (default: "uio uio_pci_generic")
#   --dpdk-plugins "P ..."  DPDK EAL plugins to copy into the guest's plugin
#                       directory, e.g. "bus_pci mempool_ring" (default none:
#                       EAL skips a missing plugin directory and starts
#                       without buses or mempool drivers)
#   --arch amd64|arm64  guest architecture (default: amd64, or arm64 when
#                       GUEST_PROGRAM is an aarch64 ELF file).  arm64: the
#                       busybox and every shared library come from the arm64
#                       sysroot (scripts/arm64/sysroot.sh): libraries are
#                       found by reading DT_NEEDED/DT_RUNPATH with readelf
#                       (ldd cannot run foreign programs)
#   --sysroot DIR       the arm64 sysroot (default: sysroot.sh's)
#
# GUEST_PROGRAM and every EXTRA that is an ELF executable go to /uiommu/bin
# (on the guest's PATH) with every shared library it needs, the dynamic
# loader included; other EXTRAs go to /uiommu/share.  EXTRA may be SRC:DEST
# to choose the absolute guest path.  Libraries outside /lib and /usr/lib
# (e.g. the build tree's libuiommu.so) go to /uiommu/lib (LD_LIBRARY_PATH).
#
# The guest /init is documented in docs/qemu-testing.md ("Kernel command
# line"): it mounts proc/sys/devtmpfs/hugetlbfs, reserves hugepages, loads
# the modules, binds edu (1234:11e8) to uio_pci_generic, runs the programs
# named by uiommu.run= (default GUEST_PROGRAM without arguments), prints
# "UIOMMU-EXIT <prog> <status>" after each and powers off.
set -euo pipefail

die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
kdir=
modules="uio uio_pci_generic"
plugins=
arch=
sysroot=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel-dir) kdir=${2:?}; shift 2 ;;
	--modules) modules=${2?}; shift 2 ;;
	--dpdk-plugins) plugins=${2?}; shift 2 ;;
	--arch) arch=${2:?}; shift 2 ;;
	--sysroot) sysroot=${2:?}; shift 2 ;;
	-h|--help) sed -n '3,33p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || die "usage: mkinitramfs.sh [options] OUT.cpio.gz GUEST_PROGRAM [EXTRA...]"
out=$1
prog=$2
shift 2
[ -x "$prog" ] || die "guest program '$prog' is not an executable file"

if [ -z "$arch" ]; then
	case "$(file -L -b "$prog")" in
	*aarch64*) arch=arm64 ;;
	*) arch=amd64 ;;
	esac
fi
case "$arch" in
amd64) tools="cpio gzip ldd file" ;;
arm64) tools="cpio gzip readelf file strings" ;;
*) die "--arch wants amd64 or arm64" ;;
esac
for t in $tools; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found (run scripts/setup-deps.sh --qemu, or --arm64)"
done
busybox=
if [ "$arch" = arm64 ]; then
	if [ -z "$sysroot" ]; then
		sline=$("$here/../arm64/sysroot.sh") || die "scripts/arm64/sysroot.sh failed"
		sysroot=${sline#SYSROOT=}
		sysroot=${sysroot%% *}
	fi
	[ -d "$sysroot/usr/lib/aarch64-linux-gnu" ] || die "'$sysroot' is not an arm64 sysroot"
	sysroot=$(cd "$sysroot" && pwd)
	b=$sysroot/bin/busybox
	if [ -f "$b" ] && file -L "$b" | grep -q 'aarch64.*statically linked'; then busybox=$b; fi
	[ -n "$busybox" ] || die "no static arm64 busybox in $sysroot (busybox-static:arm64: scripts/arm64/sysroot.sh)"
else
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && file -L "$b" | grep -q 'statically linked'; then busybox=$b; break; fi
	done
	[ -n "$busybox" ] || die "no statically linked busybox (install busybox-static: scripts/setup-deps.sh --qemu)"
fi

if [ -z "$kdir" ]; then
	kline=$("$here/fetch-kernel.sh" --arch "$arch") || die "fetch-kernel.sh failed"
	kdir=${kline##*KDIR=}
fi
[ -f "$kdir/.kver" ] || die "'$kdir' is not a kernel unpacked by fetch-kernel.sh"
kver=$(cat "$kdir/.kver")
mdir=$kdir/lib/modules/$kver
[ -f "$mdir/modules.dep" ] || die "$mdir/modules.dep missing (depmod not run?)"

root=$(mktemp -d "${TMPDIR:-/tmp}/uiommu-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,etc/uiommu,proc,sys,dev,dev/hugepages,tmp,run,var,uiommu/bin,uiommu/lib,uiommu/share,mnt}
ln -s ../run "$root/var/run"
cp "$busybox" "$root/bin/busybox"

# Copy a library (or the loader) to the same path, or to /uiommu/lib when it
# lives outside the system directories.
copy_lib() {
	local src=$1 dest
	case "$src" in
	"$sysroot"/lib/*|"$sysroot"/usr/lib/*) dest=${src#"$sysroot"} ;;
	/lib/*|/lib64/*|/usr/lib/*|/usr/lib64/*) dest=$src ;;
	*) dest=/uiommu/lib/$(basename "$src") ;;
	esac
	if [ "$arch" = arm64 ]; then
		case "$src" in
		"$sysroot"/*) ;;
		/lib/*|/lib64/*|/usr/lib/*|/usr/lib64/*) die "$src: a host library for an arm64 guest" ;;
		esac
	fi
	[ -e "$root$dest" ] && return 0
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$src" "$root$dest"
}

# arm64: resolve one DT_NEEDED name of @elf the way the guest's loader
# will: @elf's DT_RUNPATH/DT_RPATH ($ORIGIN expanded: the build tree), then
# the sysroot's multiarch and plain library directories.
find_lib_foreign() {
	local elf=$1 name=$2 d origin
	origin=$(cd "$(dirname "$elf")" && pwd)
	local dirs=()
	while IFS= read -r d; do
		[ -n "$d" ] && dirs+=("${d//\$ORIGIN/$origin}")
	done < <(readelf -d "$elf" 2>/dev/null |
		sed -n -E 's/.*\((RUNPATH|RPATH)\).*\[(.*)\]/\2/p' | tr ':' '\n')
	dirs+=("$sysroot/lib/aarch64-linux-gnu" "$sysroot/usr/lib/aarch64-linux-gnu"
	       "$sysroot/lib" "$sysroot/usr/lib")
	for d in "${dirs[@]}"; do
		if [ -e "$d/$name" ]; then
			echo "$d/$name"
			return 0
		fi
	done
	return 1
}

# arm64: the program interpreter and the DT_NEEDED closure (readelf).
declare -A done_foreign=()
copy_deps_foreign() {
	local elf=$1 interp name lib
	[ -n "${done_foreign[$elf]:-}" ] && return 0
	done_foreign[$elf]=1
	readelf -h "$elf" 2>/dev/null | grep -q 'Machine:.*AArch64' ||
		die "$elf is not an AArch64 ELF file"
	interp=$(readelf -l "$elf" 2>/dev/null |
		sed -n -E 's/.*\[Requesting program interpreter: (.*)\]/\1/p')
	if [ -n "$interp" ]; then
		[ -e "$sysroot$interp" ] || die "$elf: loader $interp not in $sysroot"
		mkdir -p "$root$(dirname "$interp")"
		[ -e "$root$interp" ] || cp -L "$sysroot$interp" "$root$interp"
	fi
	for name in $(readelf -d "$elf" 2>/dev/null | sed -n -E 's/.*\(NEEDED\).*\[(.*)\]/\1/p'); do
		lib=$(find_lib_foreign "$elf" "$name") ||
			die "$elf: shared library $name found neither in its RUNPATH nor in $sysroot"
		copy_lib "$lib"
		copy_deps_foreign "$lib"
	done
}

# Copy every shared library an ELF file needs (ldd is transitive).
copy_deps() {
	local elf=$1 line lib
	file -L "$elf" | grep -q 'dynamically linked' || return 0
	if [ "$arch" = arm64 ]; then
		copy_deps_foreign "$elf"
		return 0
	fi
	local lddout
	lddout=$(ldd "$elf" 2>&1) || die "ldd $elf failed: $lddout"
	while IFS= read -r line; do
		case "$line" in
		*"not found"*) die "$elf: shared library missing on the host: $line" ;;
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		*/*) lib=${line%% (*}; lib=${lib#"${lib%%[! 	]*}"} ;;
		*) continue ;;
		esac
		copy_lib "$lib"
	done <<<"$lddout"
}

install_file() {
	local src=$1 dest=$2
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$src" "$root$dest"
	case "$(file -L -b "$src")" in
	ELF*) copy_deps "$src" ;;
	esac
}

install_file "$prog" "/uiommu/bin/$(basename "$prog")"
for x in "$@"; do
	src=${x%%:*}
	dest=
	[ "$src" != "$x" ] && dest=${x#*:}
	[ -e "$src" ] || die "extra file '$src' not found"
	if [ -z "$dest" ]; then
		if [ -x "$src" ] && file -L -b "$src" | grep -q '^ELF'; then
			dest=/uiommu/bin/$(basename "$src")
		else
			dest=/uiommu/share/$(basename "$src")
		fi
	fi
	install_file "$src" "$dest"
done

# glibc dlopens libgcc_s.so.1 (beside libc) for thread cancellation, which
# ldd cannot see: rte_eal_cleanup() of a multi-process EAL (hugepage files,
# a primary and its secondaries) cancels its threads and aborts without it.
if [ "$arch" = arm64 ]; then
	libc=
	file -L "$prog" | grep -q 'dynamically linked' && libc=$(find_lib_foreign "$prog" libc.so.6 || true)
else
	libc=$(ldd "$prog" 2>/dev/null | sed -n -E 's/.*=> (\/[^ ]*\/libc\.so\.6) .*/\1/p' | head -n1)
fi
if [ -n "$libc" ] && [ -e "$(dirname "$libc")/libgcc_s.so.1" ]; then
	copy_lib "$(dirname "$libc")/libgcc_s.so.1"
fi

# DPDK plugins: EAL dlopens every .so in its build-time plugin directory.
if [ -n "$plugins" ]; then
	if [ "$arch" = arm64 ]; then
		eal=$(find_lib_foreign "$prog" librte_eal.so.23 || true)
	else
		eal=$(ldd "$prog" | sed -n -E 's/.*=> (\/[^ ]*librte_eal\.so[^ ]*).*/\1/p' | head -n1)
	fi
	[ -n "$eal" ] || die "--dpdk-plugins given but $prog does not link librte_eal"
	pdir=$(strings "$eal" | sed -n 's/^DPDK_PLUGIN_PATH=//p' | head -n1)
	[ -d "$sysroot$pdir" ] || die "DPDK plugin directory '$sysroot$pdir' (from $eal) not found"
	for p in $plugins; do
		so=$(find "$sysroot$pdir" -maxdepth 1 -name "librte_$p.so.*" -type f | sort -V | tail -n1)
		[ -n "$so" ] || die "DPDK plugin librte_$p not found in $sysroot$pdir"
		# EAL loads files named *.so or *.so.<ABI>; one copy is enough.
		abi=${so#*.so.}
		abi=${abi%%.*}
		mkdir -p "$root$pdir"
		cp -L "$so" "$root$pdir/librte_$p.so.$abi"
		copy_deps "$so"
	done
fi

# Kernel modules with their dependencies, in load order.
declare -A seen=()
order=()
# Module names: '-' and '_' are the same (vfio-pci.ko is module vfio_pci).
mod_re() { local r=${1//-/_}; echo "${r//_/[-_]}"; }
dep_of() { sed -n "s|^\\([^:]*/$(mod_re "$1")\\.ko[^:]*\\):\\(.*\\)|\\1:\\2|p" "$mdir/modules.dep" | head -n1; }
add_mod() {
	local name=$1 line path deps d
	line=$(dep_of "$name")
	if [ -z "$line" ]; then
		# Built into the kernel?  Then there is nothing to load.
		if grep -q "/$(mod_re "$name")\\.ko" "$mdir/modules.builtin" 2>/dev/null; then return 0; fi
		die "module '$name' not found in $mdir/modules.dep"
	fi
	path=${line%%:*}
	[ -n "${seen[$path]:-}" ] && return 0
	seen[$path]=1
	deps=${line#*:}
	for d in $deps; do
		d=$(basename "$d"); d=${d%%.ko*}
		add_mod "$d"
	done
	order+=("$path")
}
read -r -a mods_n <<<"$modules"
for m in "${mods_n[@]}"; do add_mod "${m//-/_}"; done
: > "$root/etc/uiommu/modules"
for path in "${order[@]}"; do
	mkdir -p "$root/lib/modules/$kver/$(dirname "$path")"
	case "$path" in
	*.ko) cp "$mdir/$path" "$root/lib/modules/$kver/$path" ;;
	*) die "compressed module $path: busybox insmod needs plain .ko" ;;
	esac
	echo "/lib/modules/$kver/$path" >> "$root/etc/uiommu/modules"
done

basename "$prog" > "$root/etc/uiommu/default-run"
echo "$kver" > "$root/etc/uiommu/kver"
echo "$arch" > "$root/etc/uiommu/arch"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"

mkdir -p "$(dirname "$out")"
tmpout=$out.tmp.$$
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 > "$tmpout"
mv "$tmpout" "$out"
echo "mkinitramfs.sh: $out ($(du -h "$out" | cut -f1), $arch, kernel $kver, modules: ${#order[@]})" >&2
