#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every setting key of a built-in model (its key table in SRC:
# MODEL_KEY_BOOL(T, "key", ...) / MODEL_KEY_NUM(T, "key", ...), see
# src/core/model_cfg.h) must be in the model's section of docs/models.md
# (the one whose heading starts with "## SECTION"), in its table with a
# default.
#   check_model_doc.sh SRC DOC SECTION
src="$1"; doc="$2"; sec="$3"
[ -n "$sec" ] || { echo "usage: $0 SRC DOC SECTION"; exit 2; }
keys=$(tr '\n' ' ' <"$src" | grep -o 'MODEL_KEY_[A-Z]*([^,]*, *"[a-z0-9_]*"' | sed 's/.*"\([a-z0-9_]*\)"$/\1/')
[ -n "$keys" ] || { echo "no keys found in $src"; exit 1; }
section=$(awk -v h="## $sec" 'index($0, h) == 1 { on = 1; print; next } /^## / { on = 0 } on' "$doc")
[ -n "$section" ] || { echo "no '## $sec' section in $doc"; exit 1; }
missing=0
for k in $keys; do
	printf '%s\n' "$section" | grep -q "^| \`$k\` | \`[^\`]*\` |" || { echo "not documented: $k"; missing=1; }
done
[ "$missing" = 0 ] && echo "$(echo $keys | wc -w) keys documented in '## $sec'"
exit $missing
