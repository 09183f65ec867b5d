#!/bin/sh
# Every macro of the SMMUv3 facts header is used by the driver, the model
# or the tests (test_layout checks the positions of those only the tests
# use): no fact nobody exercises.
hdr="$1"; shift
missing=0
for m in $(grep -o '^#define SMMU_[A-Z0-9_]*' "$hdr" | awk '{print $2}'); do
	grep -rqw "$m" --exclude="$(basename "$hdr")" "$@" || { echo "unused: $m"; missing=1; }
done
exit $missing
