#!/bin/sh
# Every setting key of the VT-d model (src/model/vtd/vtd_model.c,
# cfg_keys[]: KI("key", ...) / KB("key", ...)) must be in docs/models.md's
# table with its default.
src="$1"; doc="$2"
missing=0
keys=$(grep -o 'K[IB]("[a-z0-9_]*"' "$src" | sed 's/.*("//; s/"$//')
[ -n "$keys" ] || { echo "no keys found in $src"; exit 1; }
for k in $keys; do
	grep -q "^| \`$k\` | \`[^\`]*\` |" "$doc" || { echo "not documented: $k"; missing=1; }
done
exit $missing
