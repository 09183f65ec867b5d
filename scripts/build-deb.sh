#!/usr/bin/env bash
# Build the Debian packages (libuiommu0, libuiommu-dev, uiommuctl) from this
# tree: `dpkg-buildpackage -us -uc -b` in a copy of the tracked and
# untracked-but-not-ignored files (without git: all but build*/), so that no
# build directory gets in and nothing is written beside the checkout; then
# lintian.  Needs the build
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
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tree"
else
	# Not a git checkout (a source tarball): everything but build directories.
	tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$tree" -xf -
fi
# The source package of the same tree, before the build writes into it
# (only to be checked by lintian below).
(cd "$tmp" && dpkg-source -b "$(basename "$tree")" >/dev/null)
rc=0
(cd "$tree" && dpkg-checkbuilddeps && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || rc=$?
grep -E '^(dpkg-[a-z]+: |Ok:|Fail:|Skipped:)' "$out/build.log" || true
if [ "$rc" != 0 ]; then
	tail -n 40 "$out/build.log"
	echo "build-deb.sh: the package build failed (log: $out/build.log)" >&2
	exit 1
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
ls -l "$out"/*.deb

# lintian: no errors allowed, on the binary packages and on the source
# package (a .dsc of the same tree, built here only to be checked); the
# other tags are listed (debian/README.source says which remain and why).
changes=$(ls "$out"/*.changes)
lrc=0
lintian --fail-on error --display-info --pedantic "$changes" "$tmp"/*.dsc >"$tmp/lintian.out" 2>&1 ||
	lrc=$?
grep -v 'running with root privileges' "$tmp/lintian.out" >"$out/lintian.txt" || true
cat "$out/lintian.txt"
[ "$lrc" = 0 ] || { echo "build-deb.sh: lintian found errors" >&2; exit 1; }
echo "build-deb.sh: packages in $out"
