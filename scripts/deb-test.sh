#!/usr/bin/env bash
# Test the built .debs as a user gets them: unpack every package of
# DEBDIR (dpkg -x) into one clean directory tree -- nothing is installed
# on the system -- check their contents, run the packaged uiommuctl, and
# build and run test/install/consumer.c against the unpacked library with
# `pkg-config uiommu`, shared and --static (test/install/link_test.sh).
#
#   scripts/deb-test.sh [DEBDIR]     default build-deb/ (scripts/build-deb.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
debdir=${1:-build-deb}
root=$(mktemp -d "${TMPDIR:-/tmp}/uiommu-debroot.XXXXXX")
trap 'rm -rf "$root"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

version=$(dpkg-parsechangelog -S Version)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for p in libuiommu0 libuiommu-dev uiommuctl; do
	deb=$(ls "$debdir"/${p}_"$version"_*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || { echo "FAIL: no ${p}_${version}_*.deb in $debdir"; exit 1; }
	dpkg -x "$deb" "$root"
	echo "unpacked $(basename "$deb")"
done

# What each package must carry.
for f in usr/lib/$ma/libuiommu.so.0 usr/lib/$ma/libuiommu.so usr/lib/$ma/libuiommu.a \
	 usr/lib/$ma/pkgconfig/uiommu.pc usr/include/uiommu/uiommu.h \
	 usr/include/uiommu/uiommu_version.h usr/bin/uiommuctl \
	 usr/share/man/man8/uiommuctl.8.gz usr/share/man/man5/uiommu-layout.5.gz \
	 usr/share/man/man3/libuiommu.3.gz usr/share/bash-completion/completions/uiommuctl; do
	[ -e "$root/$f" ] && echo "ok: $f" || fail "missing $f"
done
[ -e "$root/usr/include/uiommu/meson.build" ] && fail "meson.build installed with the headers"

# The packaged tool: its version is the package's.
out=$(LD_LIBRARY_PATH="$root/usr/lib/$ma" "$root/usr/bin/uiommuctl" --version)
[ "$out" = "uiommuctl $version" ] && echo "ok: $out" || fail "--version says '$out', package is $version"
# Man pages render without warnings.
for m in "$root"/usr/share/man/man*/*.gz; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null || echo "man failed")
	[ -z "$w" ] && echo "ok: $(basename "$m") renders" || fail "$(basename "$m"): $w"
done

# An application built against the unpacked packages only.
for mode in shared static; do
	if UIOMMU_LINK_ROOT=$root sh "$src/test/install/link_test.sh" - "$src" "$mode" cc; then
		echo "ok: consumer ($mode) built with pkg-config uiommu and ran"
	else
		fail "consumer ($mode)"
	fi
done
[ "$fails" = 0 ] || { echo "deb-test.sh: $fails failure(s)" >&2; exit 1; }
echo "deb-test.sh: all ok"
