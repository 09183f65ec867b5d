#!/bin/sh
# Every mask or value macro of src/hw/vtd/vtd_regs.h must be named in
# test/vtd/vtd_regs_ut.c (the brief: a test touches every field macro).
hdr="$1"; ut="$2"
missing=0
for m in $(grep -o '^#define VTD_[A-Za-z0-9_]*' "$hdr" | awk '{print $2}'); do
	grep -qw "$m" "$ut" || { echo "not tested: $m"; missing=1; }
done
exit $missing
