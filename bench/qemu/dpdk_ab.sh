#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dpdk-testpmd throughput in QEMU (issue 17, docs/performance.md "DPDK
# plugin"): the same guest, the same QEMU command line (intel-iommu,
# intremap=off; two e1000e on one hub), boots alternating between
#   noplugin  uio_pci_generic, no IOMMU translation (intel_iommu=off)
#   plugin    uio_pci_generic + -d librte_uiommu.so --vdev uiommu
#   kernel    intel_iommu=on, vfio-pci with vfio_iommu_type1
#   igb       (only when asked for with --modes) igb_uio + the plugin;
#             igb_uio.ko is built by bench/qemu/build-igb-uio.sh
#   papp      (diagnostic) as plugin with poll=app: no fault-polling alarm
#   pvfio     (diagnostic) vfio-pci in no-IOMMU mode + the plugin (vfio.ko
#             rebuilt by scripts/qemu/build-vfio-noiommu.sh)
# (the order rotates from round to round).  Not a test: it prints a table.
#
# Two rates per boot over the same window of testpmd's counters:
#   wall pps  packets / host wall-clock seconds
#   cpu pps   packets / CPU seconds of the QEMU process (user + sys from
#             /proc/PID/stat): packets per unit of work QEMU did.  The
#             guest has one vCPU that testpmd keeps busy, so QEMU's CPU time
#             is the time it was allowed to run; on a shared host that
#             varies 2x, the work per packet does not.
# Each boot also records QEMU's share of a core (cpu / wall) and the host's
# busy fraction and steal over the window, to check the normalization: the
# cpu pps of a mode must not depend on the share QEMU got.
#
#   bench/qemu/dpdk_ab.sh [options]
#     --build DIR     meson build dir (default <repo>/build)
#     --rounds N      rounds of one boot per mode (default 5)
#     --first R       number of the first round (default 1: add rounds to a
#                     workdir's earlier ones)
#     --secs S        forwarding seconds per boot (default 20)
#     --skip K        statistics blocks skipped at the start (default 3)
#     --modes LIST    default "noplugin,plugin,kernel"
#     --vargs KV      more plugin keys, e.g. poll=app (default none)
#     --workdir DIR   default <repo>/.qemu-cache/dpdk-ab
#     --summary-only  only recompute the table from WORKDIR/samples
#     --trace PATTERN QEMU trace events (e.g. 'vtd_iotlb*') into each boot's
#                     qemu-stderr.log: a diagnostic, it slows QEMU down
set -euo pipefail

die() { echo "dpdk_ab.sh: $*" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
qs=$repo/scripts/qemu
build=$repo/build
first=1 rounds=5 secs=20 skip=3 modes=noplugin,plugin,kernel vargs= workdir= summary_only=0
trace=()
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?}; shift 2 ;;
	--rounds) rounds=${2:?}; shift 2 ;;
	--first) first=${2:?}; shift 2 ;;
	--secs) secs=${2:?}; shift 2 ;;
	--skip) skip=${2:?}; shift 2 ;;
	--modes) modes=${2:?}; shift 2 ;;
	--vargs) vargs=${2:?}; shift 2 ;;
	--workdir) workdir=${2:?}; shift 2 ;;
	--summary-only) summary_only=1; shift ;;
	--trace) trace+=(--qemu-arg -trace --qemu-arg "enable=${2:?}"); shift 2 ;;
	-h|--help) sed -n '3,40p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
workdir=${workdir:-$repo/.qemu-cache/dpdk-ab}
mkdir -p "$workdir/samples"
workdir=$(cd "$workdir" && pwd)
command -v python3 >/dev/null || die "python3 is needed for the table"
hz=$(getconf CLK_TCK)

summary() {
	python3 - "$workdir/samples" "$skip" "$hz" <<'EOF'
import glob, os, statistics as st, sys
sdir, skip, hz = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
boots = []
for f in sorted(glob.glob(os.path.join(sdir, '*.txt'))):
    rnd, mode = os.path.basename(f)[:-4].split('-', 1)
    lines = open(f).read().splitlines()
    rows = [l.split() for l in lines if l.strip() and not l.startswith('#')]
    g = {l.split()[2]: [int(x) for x in l.split()[4:]] for l in lines if l.startswith('# gcpu ')}
    gidle = -1.0
    if 'start' in g and 'end' in g:
        d = [b - a for a, b in zip(g['start'], g['end'])]
        gidle = d[3] / max(1, sum(d[:8]))
    if len(rows) < skip + 3:
        print('# %s: %d samples only, left out' % (os.path.basename(f), len(rows)))
        continue
    # n rx tx t_host qemu_ticks host_busy host_total host_steal load1 vcpu_ticks
    a, b = rows[skip], rows[-1]
    pk = int(b[1]) - int(a[1])
    wall = float(b[3]) - float(a[3])
    cpu = (int(b[4]) - int(a[4])) / hz
    busy = (int(b[5]) - int(a[5])) / max(1, int(b[6]) - int(a[6]))
    steal = (int(b[7]) - int(a[7])) / max(1, int(b[6]) - int(a[6]))
    boots.append(dict(r=int(rnd), mode=mode, pk=pk, wall=wall, cpu=cpu,
                      wpps=pk / wall, cpps=pk / cpu if cpu > 0 else 0, share=cpu / wall,
                      busy=busy, steal=steal, load=float(b[8]), gidle=gidle,
                      vcpu=(int(b[9]) - int(a[9])) / hz / cpu if len(a) > 9 and cpu > 0 else -1))
if not boots:
    sys.exit('no complete boot in ' + sdir)
modes = [m for m in ('noplugin', 'plugin', 'kernel', 'papp', 'pvfio', 'igb') if any(b['mode'] == m for b in boots)]
modes += sorted({b['mode'] for b in boots} - set(modes))
print('| round | mode | packets | wall s | QEMU cpu s | QEMU share | vCPU thread / QEMU cpu | guest idle | host busy | steal | load | wall pps | cpu pps |')
print('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for b in sorted(boots, key=lambda b: (b['r'], modes.index(b['mode']))):
    print('| %d | %s | %d | %.2f | %.2f | %.2f | %s | %s | %.2f | %.3f | %.2f | %.0f | %.0f |' % (
        b['r'], b['mode'], b['pk'], b['wall'], b['cpu'], b['share'],
        '%.3f' % b['vcpu'] if b['vcpu'] >= 0 else '-', '%.3f' % b['gidle'] if b['gidle'] >= 0 else '-',
        b['busy'], b['steal'], b['load'], b['wpps'], b['cpps']))

def q(v):
    v = sorted(v)
    if len(v) < 4:
        return v[0], v[-1]
    qs = st.quantiles(v, n=4)
    return qs[0], qs[2]

print()
print('| mode | boots | wall pps median (IQR) | cpu pps median (IQR) | cpu pps min-max | cpu pps CV |')
print('|---|---:|---|---|---|---:|')
for m in modes:
    w = [b['wpps'] for b in boots if b['mode'] == m]
    c = [b['cpps'] for b in boots if b['mode'] == m]
    cv = st.pstdev(c) / st.mean(c) if len(c) > 1 else 0
    wcv = st.pstdev(w) / st.mean(w) if len(w) > 1 else 0
    print('| %s | %d | %.0f (%.0f-%.0f; CV %.2f) | %.0f (%.0f-%.0f) | %.0f-%.0f | %.3f |' % (
        m, len(c), st.median(w), *q(w), wcv, st.median(c), *q(c), min(c), max(c), cv))

byr = {}
for b in boots:
    byr.setdefault(b['r'], {})[b['mode']] = b
print()
print('| ratio (paired by round) | pairs | wall median (min-max) | cpu median (IQR) | cpu min-max | cpu median: 95 % bootstrap interval | ratio of cpu medians |')
print('|---|---:|---|---|---|---|---:|')

def boot_ci(v, n=4000):
    # percentile bootstrap of the median (fixed seed: the same table each time)
    import random
    rnd = random.Random(17)
    meds = sorted(st.median(rnd.choices(v, k=len(v))) for _ in range(n))
    return meds[int(0.025 * n)], meds[int(0.975 * n) - 1]
for x, y in (('plugin', 'kernel'), ('plugin', 'noplugin'), ('kernel', 'noplugin'),
             ('papp', 'plugin'), ('pvfio', 'kernel'), ('pvfio', 'plugin'), ('igb', 'plugin')):
    pairs = [(d[x], d[y]) for d in byr.values() if x in d and y in d]
    if not pairs:
        continue
    rw = [a['wpps'] / b['wpps'] for a, b in pairs]
    rc = [a['cpps'] / b['cpps'] for a, b in pairs]
    mx = st.median([b['cpps'] for b in boots if b['mode'] == x])
    my = st.median([b['cpps'] for b in boots if b['mode'] == y])
    print('| %s / %s | %d | %.3f (%.3f-%.3f) | %.3f (%.3f-%.3f) | %.3f-%.3f | %.3f-%.3f | %.3f |' % (
        x, y, len(pairs), st.median(rw), min(rw), max(rw), st.median(rc), *q(rc), min(rc), max(rc),
        *boot_ci(rc), mx / my))

# The normalization check: within a mode, does cpu pps follow the share of
# a core QEMU got?  (Wall pps does, by construction.)
print()
print('| mode | boots with QEMU share below / above the mode median | cpu pps median below | above | above / below | wall pps above / below |')
print('|---|---|---:|---:|---:|---:|')
for m in modes:
    bs = sorted((b for b in boots if b['mode'] == m), key=lambda b: b['share'])
    if len(bs) < 4:
        continue
    lo, hi = bs[:len(bs) // 2], bs[(len(bs) + 1) // 2:]
    cl, ch = st.median([b['cpps'] for b in lo]), st.median([b['cpps'] for b in hi])
    wl, wh = st.median([b['wpps'] for b in lo]), st.median([b['wpps'] for b in hi])
    print('| %s | %d / %d (share %.2f-%.2f / %.2f-%.2f) | %.0f | %.0f | %.3f | %.3f |' % (
        m, len(lo), len(hi), lo[0]['share'], lo[-1]['share'], hi[0]['share'], hi[-1]['share'],
        cl, ch, ch / cl, wh / wl))
EOF
}
if [ $summary_only = 1 ]; then
	summary
	exit 0
fi

build=$(cd "$build" && pwd) || die "no build directory"
plugin=$build/src/dpdk/librte_uiommu.so
ctl=$build/apps/uiommuctl/uiommuctl
[ -f "$plugin" ] && [ -x "$ctl" ] || die "build the plugin and uiommuctl first (ninja -C $build)"
testpmd=$(command -v dpdk-testpmd) || die "dpdk-testpmd not found (dpdk-dev)"
kline=$("$qs/fetch-kernel.sh") || die "fetch-kernel.sh failed"
kdir=${kline##*KDIR=}
kver=$(cat "$kdir/.kver" 2>/dev/null || { k=${kline#KVER=}; echo "${k%% *}"; })
m=$kdir/lib/modules/$kver/kernel

igb=()
case ",$modes," in
*,igb,*)
	ko=$("$here/build-igb-uio.sh" "$kdir") || die "no igb_uio.ko for mode igb"
	igb=("$ko:/uiommu/share/igb_uio.ko")
	;;
esac
case ",$modes," in
*,pvfio,*)
	ko=$("$repo/scripts/qemu/build-vfio-noiommu.sh" "$kdir") || die "no no-IOMMU vfio.ko for mode pvfio"
	igb+=("$ko:/uiommu/share/vfio-noiommu.ko")
	;;
esac
# One initramfs for every mode: only the kernel command line differs.
"$qs/mkinitramfs.sh" --kernel-dir "$kdir" --modules 'uio uio_pci_generic' \
	--dpdk-plugins 'bus_pci net_e1000 mempool_ring' \
	"$workdir/initramfs.cpio.gz" "$testpmd" \
	"$here/guest_dpdk_ab.sh:/uiommu/bin/guest_dpdk_ab.sh" \
	"$plugin:/uiommu/lib/librte_uiommu.so" "$ctl" \
	"$m/virt/lib/irqbypass.ko:/uiommu/share/irqbypass.ko" \
	"$m/drivers/vfio/vfio.ko:/uiommu/share/vfio-debian.ko" \
	"$m/drivers/vfio/vfio_iommu_type1.ko:/uiommu/share/vfio_iommu_type1.ko" \
	"$m/drivers/vfio/vfio_virqfd.ko:/uiommu/share/vfio_virqfd.ko" \
	"$m/drivers/vfio/pci/vfio-pci-core.ko:/uiommu/share/vfio-pci-core.ko" \
	"$m/drivers/vfio/pci/vfio-pci.ko:/uiommu/share/vfio-pci.ko" ${igb[@]+"${igb[@]}"} \
	> "$workdir/mkinitramfs.log" 2>&1 ||
	die "mkinitramfs.sh failed: $(tail -n 3 "$workdir/mkinitramfs.log")"

# host_busy/host_total/steal from the first line of /proc/stat (jiffies)
hoststat() {
	local _c us ni sy id io irq sirq steal _rest
	read -r _c us ni sy id io irq sirq steal _rest < /proc/stat
	echo "$((us + ni + sy + irq + sirq)) $((us + ni + sy + id + io + irq + sirq + steal)) $steal"
}

boot() { # ROUND MODE
	local r=$1 mode=$2 bd=$workdir/boot-$1-$2 out=$workdir/samples/$1-$2.txt
	local kio=off run="guest_dpdk_ab.sh,$2,$secs${vargs:+,$vargs}"
	[ "$mode" = kernel ] && kio=on
	rm -rf "$bd"
	mkdir -p "$bd"
	: > "$bd/console.log"
	"$qs/run-guest.sh" --initrd "$workdir/initramfs.cpio.gz" --kernel "$kdir/boot/vmlinuz-$kver" \
		--kernel-iommu $kio --run "$run" --append "uiommu.hugepages=160 uiommu.bind=0 uiommu.timeout=400" \
		--qemu-arg -netdev --qemu-arg hubport,id=n0,hubid=0 --qemu-arg -device --qemu-arg e1000e,netdev=n0 \
		--qemu-arg -netdev --qemu-arg hubport,id=n1,hubid=0 --qemu-arg -device --qemu-arg e1000e,netdev=n1 \
		--qemu-arg -pidfile --qemu-arg "$bd/qemu.pid" --qemu-arg -name --qemu-arg debug-threads=on \
		${trace[@]+"${trace[@]}"} --timeout 500 --logdir "$bd" > "$bd/results.txt" 2> "$bd/run-guest.log" &
	local rg=$! qpid= vtid= line st ticks vticks t ended=0
	echo "# round $r mode $mode $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" > "$out.part"
	# Stamp every statistics line as it arrives (inotify: tail -F wakes at once).
	while IFS= read -r line; do
		case $line in
		*UIOMMU-PERF-STAT*)
			[ $ended = 0 ] || continue
			[ -n "$qpid" ] || qpid=$(cat "$bd/qemu.pid" 2>/dev/null || true)
			[ -n "$qpid" ] || continue
			read -r st < "/proc/$qpid/stat" || continue
			# utime, stime: fields 14 and 15; comm (field 2) has no spaces
			set -- ${st#*) }
			ticks=$((${12} + ${13}))
			# the vCPU thread alone ("CPU 0/TCG")
			if [ -z "$vtid" ]; then
				for t in /proc/$qpid/task/*; do
					[ "$(cat "$t/comm" 2>/dev/null)" = "CPU 0/TCG" ] && vtid=${t##*/}
				done
			fi
			vticks=0
			if [ -n "$vtid" ] && read -r st < "/proc/$qpid/task/$vtid/stat"; then
				set -- ${st#*) }
				vticks=$((${12} + ${13}))
			fi
			line=${line##*UIOMMU-PERF-STAT }
			line=${line%$'\r'}
			echo "$line ${EPOCHREALTIME} $ticks $(hoststat) $(cut -d' ' -f1 /proc/loadavg) $vticks" >> "$out.part"
			;;
		*UIOMMU-PERF-GCPU*)
			line=${line##*UIOMMU-PERF-GCPU }
			echo "# gcpu ${line%$'\r'}" >> "$out.part"
			;;
		*UIOMMU-PERF-CUT*)
			# the guest's window ends (the plugin's page-table dump follows)
			echo "# cut ${EPOCHREALTIME}" >> "$out.part"
			ended=1
			;;
		*UIOMMU-DONE*) break ;;
		esac
	done < <(tail -n +1 -F --pid=$rg "$bd/console.log" 2>/dev/null)
	local rc=0
	wait $rg || rc=$?
	if [ $rc = 0 ] && grep -q 'UIOMMU-RESULT dpdk-ab PASS' "$bd/results.txt"; then
		mv "$out.part" "$out"
		echo "round $r $mode: $(grep -c . "$out") samples; $(grep 'UIOMMU-RESULT' "$bd/results.txt")"
	else
		echo "round $r $mode: FAILED (rc $rc; logs in $bd)"
	fi
}

IFS=',' read -r -a ml <<<"$modes"
nm=${#ml[@]}
echo "# dpdk_ab.sh: $rounds rounds x {$modes}, ${secs}s each, skip $skip; $(qemu-system-x86_64 --version | head -n1); guest $kver; workdir $workdir"
for r in $(seq "$first" $((first + rounds - 1))); do
	for k in $(seq 0 $((nm - 1))); do
		boot "$r" "${ml[$(((k + r - 1) % nm))]}"
	done
done
summary
