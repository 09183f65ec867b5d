#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The shared library's ABI against what is declared and recorded.
#
#   symbols_test.sh LIBUIOMMU.SO SRCDIR BUILDDIR
#
# 1. every symbol libuiommu.so exports is declared in a public header
#    (include/uiommu/*.h, or the configured uiommu_version.h): an internal
#    uiommu_* name leaking through the uiommu_* pattern of
#    src/libuiommu.map fails here (list it under local: there);
# 2. every function a public header declares is exported;
# 3. the exports are exactly the symbols of debian/libuiommu0.symbols (the
#    package build checks the same with dpkg-gensymbols -c4): a new public
#    function is added there as " NAME@Base VERSION" (VERSION: the project
#    version that first has it); a removed or renamed one is an ABI break
#    (bump soversion in meson.build and the package name).
set -uo pipefail
so=$1 src=$2 build=$3
symfile=$src/debian/libuiommu0.symbols
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

headers=("$src"/include/uiommu/*.h "$build"/include/uiommu/uiommu_version.h)
nm -D --defined-only "$so" | awk 'NF == 3 && $2 ~ /^[TDBRVWiu]$/ { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || { echo "FAIL: no exports read from $so"; exit 1; }
# Declarations: a line that starts with a type and names uiommu_x(.
grep -hoE '^[a-z][a-z0-9_ *]*\buiommu_[a-z0-9_]+\(' "${headers[@]}" |
	sed -E 's/.*(uiommu_[a-z0-9_]+)\($/\1/' | sort -u >"$tmp/declared"
sed -nE 's/^ ([A-Za-z0-9_]+)@Base .*/\1/p' "$symfile" | sort -u >"$tmp/recorded"

while read -r s; do
	grep -qxF "$s" "$tmp/declared" ||
		fail "$s is exported but no public header declares it (internal? list it under local: in src/libuiommu.map)"
done <"$tmp/exported"
while read -r s; do
	grep -qxF "$s" "$tmp/exported" || fail "$s is declared in a public header but not exported"
done <"$tmp/declared"
while read -r s; do
	grep -qxF "$s" "$tmp/recorded" ||
		fail "$s is exported but not in debian/libuiommu0.symbols (add \" $s@Base $(
			sed -n "s/^\s*version: '\([^']*\)'.*/\1/p" "$src/meson.build" | head -n1)\")"
done <"$tmp/exported"
while read -r s; do
	grep -qxF "$s" "$tmp/exported" ||
		fail "$s is in debian/libuiommu0.symbols but no longer exported: an ABI break"
done <"$tmp/recorded"
echo "$(wc -l <"$tmp/exported") exported, $(wc -l <"$tmp/declared") declared, $(wc -l <"$tmp/recorded") recorded"
[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "all ok"
