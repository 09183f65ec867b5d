#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Boot the uiommu test guest once under QEMU (TCG) with an emulated IOMMU
# and QEMU's edu device; collect the guest's result lines.  amd64: q35 with
# VT-d (intel-iommu); arm64: virt with the SMMUv3 (iommu=smmuv3).
#
#   scripts/qemu/run-guest.sh [options] --initrd FILE
#
# Options:
#   --initrd FILE      initramfs from mkinitramfs.sh (required)
#   --arch amd64|arm64 guest architecture (default amd64, or
#                      $UIOMMU_QEMU_ARCH)
#   --kernel FILE      bzImage / arm64 Image (default: fetch-kernel.sh's)
#   --qemu BIN         QEMU binary (default $UIOMMU_QEMU, else
#                      qemu-system-x86_64 / qemu-system-aarch64)
#   --iommu PROPS      amd64: extra intel-iommu properties, comma separated,
#                      e.g. aw-bits=48 or x-scalable-mode=on,x-flts=on;
#                      arm64: extra virt machine properties
#   --no-iommu         no IOMMU device at all
#   --kernel-iommu on|off  whether the guest kernel's IOMMU driver may take
#                      the unit (default off: uiommu drives it).  amd64:
#                      intel_iommu=on|off; arm64: off adds
#                      initcall_blacklist=arm_smmu_driver_init
#   --intel-iommu on|off  the same (older name)
#   --firmware dt|uefi arm64: direct kernel boot with a device tree (default),
#                      or UEFI (qemu-efi-aarch64) with ACPI (acpi=force)
#   --iommu-model intel|amd  amd64: which IOMMU (default intel): amd is
#                      `-device amd-iommu,pt=off` (the default pt=on bypasses
#                      translation) with the kernel's amd_iommu=off (on
#                      with --kernel-iommu on); --iommu
#                      PROPS then are amd-iommu properties
#   --append ARGS      extra kernel arguments (space separated)
#   --run SPEC         guest programs to run: uiommu.run= (see guest-init.sh)
#   --timeout SECS     hard limit for the whole QEMU run (default 180)
#   --mem SIZE         guest RAM (default 1G)
#   --bios qboot|seabios  amd64 firmware (default qboot when its ROM exists)
#   --qemu-arg ARG     one more raw QEMU argument (repeatable)
#   --logdir DIR       where console.log, qemu-stderr.log and cmdline go
#                      (default: a new directory under ${TMPDIR:-/tmp})
#   -v, --verbose      copy the serial console to stderr as it arrives
#
# Prints every UIOMMU-* line of the console on stdout.  Exit status: 0 when
# the guest reached UIOMMU-DONE and QEMU exited by itself, 124 on timeout,
# 1 otherwise.  QEMU's stderr (one line per DMA fault) is kept apart in
# qemu-stderr.log.
set -euo pipefail

die() { echo "run-guest.sh: $*" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
arch=${UIOMMU_QEMU_ARCH:-amd64}
qemu=${UIOMMU_QEMU:-}
firmware=dt
kernel=
initrd=
iommu_props=
iommu=1
iommu_model=intel
kiommu=off
append=
run=
tmo=180
mem=1G
bios=
logdir=
verbose=0
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--initrd) initrd=${2:?}; shift 2 ;;
	--kernel) kernel=${2:?}; shift 2 ;;
	--qemu) qemu=${2:?}; shift 2 ;;
	--iommu) iommu_props=${2?}; shift 2 ;;
	--no-iommu) iommu=0; shift ;;
	--intel-iommu|--kernel-iommu) kiommu=${2:?}; shift 2 ;;
	--arch) arch=${2:?}; shift 2 ;;
	--firmware) firmware=${2:?}; shift 2 ;;
	--iommu-model) iommu_model=${2:?}; shift 2 ;;
	--append) append="$append ${2?}"; shift 2 ;;
	--run) run=${2?}; shift 2 ;;
	--timeout) tmo=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--bios) bios=${2:?}; shift 2 ;;
	--qemu-arg) extra+=("${2?}"); shift 2 ;;
	--logdir) logdir=${2:?}; shift 2 ;;
	-v|--verbose) verbose=1; shift ;;
	-h|--help) sed -n '3,40p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$initrd" ] || die "--initrd is required"
[ -f "$initrd" ] || die "initramfs '$initrd' not found"
case "$arch" in
amd64) qemu=${qemu:-qemu-system-x86_64} ;;
arm64) qemu=${qemu:-qemu-system-aarch64} ;;
*) die "--arch wants amd64 or arm64" ;;
esac
case "$firmware" in
dt|uefi) ;;
*) die "--firmware wants dt or uefi" ;;
esac
[ "$firmware" = uefi ] && [ "$arch" != arm64 ] && die "--firmware uefi is for --arch arm64"
command -v "$qemu" >/dev/null 2>&1 || die "QEMU binary '$qemu' not found (scripts/setup-deps.sh --backports, or --arm64)"
case "$tmo" in ''|*[!0-9]*) die "--timeout wants whole seconds" ;; esac
case "$kiommu" in on|off) ;; *) die "--intel-iommu wants on or off" ;; esac
case "$iommu_model" in intel|amd) ;; *) die "--iommu-model wants intel or amd" ;; esac
if [ -z "$kernel" ]; then
	kline=$("$here/fetch-kernel.sh" --arch "$arch") || die "fetch-kernel.sh failed"
	kdir=${kline##*KDIR=}
	kver=${kline#KVER=}
	kver=${kver%% *}
	kernel=$kdir/boot/vmlinuz-$kver
fi
[ -f "$kernel" ] || die "kernel '$kernel' not found"

# Firmware: qboot saves ~1.5-2 s of SeaBIOS per boot (amd64).
datadir=
for d in /usr/share/qemu /usr/share/seabios; do
	[ -f "$d/qboot.rom" ] && { datadir=$d; break; }
done
if [ -z "$bios" ]; then
	if [ -n "$datadir" ]; then bios=qboot; else bios=seabios; fi
fi
fw=()
[ "$arch" = arm64 ] && bios=none
case "$bios" in
none) ;;
qboot) [ -n "$datadir" ] || die "qboot.rom not found (qemu-system-data)"
       fw=(-bios "$datadir/qboot.rom") ;;
seabios) ;;
*) die "--bios wants qboot or seabios" ;;
esac

if [ -z "$logdir" ]; then
	logdir=$(mktemp -d "${TMPDIR:-/tmp}/uiommu-qemu.XXXXXX")
fi
mkdir -p "$logdir"
console=$logdir/console.log
qerr=$logdir/qemu-stderr.log

if [ "$arch" = arm64 ]; then
	# Debian's arm64 kernel has the SMMUv3 driver built in: the initcall
	# blacklist keeps it off the unit (CR0 stays 0, /dev/mem maps it).
	cmdline="console=ttyAMA0 panic=-1 quiet"
	# deferred_probe_timeout=0: devices behind the SMMU wait for its driver
	# (-EPROBE_DEFER: uio_pci_generic cannot bind edu) until the deferred
	# probe timeout; with 0 they stop waiting once the initcalls are done.
	[ "$kiommu" = off ] && cmdline="$cmdline initcall_blacklist=arm_smmu_driver_init deferred_probe_timeout=0"
	# ACPI: the IORT code defers every device behind the SMMU while its
	# driver is built in, whatever the probe timeout: uio_pci_generic can
	# never bind edu, so do not wait for it (guest programs map BAR0 through
	# sysfs resource0 instead).
	if [ "$firmware" = uefi ]; then
		cmdline="$cmdline acpi=force"
		[ "$kiommu" = off ] && cmdline="$cmdline uiommu.bind=0"
	fi
else
	cmdline="console=ttyS0 intel_iommu=$kiommu panic=-1 quiet"
	# AMD: the kernel's amd_iommu driver is on by default; keep it off
	# unless --kernel-iommu on (bench/qemu/run.sh side A).
	[ "$iommu_model" = amd ] && [ "$kiommu" = off ] && cmdline="$cmdline amd_iommu=off"
fi
[ -n "$run" ] && cmdline="$cmdline uiommu.run=$run"
cmdline="$cmdline${append:+ }${append# }"

dev_iommu=()
machine=q35
if [ "$arch" = arm64 ]; then
	machine=virt
	[ "$iommu" = 1 ] && machine="$machine,iommu=smmuv3"
	machine="$machine${iommu_props:+,$iommu_props}"
	if [ "$firmware" = uefi ]; then
		efi=
		for f in /usr/share/qemu-efi-aarch64/QEMU_EFI.fd /usr/share/AAVMF/AAVMF_CODE.fd; do
			[ -f "$f" ] && { efi=$f; break; }
		done
		[ -n "$efi" ] || die "no arm64 UEFI firmware (qemu-efi-aarch64: scripts/setup-deps.sh --arm64)"
		# UEFI loads the kernel and initrd QEMU passes through fw_cfg and
		# hands over QEMU's ACPI tables (IORT included) instead of a DT.
		fw=(-bios "$efi")
	fi
elif [ "$iommu" = 1 ]; then
	if [ "$iommu_model" = amd ]; then
		dev_iommu=(-device "amd-iommu,pt=off${iommu_props:+,$iommu_props}")
	else
		dev_iommu=(-device "intel-iommu,intremap=off${iommu_props:+,$iommu_props}")
	fi
fi

# -nodefaults: no VGA, no NIC, no CD-ROM, so nothing else does DMA once
# translation is on; -cpu max: DPDK's EAL needs SSE4.2 (x86: qemu64 lacks
# it) or CRC32 (arm64: DPDK is built with -march=armv8-a+crc).
args=(-M "$machine" -cpu max -m "$mem" -smp 1 -nodefaults -no-reboot
      -display none -nic none -monitor none -serial stdio)
[ "$arch" = amd64 ] && args+=(-vga none)
args+=("${fw[@]}" "${dev_iommu[@]}"
      -device "edu,dma_mask=0xffffffffffffffff"
      -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      "${extra[@]}")
printf '%q ' "$qemu" "${args[@]}" > "$logdir/cmdline"
echo >> "$logdir/cmdline"

t0=$(date +%s.%N)
set +e
if [ "$verbose" = 1 ]; then
	timeout -k 5 "$tmo" "$qemu" "${args[@]}" </dev/null 2>"$qerr" | tee "$console" >&2
	rc=${PIPESTATUS[0]}
else
	timeout -k 5 "$tmo" "$qemu" "${args[@]}" </dev/null >"$console" 2>"$qerr"
	rc=$?
fi
set -e
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# Strip CRs and anything before the marker (kernel output can share a line).
grep -a -o 'UIOMMU-[A-Z-]*.*' "$console" | tr -d '\r' || true
nfault=$(grep -c -i -E 'fault|dmar' "$qerr" 2>/dev/null || true)
echo "run-guest.sh: QEMU exit $rc after ${secs}s; $(wc -l < "$qerr") stderr lines (${nfault:-0} fault-like); logs in $logdir" >&2

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run-guest.sh: timeout after ${tmo}s; last console lines:" >&2
	tail -n 20 "$console" | tr -d '\r' | sed 's/^/  | /' >&2
	exit 124
fi
if [ "$rc" != 0 ] || ! grep -a -q 'UIOMMU-DONE' "$console"; then
	echo "run-guest.sh: guest did not finish (QEMU exit $rc); last console lines:" >&2
	tail -n 20 "$console" | tr -d '\r' | sed 's/^/  | /' >&2
	[ -s "$qerr" ] && { echo "run-guest.sh: QEMU stderr:" >&2; tail -n 5 "$qerr" | sed 's/^/  ! /' >&2; }
	exit 1
fi
exit 0
