#!/usr/bin/env bash
# Install every Debian 12 package uiommu needs to build, test and run its
# QEMU tests.  Idempotent; safe to run repeatedly.  Needs root (or sudo).
#
#   scripts/setup-deps.sh            build + unit-test dependencies
#   scripts/setup-deps.sh --qemu     also QEMU, kernel tooling, busybox
#   scripts/setup-deps.sh --backports  also enable bookworm-backports
#                                    (QEMU 10) derived from this machine's
#                                    own Debian apt source
set -euo pipefail

want_qemu=0
want_bpo=0
for a in "$@"; do
	case "$a" in
	--qemu) want_qemu=1 ;;
	--backports) want_qemu=1; want_bpo=1 ;;
	-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
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
	$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports \
		qemu-system-x86 qemu-system-data
fi
echo "setup-deps.sh: dependencies present"
