#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Boot the uiommu test guest once under QEMU (q35, TCG) with an emulated
# VT-d IOMMU and QEMU's edu device; collect the guest's result lines.
#
#   scripts/qemu/run-guest.sh [options] --initrd FILE
#
# Options:
#   --initrd FILE      initramfs from mkinitramfs.sh (required)
#   --kernel FILE      bzImage (default: fetch-kernel.sh's vmlinuz)
#   --qemu BIN         QEMU binary (default $UIOMMU_QEMU or qemu-system-x86_64)
#   --iommu PROPS      extra intel-iommu properties, comma separated, e.g.
#                      aw-bits=48 or x-scalable-mode=on,x-flts=on
#   --no-iommu         no IOMMU device at all
#   --iommu-model intel|amd  which IOMMU (default intel): amd is
#                      `-device amd-iommu,pt=off` (the default pt=on bypasses
#                      translation) with the kernel's amd_iommu=off; --iommu
#                      PROPS then are amd-iommu properties
#   --intel-iommu on|off  the guest kernel's intel_iommu= (default off: uiommu
#                      drives the unit; on: the kernel's driver owns it)
#   --append ARGS      extra kernel arguments (space separated)
#   --run SPEC         guest programs to run: uiommu.run= (see guest-init.sh)
#   --timeout SECS     hard limit for the whole QEMU run (default 180)
#   --mem SIZE         guest RAM (default 1G)
#   --bios qboot|seabios  firmware (default qboot when its ROM exists)
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
qemu=${UIOMMU_QEMU:-qemu-system-x86_64}
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
	--iommu-model) iommu_model=${2:?}; shift 2 ;;
	--intel-iommu) kiommu=${2:?}; shift 2 ;;
	--append) append="$append ${2?}"; shift 2 ;;
	--run) run=${2?}; shift 2 ;;
	--timeout) tmo=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--bios) bios=${2:?}; shift 2 ;;
	--qemu-arg) extra+=("${2?}"); shift 2 ;;
	--logdir) logdir=${2:?}; shift 2 ;;
	-v|--verbose) verbose=1; shift ;;
	-h|--help) sed -n '3,30p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$initrd" ] || die "--initrd is required"
[ -f "$initrd" ] || die "initramfs '$initrd' not found"
command -v "$qemu" >/dev/null 2>&1 || die "QEMU binary '$qemu' not found (scripts/setup-deps.sh --backports)"
case "$tmo" in ''|*[!0-9]*) die "--timeout wants whole seconds" ;; esac
case "$kiommu" in on|off) ;; *) die "--intel-iommu wants on or off" ;; esac
case "$iommu_model" in intel|amd) ;; *) die "--iommu-model wants intel or amd" ;; esac
if [ -z "$kernel" ]; then
	kline=$("$here/fetch-kernel.sh") || die "fetch-kernel.sh failed"
	kdir=${kline##*KDIR=}
	kver=${kline#KVER=}
	kver=${kver%% *}
	kernel=$kdir/boot/vmlinuz-$kver
fi
[ -f "$kernel" ] || die "kernel '$kernel' not found"

# Firmware: qboot saves ~1.5-2 s of SeaBIOS per boot.
datadir=
for d in /usr/share/qemu /usr/share/seabios; do
	[ -f "$d/qboot.rom" ] && { datadir=$d; break; }
done
if [ -z "$bios" ]; then
	if [ -n "$datadir" ]; then bios=qboot; else bios=seabios; fi
fi
fw=()
case "$bios" in
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

cmdline="console=ttyS0 intel_iommu=$kiommu panic=-1 quiet"
[ "$iommu_model" = amd ] && cmdline="$cmdline amd_iommu=off"
[ -n "$run" ] && cmdline="$cmdline uiommu.run=$run"
cmdline="$cmdline${append:+ }${append# }"

dev_iommu=()
if [ "$iommu" = 1 ]; then
	if [ "$iommu_model" = amd ]; then
		dev_iommu=(-device "amd-iommu,pt=off${iommu_props:+,$iommu_props}")
	else
		dev_iommu=(-device "intel-iommu,intremap=off${iommu_props:+,$iommu_props}")
	fi
fi

# -nodefaults: no VGA, no NIC, no CD-ROM, so nothing else does DMA once
# translation is on; -cpu max: DPDK's EAL needs SSE4.2, qemu64 lacks it.
args=(-M q35 -cpu max -m "$mem" -smp 1 -nodefaults -no-reboot
      -display none -vga none -nic none -monitor none -serial stdio
      "${fw[@]}" "${dev_iommu[@]}"
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
