#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the firmware parser fuzzers with clang (unless BUILD_DIR already has
# them) and run each for $FUZZ_SECONDS (default 20) on a seed corpus of the
# real and synthetic tables.  Usage: bash fuzz/smoke.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-}
SECS=${FUZZ_SECONDS:-20}
WORK=$(mktemp -d /tmp/uiommu-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

CC=${CLANG:-clang}
if ! command -v "$CC" >/dev/null; then
	echo "fuzz/smoke.sh: clang not found; skipped" >&2
	exit 0
fi
SRC=("$ROOT"/src/fw/acpi.c "$ROOT"/src/fw/dmar.c "$ROOT"/src/fw/ivrs.c "$ROOT"/src/fw/iort.c
     "$ROOT"/src/fw/topology.c "$ROOT"/src/fw/loader.c)

# Seeds: real tables by signature, synthetic ones (iasl-compiled + built).
for p in dmar ivrs iort; do mkdir -p "$WORK/corpus-$p"; done
for f in "$ROOT"/test/data/acpi/real/*.dat; do
	case $(basename "$f") in
	DMAR*) cp "$f" "$WORK/corpus-dmar/" ;;
	IVRS*) cp "$f" "$WORK/corpus-ivrs/" ;;
	esac
done
if command -v iasl >/dev/null; then
	for a in "$ROOT"/test/data/acpi/synth/*.asl; do
		n=$(basename "$a" .asl)
		iasl -p "$WORK/$n" "$a" </dev/null >/dev/null 2>&1 || continue
		case $n in dmar*) cp "$WORK/$n.aml" "$WORK/corpus-dmar/" ;; ivrs*) cp "$WORK/$n.aml" "$WORK/corpus-ivrs/" ;; esac
	done
fi
# The byte-built IVHD 40h and IORT tables from the unit tests.
cat >"$WORK/dump.c" <<'C'
#include <stdio.h>
#include "fw_test.h"
int main(int argc, char **argv)
{
	uint8_t b[1024]; size_t n; FILE *f;
	(void)argc;
	fwt_build_ivrs40(b, &n); f = fopen(argv[1], "wb"); fwrite(b, 1, n, f); fclose(f);
	fwt_build_iort(b, &n); f = fopen(argv[2], "wb"); fwrite(b, 1, n, f); fclose(f);
	return 0;
}
C
"$CC" -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/test/fw" -I"$ROOT/test/common" \
	"$WORK/dump.c" "$ROOT/test/fw/fw_synth_build.c" -o "$WORK/dump"
"$WORK/dump" "$WORK/corpus-ivrs/synth-ivrs40.bin" "$WORK/corpus-iort/synth-iort.bin"

status=0
for p in dmar ivrs iort; do
	exe=""
	[ -n "$BUILD" ] && [ -x "$BUILD/fuzz/fuzz_$p" ] && exe="$BUILD/fuzz/fuzz_$p"
	if [ -z "$exe" ]; then
		exe="$WORK/fuzz_$p"
		"$CC" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=undefined -I"$ROOT/include" -I"$ROOT/src" \
			"$ROOT/fuzz/fuzz_$p.c" "${SRC[@]}" -o "$exe"
	fi
	echo "== fuzz_$p: ${SECS}s"
	if ! "$exe" -max_total_time="$SECS" -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$WORK/" "$WORK/corpus-$p" >"$WORK/log-$p" 2>&1; then
		tail -40 "$WORK/log-$p"
		mkdir -p "$ROOT/fuzz-corpus-crash"
		cp "$WORK"/crash-* "$WORK"/leak-* "$WORK"/timeout-* "$ROOT/fuzz-corpus-crash/" 2>/dev/null || true
		echo "fuzz_$p FAILED (artifacts in fuzz-corpus-crash/)"
		status=1
	else
		grep -E "stat::number_of_executed_units|cov:" "$WORK/log-$p" | tail -2
	fi
done
exit $status
