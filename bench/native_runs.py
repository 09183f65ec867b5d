#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run bench-native --null-queue several times and print, per family and
row, the median and range of the per-run figures (each run already prints
the median of its repetitions).  Several binaries are run alternately,
so that a before/after comparison sees the same machine load.

  bench/native_runs.py [--runs N] [--reps R] [--rows map4k,unmap4k] BIN [BIN...]

The host is shared and single runs can read 2x: compare medians over
runs, and instruction counts (callgrind, docs/performance.md) for exact
figures.
"""
import argparse
import collections
import statistics
import subprocess
import sys


def parse(out, rows):
    """(family, row) -> ns/op from one bench-native output."""
    fam, got = None, {}
    for line in out.splitlines():
        if line.startswith('# VT-d'):
            fam = 'vtd'
        elif line.startswith('SMMUv3 model'):
            fam = 'smmuv3'
        elif line.startswith('# AMD-Vi'):
            fam = 'amdvi'
        f = line.split()
        if not f or fam is None or f[0] not in rows:
            continue
        # SMMUv3 rows: "name ns/op cmds syncs model"; VT-d rows end in
        # "ops ns/op model excl m.desc m.wait d.desc d.wait hooks", AMD-Vi
        # rows in "n ns/op model excl cmds waits" (counted from the end:
        # the workload text has spaces).
        try:
            v = float(f[1] if fam == 'smmuv3' else f[-8] if fam == 'vtd' else f[-5])
        except (ValueError, IndexError):
            continue
        got[(fam, f[0])] = v
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--runs', type=int, default=8)
    ap.add_argument('--reps', type=int, default=15)
    ap.add_argument('--rows', default='map4k,unmap4k')
    ap.add_argument('bins', nargs='+')
    a = ap.parse_args()
    rows = set(a.rows.split(','))
    res = collections.defaultdict(list)
    for _ in range(a.runs):
        for b in a.bins:
            p = subprocess.run([b, '--null-queue', '--reps', str(a.reps)],
                               capture_output=True, text=True)
            if p.returncode:
                sys.exit(f'{b}: exit {p.returncode}: {p.stderr.strip()}')
            for k, v in parse(p.stdout, rows).items():
                res[(b,) + k].append(v)
    if not res:
        sys.exit('no figures parsed')
    for k in sorted(res):
        v = sorted(res[k])
        name = k[0] if len(a.bins) > 1 else ''
        print(f'{name} {k[1]:7} {k[2]:8} median {statistics.median(v):6.1f}  '
              f'min {v[0]:6.1f}  max {v[-1]:6.1f}  ns/op  ({len(v)} runs)'.strip())


if __name__ == '__main__':
    main()
