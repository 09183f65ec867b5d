#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the fuzzers with clang (unless BUILD_DIR already has them) and run
# each for $FUZZ_SECONDS (default 20) on its seed corpus:
#  - fuzz_dmar, fuzz_ivrs, fuzz_iort (firmware parsers): the real firmware
#    tables of ../shared/acpi/real beside the clone ($UIOMMU_SHARED_DIR
#    overrides ../shared; when absent, the copies in test/data/acpi/real),
#    sorted by table signature, plus synthetic tables (iasl-compiled and
#    byte-built by the unit tests' builders);
#  - fuzz_layout (uiommuctl apply's layout parser): fuzz/corpus/layout, with
#    the dictionary fuzz/layout.dict.
# Seeds are copied into a temporary directory: nothing in the tree or in
# shared/ is written (crash artifacts go to fuzz-corpus-crash/).
# Usage: bash fuzz/smoke.sh [BUILD_DIR]
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
LAYOUT_SRC=("$ROOT"/apps/uiommuctl/layout.c "$ROOT"/apps/uiommuctl/cli_parse.c)
# The public headers include the version header meson generates from
# uiommu_version.h.in: make the same one here (the project version from
# meson.build) for the fuzzers built without meson.
VER=$(sed -n "s/^[[:space:]]*version: '\([0-9]*\.[0-9]*\.[0-9]*\)',.*/\1/p" "$ROOT/meson.build" | head -n1)
[ -n "$VER" ] || { echo "fuzz/smoke.sh: no project version in meson.build" >&2; exit 1; }
mkdir -p "$WORK/include/uiommu"
IFS=. read -r VMAJ VMIN VPAT <<<"$VER"
sed -e "s/@VERSION@/$VER/" -e "s/@MAJOR@/$VMAJ/" -e "s/@MINOR@/$VMIN/" -e "s/@PATCH@/$VPAT/" \
	"$ROOT/include/uiommu/uiommu_version.h.in" >"$WORK/include/uiommu/uiommu_version.h"

# Seeds: real tables by signature (the first 4 bytes), then synthetic ones.
for p in dmar ivrs iort layout; do mkdir -p "$WORK/corpus-$p"; done
SHARED=${UIOMMU_SHARED_DIR:-$ROOT/../shared}
REAL=""
for d in "$SHARED/acpi/real" "$ROOT/test/data/acpi/real"; do
	if compgen -G "$d/*.dat" >/dev/null; then
		REAL=$(cd "$d" && pwd)
		break
	fi
done
nreal=0
if [ -n "$REAL" ]; then
	for f in "$REAL"/*.dat; do
		sig=$(head -c 4 "$f" | tr -cd 'A-Z')
		case $sig in
		DMAR) cp "$f" "$WORK/corpus-dmar/" ;;
		IVRS) cp "$f" "$WORK/corpus-ivrs/" ;;
		IORT) cp "$f" "$WORK/corpus-iort/" ;;
		*) continue ;;
		esac
		nreal=$((nreal + 1))
	done
	echo "== seeds: $nreal real firmware tables from $REAL"
else
	echo "== seeds: no real firmware tables (neither $SHARED/acpi/real nor test/data/acpi/real);" \
		"synthetic seeds only" >&2
fi
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
"$CC" -D_GNU_SOURCE -I"$ROOT/include" -I"$WORK/include" -I"$ROOT/src" -I"$ROOT/test/fw" -I"$ROOT/test/common" \
	"$WORK/dump.c" "$ROOT/test/fw/fw_synth_build.c" -o "$WORK/dump"
"$WORK/dump" "$WORK/corpus-ivrs/synth-ivrs40.bin" "$WORK/corpus-iort/synth-iort.bin"
cp "$ROOT"/fuzz/corpus/layout/* "$WORK/corpus-layout/"
for p in dmar ivrs iort layout; do
	echo "== corpus-$p: $(find "$WORK/corpus-$p" -type f | wc -l) seed(s)"
done

status=0
for p in dmar ivrs iort layout; do
	exe=""
	extra=()
	[ -n "$BUILD" ] && [ -x "$BUILD/fuzz/fuzz_$p" ] && exe="$BUILD/fuzz/fuzz_$p"
	if [ -z "$exe" ]; then
		exe="$WORK/fuzz_$p"
		if [ "$p" = layout ]; then
			srcs=("$ROOT/fuzz/fuzz_layout.c" "${LAYOUT_SRC[@]}")
		else
			srcs=("$ROOT/fuzz/fuzz_$p.c" "${SRC[@]}")
		fi
		"$CC" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=undefined -I"$ROOT/include" -I"$WORK/include" \
			-I"$ROOT/src" -I"$ROOT/apps/uiommuctl" "${srcs[@]}" -o "$exe"
	fi
	[ "$p" = layout ] && extra=(-dict="$ROOT/fuzz/layout.dict")
	echo "== fuzz_$p: ${SECS}s"
	if ! "$exe" -max_total_time="$SECS" -max_len=4096 -print_final_stats=1 "${extra[@]}" \
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
