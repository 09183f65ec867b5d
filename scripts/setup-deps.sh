#!/usr/bin/env bash
# Install every Debian 12 package uiommu needs to build, test and run its
# QEMU tests.  Idempotent; safe to run repeatedly.  Needs root (or sudo).
#
#   scripts/setup-deps.sh            build + unit-test dependencies
#   scripts/setup-deps.sh --qemu     also QEMU, kernel tooling, busybox
#   scripts/setup-deps.sh --backports  also enable bookworm-backports
#                                    (QEMU 10) derived from this machine's
#                                    own Debian apt source
#   scripts/setup-deps.sh --package  also what the Debian packages, man
#                                    pages and API reference need
#                                    (debian/control Build-Depends, scdoc,
#                                    doxygen, lintian)
#   scripts/setup-deps.sh --arm64    also the aarch64 cross build and QEMU
#                                    suite: cross compiler, qemu-user +
#                                    binfmt, qemu-system-arm (backports),
#                                    UEFI firmware, and the arm64 sysroot
#                                    (scripts/arm64/sysroot.sh, cached)
set -euo pipefail

want_qemu=0
want_bpo=0
want_pkg=0
want_arm64=0
for a in "$@"; do
	case "$a" in
	--qemu) want_qemu=1 ;;
	--backports) want_qemu=1; want_bpo=1 ;;
	--package) want_pkg=1 ;;
	--arm64) want_qemu=1; want_bpo=1; want_arm64=1 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "setup-deps.sh: unknown option '$a'" >&2; exit 2 ;;
	esac
done

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

pkgs=(
	build-essential pkg-config meson ninja-build
	libdpdk-dev libpci-dev libnuma-dev libcunit1-dev libjansson-dev
	acpica-tools clang valgrind python3
)
if [ "$want_qemu" = 1 ]; then
	pkgs+=(qemu-system-x86 qemu-system-data busybox-static cpio kmod
	       ipxe-qemu seabios qemu-utils)
	# scripts/qemu/mkinitramfs.sh: file(1) to tell ELF programs apart.
	pkgs+=(file)
	# DPDK plugin tests (test/qemu, qemu-dpdk-testpmd-*): dpdk-testpmd and
	# its PMDs; make + xz for scripts/qemu/build-vfio-noiommu.sh.
	pkgs+=(dpdk-dev make xz-utils)
fi
if [ "$want_pkg" = 1 ]; then
	# dpkg-buildpackage with debian/control's Build-Depends (the ones not
	# above: debhelper, scdoc), lintian, the API reference (doxygen), and
	# man(1) for scripts/deb-test.sh.
	pkgs+=(dpkg-dev debhelper fakeroot lintian scdoc doxygen man-db procps)
fi
if [ "$want_arm64" = 1 ]; then
	# Cross compiler; qemu-user for the unit suite (meson exe_wrapper, and
	# binfmt_misc for the shell-script tests); UEFI for the ACPI boot;
	# binutils' readelf: the initramfs builder reads DT_NEEDED of foreign
	# binaries (ldd cannot run them).
	pkgs+=(crossbuild-essential-arm64 qemu-user-static binfmt-support
	       qemu-efi-aarch64 binutils)
fi

# Backports: derive the entry from the machine's own Debian source file so
# that no mirror host name is written into the repository.
enable_backports() {
	local out=/etc/apt/sources.list.d/uiommu-backports.sources
	[ -f "$out" ] && return 0
	local src
	src=$(grep -l -E '^Suites:.*\bbookworm\b' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
	if [ -n "$src" ]; then
		# Take the first stanza whose Suites line names plain bookworm.
		awk 'BEGIN{RS="";FS="\n"} /Suites:[^\n]*bookworm( |\n|$)/ && !done {
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Suites:/) print "Suites: bookworm-backports";
				else if ($i !~ /^#/) print $i;
			}
			done = 1 }' "$src" | $SUDO tee "$out" >/dev/null
	elif [ -f /etc/apt/sources.list ]; then
		grep -E '^deb .* bookworm( |$)' /etc/apt/sources.list | head -n1 |
			sed -E 's/ bookworm( |$)/ bookworm-backports\1/' |
			$SUDO tee /etc/apt/sources.list.d/uiommu-backports.list >/dev/null
	else
		echo "setup-deps.sh: no Debian apt source found to derive backports from" >&2
		return 1
	fi
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

need_update=0
if [ "$want_bpo" = 1 ] && [ ! -f /etc/apt/sources.list.d/uiommu-backports.sources ]; then
	enable_backports
	need_update=1
fi
if [ "${#missing[@]}" -gt 0 ] || [ "$need_update" = 1 ]; then
	$SUDO apt-get update -q
fi
if [ "${#missing[@]}" -gt 0 ]; then
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ "$want_bpo" = 1 ]; then
	bpo=(qemu-system-x86 qemu-system-data)
	[ "$want_arm64" = 1 ] && bpo+=(qemu-system-arm)
	# Only when one of them is missing or not yet the backports version
	# (a second run does not touch apt).
	bpo_missing=0
	for p in "${bpo[@]}"; do
		v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null || true)
		case "$v" in
		"install ok installed "*bpo*) ;;
		*) bpo_missing=1 ;;
		esac
	done
	if [ "$bpo_missing" = 1 ]; then
		$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports "${bpo[@]}"
	fi
fi

if [ "$want_arm64" = 1 ]; then
	# binfmt_misc lets the shell-script tests exec arm64 programs; it may
	# not be mounted (containers).  Without it only those tests fail: warn.
	if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
		$SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
			echo "setup-deps.sh: warning: cannot mount binfmt_misc (shell-script tests of the arm64 build will fail)" >&2
	fi
	if [ -e /proc/sys/fs/binfmt_misc/status ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
		$SUDO update-binfmts --enable qemu-aarch64 ||
			echo "setup-deps.sh: warning: cannot register qemu-aarch64 with binfmt_misc" >&2
	fi
	# The arm64 sysroot and meson cross file (as the calling user: no root
	# needed; cached, a second run only checks its stamp).
	bash "$(dirname "$0")/arm64/sysroot.sh" >&2
fi
echo "setup-deps.sh: dependencies present"
