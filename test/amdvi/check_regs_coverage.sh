#!/bin/sh
# Every macro of src/hw/amdvi/amdvi_regs.h must be named in
# test/amdvi/amdvi_regs_ut.c (a test touches every field macro).
hdr="$1"; ut="$2"
missing=0
macros=$(grep -o '^#define AMDVI_[A-Za-z0-9_]*' "$hdr" | awk '{print $2}')
[ -n "$macros" ] || { echo "no macros found in $hdr"; exit 1; }
for m in $macros; do
	grep -qw "$m" "$ut" || { echo "not tested: $m"; missing=1; }
done
exit $missing
