#!/usr/bin/env bash
# Build the Debian packages (libuiommu0, libuiommu-dev, uiommuctl) from this
# tree: `dpkg-buildpackage -us -uc -b` in a copy of the tracked and
# untracked-but-not-ignored files (so no build directory gets in and
# nothing is written beside the checkout), then lintian.  Needs the build
# dependencies: scripts/setup-deps.sh --package.
#
#   scripts/build-deb.sh [OUTDIR]    .deb, .changes, .buildinfo, lintian.txt
#                                    into OUTDIR (default build-deb/)
# DEB_BUILD_OPTIONS is passed on (nocheck: no unit tests in the build).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=${1:-build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(dpkg-parsechangelog -S Version)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uiommu-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

tree=$tmp/uiommu-$version
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | (cd "$src" && xargs -0 cp --parents -t "$tree")
(cd "$tree" && dpkg-checkbuilddeps && dpkg-buildpackage -us -uc -b) 2>&1 | tee "$out/build.log" |
	grep -E '^(dpkg-|dh |   dh_|dpkg-gensymbols|Ok:|Fail:|Skipped:)' || true
[ "${PIPESTATUS[0]}" = 0 ] || { echo "build-deb.sh: the package build failed (log: $out/build.log)" >&2; exit 1; }
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
ls -l "$out"/*.deb

# lintian: no errors allowed; the warnings are listed (debian/README.source
# says which remain and why).
changes=$(ls "$out"/*.changes)
lintian --fail-on error --display-info "$changes" | tee "$out/lintian.txt"
echo "build-deb.sh: packages in $out"
