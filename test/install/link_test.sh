#!/usr/bin/env sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Install the build into a temporary destdir, then build test/install/
# consumer.c as an outside application would: only the installed public
# headers, flags from the installed uiommu.pc.  Mode "static" links
# libuiommu.a (pkg-config --static --libs, with -luiommu naming the
# archive), "shared" links libuiommu.so.  The program must bring up the
# VT-d model and DMA through it.
#
# usage: link_test.sh BUILD_ROOT SOURCE_ROOT static|shared CC...
# With UIOMMU_UNDER_VALGRIND=1 (scripts/test.sh --valgrind) the program runs
# under valgrind.  With UIOMMU_LINK_ROOT=DIR, DIR is the installed tree
# (the .debs unpacked there: scripts/deb-test.sh) and BUILD_ROOT is unused.
set -eu
build=$1 src=$2 mode=$3
shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/uiommu-link.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -n "${UIOMMU_LINK_ROOT:-}" ]; then
	dest=$UIOMMU_LINK_ROOT
	build=$tmp/no-build-tree
else
	dest=$tmp/dest
	meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; exit 1; }
fi
pc=$(find "$dest" -name uiommu.pc | head -n 1)
[ -n "$pc" ] || { echo "no uiommu.pc under $dest"; exit 1; }

# pkg-config prefixes the .pc's -I/-L with the sysroot: the destdir.
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$dest
# Keep -I/usr/include and -L/usr/lib/...: prefixed with the sysroot they
# are the unpacked tree's, not the system's (with prefix /usr, as in the
# .debs, pkg-config would otherwise drop them).
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_ALLOW_SYSTEM_LIBS
cflags=$(pkg-config --cflags uiommu)
case "$cflags" in *"-I$dest/"*) ;; *) echo "cflags do not name the installed headers under $dest: $cflags"; exit 1;; esac
# Only the installed header: no -I into the source or build tree.
case "$cflags" in *"$src"*|*"$build"*) echo "cflags reach into the tree: $cflags"; exit 1;; esac
if [ "$mode" = static ]; then
	libs=$(pkg-config --static --libs uiommu)
	# -luiommu would pick the .so next to the archive: name the archive.
	libs=$(printf '%s\n' "$libs" | sed 's/-luiommu\( \|$\)/-l:libuiommu.a\1/')
	case "$libs" in *-l:libuiommu.a*) ;; *) echo "no -luiommu in: $libs"; exit 1;; esac
else
	libs=$(pkg-config --libs uiommu)
fi
libdir=$(dirname "$(dirname "$pc")")
echo "cflags: $cflags"
echo "libs ($mode): $(printf '%s' "$libs" | cut -c1-300)..."
"$@" -std=c11 -Wall -Wextra -Werror $cflags -o "$tmp/consumer" "$src/test/install/consumer.c" \
	$libs -Wl,-rpath,"$libdir"
# The libraries the consumer will load: ldd for a native program; for a
# foreign one (cross build, run through qemu-user) ldd cannot tell, so the
# dynamic section says it: DT_NEEDED names and where DT_RUNPATH points.
if ldd "$tmp/consumer" >"$tmp/ldd" 2>&1 && grep -q '=>' "$tmp/ldd"; then
	uses_installed() { grep -q "$libdir/libuiommu.so" "$tmp/ldd"; }
	uses_any() { grep -q libuiommu "$tmp/ldd"; }
else
	readelf -d "$tmp/consumer" >"$tmp/ldd"
	uses_any() { grep -q 'NEEDED.*\[libuiommu\.so' "$tmp/ldd"; }
	uses_installed() {
		uses_any && grep -E '(RUNPATH|RPATH)' "$tmp/ldd" | grep -q "\[$libdir\]" &&
			[ -f "$libdir/$(sed -n 's/.*NEEDED.*\[\(libuiommu\.so[^]]*\)\]/\1/p' "$tmp/ldd")" ]
	}
fi
if [ "$mode" = static ] && uses_any; then
	echo "static consumer is linked against libuiommu.so"; exit 1
fi
if [ "$mode" = shared ] && ! uses_installed; then
	echo "shared consumer does not use the installed libuiommu.so"; cat "$tmp/ldd"; exit 1
fi
if [ "${UIOMMU_UNDER_VALGRIND:-0}" = 1 ]; then
	valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--suppressions="$src/test/valgrind.supp" --quiet "$tmp/consumer"
else
	"$tmp/consumer"
fi
