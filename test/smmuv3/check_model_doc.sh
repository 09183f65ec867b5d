#!/bin/sh
# Every setting of the SMMUv3 model (src/model/smmuv3/smmu_model.c,
# smmum_keys[]: SK_NUM("key", ...) / SK_BOOL("key", ...)) must be in the
# SMMUv3 section of docs/models.md with its default.
src="$1"; doc="$2"
keys=$(grep -o 'SK_[A-Z]*("[a-z0-9_]*"' "$src" | sed 's/.*("//; s/"$//')
[ -n "$keys" ] || { echo "no keys found in $src"; exit 1; }
section=$(sed -n '/^## SMMUv3/,/^## [^S]/p' "$doc")
[ -n "$section" ] || { echo "no '## SMMUv3' section in $doc"; exit 1; }
missing=0
for k in $keys; do
	printf '%s\n' "$section" | grep -q "^| \`$k\` | \`[^\`]*\` |" || { echo "not documented: $k"; missing=1; }
done
exit $missing
