#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Side-by-side benchmark: the kernel path (A: intel_iommu=on,
# VFIO type1) against uiommu (B: intel_iommu=off, uiommu drives the unit),
# same QEMU configuration, alternating boots A B A B ...  Not a test: it
# always exits 0 when every boot ran, whatever the figures.
# --arch arm64: aarch64 virt with iommu=smmuv3 (A: the kernel's
# arm-smmu-v3 driver + VFIO type1; B: initcall_blacklist=arm_smmu_driver_init,
# uiommu drives the SMMU); the guest programs come from an aarch64 build.
#
#   bench/qemu/run.sh [options]
#
# Options:
#   --build DIR     meson build directory with bench/guest_*_bench (default: build;
#                   --arch arm64: build-arm64, the aarch64 cross build)
#   --arch amd64|arm64  guest architecture (default amd64: q35 + intel-iommu)
#   --boots N       boots per side and series (default 3)
#   --series LIST   wall,icount (default both): "wall" = plain TCG, figures in
#                   ns; "icount" = QEMU -icount shift=0, the guest clock counts
#                   instructions, figures are guest instructions
#   --n4k N --n2m N --nbatch N --warm N   loop counts (default 2000 500 20 10)
#   --mem dpdk|shared   side B memory backend (default dpdk)
#   --iommu-model intel|amd  QEMU's IOMMU (default intel): amd is
#                   -device amd-iommu,pt=off; side A then runs the kernel's
#                   amd_iommu driver (on by default) + VFIO type1, side B
#                   amd_iommu=off and uiommu's AMD-Vi driver (fam=amdvi)
#   --workdir DIR   logs and initramfs (default <repo>/.qemu-cache/bench)
#   --out FILE      results file (default WORKDIR/results.md)
#
# Uses the QEMU harness (scripts/qemu/): fetch-kernel.sh, mkinitramfs.sh,
# run-guest.sh.  See docs/performance.md for what is measured and how.
set -euo pipefail

die() { echo "bench/qemu/run.sh: $*" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
qs=$repo/scripts/qemu
build=
arch=amd64
boots=3
series="wall,icount"
n4k=2000 n2m=500 nbatch=20 warm=10
mem=dpdk
model=intel
workdir=
out=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?}; shift 2 ;;
	--arch) arch=${2:?}; shift 2 ;;
	--boots) boots=${2:?}; shift 2 ;;
	--series) series=${2:?}; shift 2 ;;
	--n4k) n4k=${2:?}; shift 2 ;;
	--n2m) n2m=${2:?}; shift 2 ;;
	--nbatch) nbatch=${2:?}; shift 2 ;;
	--warm) warm=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--iommu-model) model=${2:?}; shift 2 ;;
	--workdir) workdir=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	-h|--help) sed -n '3,28p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
case "$arch" in
amd64) build=${build:-$repo/build} ;;
arm64) build=${build:-$repo/build-arm64} ;;
*) die "--arch wants amd64 or arm64" ;;
esac
build=$(cd "$build" && pwd) || die "build directory missing"
progA=$build/bench/guest_vfio_bench
progB=$build/bench/guest_uiommu_bench
{ [ -x "$progA" ] && [ -x "$progB" ]; } || die "build bench/guest_vfio_bench and bench/guest_uiommu_bench first (ninja -C $build)"
command -v python3 >/dev/null || die "python3 needed for the summary"
workdir=${workdir:-$repo/.qemu-cache/bench}
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
out=${out:-$workdir/results.md}

kline=$("$qs/fetch-kernel.sh" --arch "$arch") || die "fetch-kernel.sh failed"
kver=${kline#KVER=}; kver=${kver%% *}
"$qs/mkinitramfs.sh" --modules "vfio vfio_iommu_type1 vfio-pci" "$workdir/a.cpio.gz" "$progA"
"$qs/mkinitramfs.sh" "$workdir/b.cpio.gz" "$progB"

case "$model" in intel) fam= ;; amd) fam=amdvi ;; *) die "--iommu-model wants intel or amd" ;; esac
loops="n4k=$n4k,n2m=$n2m,nbatch=$nbatch,warm=$warm"
raw=$workdir/raw.txt
: > "$raw"
t0=$(date +%s)
IFS=',' read -r -a slist <<<"$series"
for s in "${slist[@]}"; do
	qargs=()
	case "$s" in
	wall) ;;
	icount) qargs=(--qemu-arg -icount --qemu-arg shift=0) ;;
	*) die "unknown series '$s'" ;;
	esac
	for i in $(seq 1 "$boots"); do
		for side in A B; do
			log=$workdir/$s-$i-$side
			if [ "$side" = A ] && [ "$model" = amd ]; then
				# The kernel's AMD-Vi driver turns interrupt remapping
				# on, which QEMU's amd-iommu cannot do for the IO-APIC
				# (panic "timer doesn't work through Interrupt-remapped
				# IO-APIC"): intremap=off.  QEMU 10.0.2 logs no events:
				# nofaultlog=1.
				args=(--initrd "$workdir/a.cpio.gz" --intel-iommu on
				      --append "uiommu.bind=0 intremap=off"
				      --run "guest_vfio_bench,$loops,nofaultlog=1")
			elif [ "$side" = A ]; then
				args=(--initrd "$workdir/a.cpio.gz" --intel-iommu on --append uiommu.bind=0
				      --run "guest_vfio_bench,$loops")
			else
				args=(--initrd "$workdir/b.cpio.gz" --intel-iommu off
				      --run "guest_uiommu_bench,$loops,mem=$mem${fam:+,fam=$fam}")
			fi
			args+=(--arch "$arch") # --intel-iommu is --kernel-iommu: arm64's arm-smmu-v3
			[ "$model" = intel ] || args+=(--iommu-model "$model")
			echo "== $s boot $i side $side" >&2
			rc=0
			"$qs/run-guest.sh" "${args[@]}" "${qargs[@]}" --timeout 300 --logdir "$log" > "$log.out" || rc=$?
			faults=$(grep -c 'detected translation failure' "$log/qemu-stderr.log" || true)
			sed "s/^/$s $i $side /" "$log.out" >> "$raw"
			echo "$s $i $side QEMU-FAULTS $faults" >> "$raw"
			echo "$s $i $side RUN-RC $rc" >> "$raw"
			grep -E 'UIOMMU-(RESULT|BENCH)' "$log.out" | sed 's/^/   /' >&2 || true
		done
	done
done
t1=$(date +%s)

python3 - "$raw" "$out" "$boots" "$loops" "$mem" "$kver" "$((t1 - t0))" "$arch" "$model" <<'EOF'
import re, statistics, sys, platform, subprocess
raw, out, boots, loops, mem, kver, secs, arch, model = sys.argv[1:10]
fig = {}      # (series, wl, side) -> [per]
extra = {}    # (wl) -> (desc, waits) of side B
checks = []   # (series, boot, side, line)
bad = []
for line in open(raw):
    f = line.split()
    if len(f) < 4:
        continue
    s, b, side, what = f[0], f[1], f[2], f[3]
    if what == 'UIOMMU-BENCH':
        kv = dict(x.split('=', 1) for x in f[4:] if '=' in x)
        fig.setdefault((s, kv['wl'], side), []).append(float(kv['per']))
        if side == 'B' and 'desc' in kv:
            extra[kv['wl']] = (kv['desc'], kv['waits'])
    elif what == 'UIOMMU-RESULT':
        if f[5] != 'PASS':
            bad.append(line.strip())
        if 'fault' in f[4] or f[4].endswith('-dma'):
            checks.append((s, b, side, ' '.join(f[4:])))
    elif what == 'QEMU-FAULTS':
        checks.append((s, b, side, 'QEMU stderr: %s "detected translation failure" line(s)' % f[4]))
    elif what == 'RUN-RC' and f[4] != '0':
        bad.append('%s boot %s side %s: run-guest.sh exit %s' % (s, b, side, f[4]))
try:
    qemu = subprocess.run(['qemu-system-aarch64' if arch == 'arm64' else 'qemu-system-x86_64', '--version'], capture_output=True, text=True).stdout.splitlines()[0]
except Exception:
    qemu = '?'
cpu = '?'
for l in open('/proc/cpuinfo'):
    if l.startswith('model name'):
        cpu = l.split(':', 1)[1].strip(); break
ncpu = sum(1 for l in open('/proc/cpuinfo') if l.startswith('processor'))
wls = [('4k', '4 KiB map+unmap'), ('4ka', '4 KiB map+unmap, neighbour page kept mapped'), ('2m', '2 MiB map+unmap'), ('256x4k', '256 x 4 KiB maps + 1 range unmap'),
       ('floor', 'floor (B only): PTE write + TLBI_NH_VA + CMD_SYNC, CMDQ_PROD, CONS poll' if arch == 'arm64' else
                 'floor (B only): PTE write + PSI + wait descriptors, IQT, status poll')]
o = []
o.append('# uiommu side-by-side benchmark (bench/qemu/run.sh)\n')
o.append('- host: %s, %d CPUs, %s; TCG (no KVM)' % (cpu, ncpu, platform.platform()))
o.append('- %s; guest kernel %s; %s, -smp 1, edu, -nic none' % (qemu, kver,
         'virt, iommu=smmuv3 (A: arm-smmu-v3 + VFIO type1)' if arch == 'arm64' else
         'q35, amd-iommu,pt=off (A: kernel amd_iommu + VFIO type1, B: amd_iommu=off + uiommu)' if model == 'amd' else
         'q35, intel-iommu,intremap=off'))
o.append('- %s boots per side and series, alternating A B; loops: %s; side B memory: %s; %s s in all\n' % (boots, loops, mem, secs))
for s, unit in (('wall', 'ns per iteration (wall clock of the TCG guest)'),
                ('icount', 'guest instructions per iteration (-icount shift=0)')):
    if not any(k[0] == s for k in fig):
        continue
    o.append('## %s: %s\n' % (s, unit))
    o.append('| workload | A: VFIO type1 median (min-max) | B: uiommu median (min-max) | A/B |')
    o.append('|---|---|---|---|')
    for wl, name in wls:
        a = fig.get((s, wl, 'A'), []); bb = fig.get((s, wl, 'B'), [])
        def cell(v):
            return '%.0f (%.0f-%.0f)' % (statistics.median(v), min(v), max(v)) if v else 'n/a'
        ratio = '%.1f' % (statistics.median(a) / statistics.median(bb)) if a and bb else 'n/a'
        o.append('| %s | %s | %s | %s |' % (name, cell(a), cell(bb), ratio))
    o.append('')
    if s == 'icount' and fig.get(('icount', '256x4k', 'B')):
        o.append('Per page in the batch: A %.0f, B %.0f guest instructions.\n' % (
            statistics.median(fig.get(('icount', '256x4k', 'A'), [0])) / 256,
            statistics.median(fig[('icount', '256x4k', 'B')]) / 256))
if extra:
    o.append('## side B invalidation work per iteration (driver counters)\n')
    o.append('| workload | descriptors | waits |')
    o.append('|---|---|---|')
    for wl, name in wls:
        if wl in extra:
            o.append('| %s | %s | %s |' % (name, extra[wl][0], extra[wl][1]))
    o.append('')
o.append('## checks (first boot of each series)\n')
seen = set()
for s, b, side, c in checks:
    if b == '1':
        o.append('- %s %s: %s' % (s, side, c))
o.append('')
if bad:
    o.append('## problems\n')
    o += ['- ' + x for x in bad]
    o.append('')
text = '\n'.join(o)
open(out, 'w').write(text + '\n')
print(text)
EOF
echo "bench/qemu/run.sh: results in $out; logs in $workdir" >&2
