#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: BSD-3-Clause
# /init of the uiommu QEMU test initramfs (copied by mkinitramfs.sh; runs in
# the guest under busybox sh, never on the host).
#
# Kernel command line parameters (all optional):
#   uiommu.run=P[,ARG...][+P[,ARG...]...]  programs to run, in order; words
#                        are separated by ',' and programs by '+' (the kernel
#                        command line splits on spaces).  Default: the
#                        program mkinitramfs.sh was given, without arguments.
#   uiommu.timeout=S     per-program timeout in seconds (default 120)
#   uiommu.hugepages=N   2 MiB hugepages to reserve (default 16)
#   uiommu.bind=0        do not bind edu to uio_pci_generic
#   uiommu.shell=1       start a shell on the console instead of powering off
#
# Output lines the host parses: "UIOMMU-BOOT <uptime>", the programs' own
# "UIOMMU-RESULT ..." lines, "UIOMMU-EXIT <prog> <status>" after each program
# and "UIOMMU-DONE" before power-off.
/bin/busybox --install -s /bin
export PATH=/uiommu/bin:/bin:/sbin
export LD_LIBRARY_PATH=/uiommu/lib
export HOME=/tmp TMPDIR=/tmp

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/hugepages
mount -t hugetlbfs hugetlbfs /dev/hugepages
mount -t tmpfs tmpfs /run
mkdir -p /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm

echo "UIOMMU-BOOT $(cut -d' ' -f1 /proc/uptime)"

cmdline=$(cat /proc/cmdline)
param() {
	for w in $cmdline; do
		case "$w" in
		"$1"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	echo "$2"
}

fatal() {
	echo "UIOMMU-INIT-ERROR $*"
	echo "UIOMMU-DONE"
	poweroff -f
}

nhp=$(param uiommu.hugepages 16)
echo "$nhp" > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages ||
	echo "# init: cannot reserve $nhp hugepages"
got=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)
[ "$got" = "$nhp" ] || echo "# init: reserved $got of $nhp hugepages"

while read -r m; do
	[ -n "$m" ] || continue
	insmod "$m" || fatal "insmod $m failed"
done < /etc/uiommu/modules

if [ "$(param uiommu.bind 1)" = 1 ]; then
	if [ -d /sys/bus/pci/drivers/uio_pci_generic ]; then
		echo "1234 11e8" > /sys/bus/pci/drivers/uio_pci_generic/new_id ||
			fatal "cannot bind edu to uio_pci_generic"
		i=0
		while [ ! -e /dev/uio0 ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		[ -e /dev/uio0 ] || echo "# init: /dev/uio0 did not appear (no edu device?)"
	else
		echo "# init: uio_pci_generic not loaded; edu not bound"
	fi
fi

tmo=$(param uiommu.timeout 120)
run=$(param uiommu.run "$(cat /etc/uiommu/default-run)")
echo "# init: uiommu.run=$run timeout=${tmo}s hugepages=$got"
IFS_SAVE=$IFS
IFS='+'
set -f
for cmd in $run; do
	IFS=','
	# shellcheck disable=SC2086 # split on ',' on purpose
	set -- $cmd
	IFS=$IFS_SAVE
	prog=$1
	start=$(cut -d' ' -f1 /proc/uptime)
	timeout -s KILL "$tmo" "$@"
	rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	echo "UIOMMU-EXIT $prog $rc start=$start end=$end"
	if [ "$rc" != 0 ]; then
		echo "# init: last kernel messages:"
		dmesg | tail -n 15 | sed 's/^/# dmesg: /'
	fi
	IFS='+'
done
IFS=$IFS_SAVE
set +f

echo "UIOMMU-DONE $(cut -d' ' -f1 /proc/uptime)"
if [ "$(param uiommu.shell 0)" = 1 ]; then
	setsid cttyhack sh
fi
sync
poweroff -f
