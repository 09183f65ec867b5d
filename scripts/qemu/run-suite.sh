#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One QEMU test: fetch the kernel, build the initramfs, boot once, check
# that every expected scenario reported PASS.  Used by test/qemu/meson.build
# (meson test --suite qemu) and runnable by hand.
#
#   scripts/qemu/run-suite.sh --prog GUEST_EXE --expect "SCEN ..." [options]
#
# Options:
#   --prog EXE         guest program (first program of the initramfs)
#   --extra FILE       another file/program for the initramfs (repeatable;
#                      SRC:DEST allowed, see mkinitramfs.sh)
#   --expect "A B"     scenarios that must report PASS (space separated)
#   --run SPEC         uiommu.run= value (default: "<prog>,A,B": the
#                      program with the expected scenarios as arguments)
#   --name NAME        test name, used for the work directory
#   --workdir DIR      initramfs and logs (default: $UIOMMU_QEMU_WORKDIR or
#                      <cache>/work/<name>)
#   --allow-skip       an expected scenario reporting SKIP does not fail
#   --dpdk-plugins L   passed to mkinitramfs.sh
#   --modules L        passed to mkinitramfs.sh
#   --stderr-match RE  QEMU's stderr (one line per DMA fault) must have a
#                      line matching the extended regex RE (repeatable)
#   --stderr-no-match RE  ... and no line matching RE (repeatable)
#   --iommu PROPS      extra intel-iommu properties; a property this QEMU
#                      lacks makes the test skip (or fail when required)
#   --arch amd64|arm64 guest architecture (default: from the guest
#                      program's ELF header: an aarch64 program boots
#                      qemu-system-aarch64 -M virt,iommu=smmuv3)
#   --append ARGS, --qemu BIN, --timeout SECS, --bios B, --qemu-arg ARG,
#   --firmware dt|uefi, --kernel-iommu on|off, --no-iommu, -v
#                      passed to run-guest.sh
#   --iommu-model intel|amd  passed to run-guest.sh (--iommu properties are
#                      then checked against that device)
#
# Exit status: 0 all expected scenarios passed; 1 failure; 77 skipped.
# Missing dependencies (QEMU, busybox-static, the kernel package, a QEMU
# property) skip the test, except when the harness is *required*:
# UIOMMU_QEMU_REQUIRED=1, or CI=true with UIOMMU_QEMU_REQUIRED unset.
# UIOMMU_QEMU_REQUIRED=0 always allows skipping.
set -euo pipefail

# `meson test` of a cross build puts the cross compiler's library search
# directories, the sysroot's among them, in front of PATH: foreign programs
# there (the arm64 sysroot's sed, tar, ...) must not shadow the host's.
clean_path=
IFS=: read -r -a path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
	case "$d" in *aarch64-linux-gnu*) continue ;; esac
	[ -e "$d/../.uiommu-sysroot" ] || [ -e "$d/../../.uiommu-sysroot" ] && continue
	clean_path=$clean_path${clean_path:+:}$d
done
export PATH=$clean_path

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

required=${UIOMMU_QEMU_REQUIRED:-}
if [ -z "$required" ]; then
	case "${CI:-}" in
	true|1|yes) required=1 ;;
	*) required=0 ;;
	esac
fi

say() { echo "run-suite.sh[${name:-?}]: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
missing() {
	if [ "$required" = 1 ]; then
		say "FAIL (dependency required: UIOMMU_QEMU_REQUIRED=1 or CI=true): $*"
		exit 1
	fi
	say "SKIP: $*"
	exit 77
}

prog=
extras=()
expect=
run=
name=
workdir=${UIOMMU_QEMU_WORKDIR:-}
allow_skip=0
mk_opts=()
rg_opts=()
iommu_props=
iommu_dev=intel-iommu
err_yes=()
err_no=()
qemu=${UIOMMU_QEMU:-}
arch=
while [ $# -gt 0 ]; do
	case "$1" in
	--prog) prog=${2:?}; shift 2 ;;
	--extra) extras+=("${2:?}"); shift 2 ;;
	--expect) expect=${2?}; shift 2 ;;
	--run) run=${2:?}; shift 2 ;;
	--name) name=${2:?}; shift 2 ;;
	--workdir) workdir=${2:?}; shift 2 ;;
	--allow-skip) allow_skip=1; shift ;;
	--stderr-match) err_yes+=("${2:?}"); shift 2 ;;
	--stderr-no-match) err_no+=("${2:?}"); shift 2 ;;
	--dpdk-plugins|--modules) mk_opts+=("$1" "${2?}"); shift 2 ;;
	--iommu) iommu_props=${2?}; rg_opts+=("$1" "$2"); shift 2 ;;
	--qemu) qemu=${2:?}; shift 2 ;;
	--arch) arch=${2:?}; shift 2 ;;
	--append|--timeout|--bios|--qemu-arg|--firmware|--kernel-iommu) rg_opts+=("$1" "${2?}"); shift 2 ;;
	--no-iommu|-v|--verbose) rg_opts+=("$1"); shift ;;
	--iommu-model) [ "${2:?}" = amd ] && iommu_dev=amd-iommu; rg_opts+=("$1" "$2"); shift 2 ;;
	-h|--help) sed -n '3,40p' "$0"; exit 0 ;;
	*) echo "run-suite.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$prog" ] || { echo "run-suite.sh: --prog is required" >&2; exit 2; }
[ -n "$expect" ] || { echo "run-suite.sh: --expect is required" >&2; exit 2; }
[ -x "$prog" ] || { echo "run-suite.sh: guest program '$prog' not built" >&2; exit 2; }
if [ -z "$arch" ]; then
	case "$(file -L -b "$prog" 2>/dev/null)" in
	*aarch64*) arch=arm64 ;;
	*) arch=amd64 ;;
	esac
fi
case "$arch" in
amd64) qemu=${qemu:-qemu-system-x86_64} ;;
arm64) qemu=${qemu:-qemu-system-aarch64} ;;
*) echo "run-suite.sh: --arch wants amd64 or arm64" >&2; exit 2 ;;
esac
name=${name:-$(basename "$prog")}
pbase=$(basename "$prog")
if [ -z "$run" ]; then
	run=$pbase
	for s in $expect; do run="$run,$s"; done
fi
cache=${UIOMMU_QEMU_CACHE:-$repo/.qemu-cache}
workdir=${workdir:-$cache/work/$name}
mkdir -p "$workdir"

# Dependencies.
command -v "$qemu" >/dev/null 2>&1 ||
	missing "QEMU '$qemu' not found (scripts/setup-deps.sh --backports, or --arm64)"
if [ -n "$iommu_props" ] && [ "$arch" = amd64 ]; then
	have=$("$qemu" -nodefaults -machine none -device "$iommu_dev",help 2>/dev/null || true)
	IFS=',' read -r -a plist <<<"$iommu_props"
	for p in "${plist[@]}"; do
		p=${p%%=*}
		grep -q -E "^ *$p=" <<<"$have" ||
			missing "$($qemu --version | head -n1) has no $iommu_dev property '$p'"
	done
fi
if [ "$arch" = arm64 ]; then
	# The arm64 busybox and libraries come from the sysroot.
	sline=$("$here/../arm64/sysroot.sh" 2>"$workdir/sysroot.log") ||
		missing "no arm64 sysroot: $(tail -n1 "$workdir/sysroot.log") (scripts/setup-deps.sh --arm64)"
	sysroot=${sline#SYSROOT=}
	sysroot=${sysroot%% *}
	mk_opts+=(--arch arm64 --sysroot "$sysroot")
	rg_opts+=(--arch arm64)
	file -L "$sysroot/bin/busybox" 2>/dev/null | grep -q 'aarch64.*statically linked' ||
		missing "no static arm64 busybox in $sysroot (scripts/arm64/sysroot.sh)"
else
	bb_ok=0
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && file -L "$b" 2>/dev/null | grep -q 'statically linked'; then bb_ok=1; fi
	done
	[ "$bb_ok" = 1 ] || missing "no statically linked busybox (busybox-static: scripts/setup-deps.sh --qemu)"
fi
kline=$("$here/fetch-kernel.sh" --arch "$arch" 2>"$workdir/fetch-kernel.log") ||
	missing "no guest kernel: $(tail -n1 "$workdir/fetch-kernel.log")"
kdir=${kline##*KDIR=}
kver=${kline#KVER=}
kver=${kver%% *}

# Build the initramfs and boot.
t0=$(date +%s.%N)
extra_args=()
[ "${#extras[@]}" -gt 0 ] && extra_args=("${extras[@]}")
"$here/mkinitramfs.sh" --kernel-dir "$kdir" "${mk_opts[@]}" \
	"$workdir/initramfs.cpio.gz" "$prog" "${extra_args[@]}" ||
	fail "mkinitramfs.sh failed"
set +e
"$here/run-guest.sh" --qemu "$qemu" --kernel "$kdir/boot/vmlinuz-$kver" \
	--initrd "$workdir/initramfs.cpio.gz" --logdir "$workdir" --run "$run" \
	"${rg_opts[@]}" > "$workdir/results.txt"
grc=$?
set -e
t1=$(date +%s.%N)
cat "$workdir/results.txt"

# Check the results.
bad=0
for s in $expect; do
	lines=$(grep -E "^UIOMMU-RESULT $s (PASS|FAIL|SKIP)( |$)" "$workdir/results.txt" || true)
	n=$(grep -c . <<<"$lines" || true)
	st=$(awk '{ print $3 }' <<<"$lines" | head -n1)
	if [ "$n" = 0 ]; then
		say "scenario $s: no result"; bad=1
	elif [ "$n" != 1 ]; then
		say "scenario $s: $n results"; bad=1
	elif [ "$st" = SKIP ] && [ "$allow_skip" = 1 ]; then
		say "scenario $s: SKIP (allowed)"
	elif [ "$st" != PASS ]; then
		say "scenario $s: $st"; bad=1
	fi
done
if grep -q -E '^UIOMMU-RESULT [^ ]+ FAIL' "$workdir/results.txt"; then
	say "a scenario reported FAIL"; bad=1
fi
while read -r _ p rc _; do
	[ "$rc" = 0 ] || { say "guest program $p exited with $rc"; bad=1; }
done < <(grep '^UIOMMU-EXIT ' "$workdir/results.txt" || true)
grep -q '^UIOMMU-INIT-ERROR' "$workdir/results.txt" && { say "guest /init failed"; bad=1; }
[ "$grc" = 0 ] || { say "run-guest.sh exited with $grc"; bad=1; }
for re in ${err_yes[@]+"${err_yes[@]}"}; do
	grep -q -E -e "$re" "$workdir/qemu-stderr.log" ||
		{ say "QEMU stderr has no line matching '$re'"; bad=1; }
done
for re in ${err_no[@]+"${err_no[@]}"}; do
	if grep -q -E -e "$re" "$workdir/qemu-stderr.log"; then
		say "QEMU stderr matches '$re': $(grep -m1 -E -e "$re" "$workdir/qemu-stderr.log")"; bad=1
	fi
done

secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
if [ "$bad" != 0 ]; then
	say "FAIL after ${secs}s; logs: $workdir/console.log, $workdir/qemu-stderr.log"
	exit 1
fi
say "PASS ($expect) in ${secs}s, kernel $kver, $($qemu --version | head -n1)"
exit 0
