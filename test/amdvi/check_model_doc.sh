#!/bin/sh
# Every setting key of the AMD-Vi model (src/model/amdvi/amdvi_model.c,
# amdm_keys[]: AK_I("key", ...) / AK_B("key", ...)) must be in
# docs/models.md's AMD-Vi table with its default.
src="$1"; doc="$2"
missing=0
keys=$(grep -o 'AK_[IB]("[a-z0-9_]*"' "$src" | sed 's/.*("//; s/"$//')
[ -n "$keys" ] || { echo "no keys found in $src"; exit 1; }
section=$(sed -n '/^## AMD-Vi/,/^## [^A]/p' "$doc")
[ -n "$section" ] || { echo "no '## AMD-Vi' section in $doc"; exit 1; }
for k in $keys; do
	printf '%s\n' "$section" | grep -q "^| \`$k\` | \`[^\`]*\` |" || { echo "not documented: $k"; missing=1; }
done
exit $missing
