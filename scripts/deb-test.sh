#!/usr/bin/env bash
# Test the built .debs as a user gets them: unpack every package of
# DEBDIR (dpkg -x) into one clean directory tree -- nothing is installed
# on the system -- check their contents, run the packaged uiommuctl, and
# build and run test/install/consumer.c against the unpacked library with
# `pkg-config uiommu`, shared and --static (test/install/link_test.sh).
# The DPDK plugin (librte-uiommu0): its exports and RUNPATH, dlopen, the
# example examples/dpdk_protect built against the unpacked -dev files and
# run on the VT-d model, and an application that knows nothing of uiommu
# with the unpacked plugin loaded by EAL's -d.
#
#   scripts/deb-test.sh [DEBDIR]     default build-deb/ (scripts/build-deb.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
debdir=${1:-build-deb}
# EAL refuses a plugin (-d) below a world-writable directory (such as
# /tmp): the scratch tree goes where EAL accepts it, $TMPDIR or else $HOME.
eal_accepts() {
	local d
	d=$(cd "$1" 2>/dev/null && pwd) || return 1
	while [ "$d" != / ]; do
		case $(stat -c %A "$d") in ????????w?) return 1 ;; esac
		d=$(dirname "$d")
	done
}
parent=${TMPDIR:-/tmp}
eal_accepts "$parent" || { [ -n "${HOME:-}" ] && [ -w "$HOME" ] && eal_accepts "$HOME" && parent=$HOME; }
root=$(mktemp -d "$parent/uiommu-debroot.XXXXXX")
trap 'rm -rf "$root"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

version=$(dpkg-parsechangelog -S Version)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for p in libuiommu0 libuiommu-dev uiommuctl librte-uiommu0; do
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
	 usr/share/man/man3/libuiommu.3.gz usr/share/bash-completion/completions/uiommuctl \
	 usr/lib/$ma/librte_uiommu.so.0 usr/lib/$ma/librte_uiommu.so \
	 usr/include/uiommu/uiommu_dpdk.h usr/share/doc/libuiommu-dev/examples/dpdk_protect/main.c; do
	[ -e "$root/$f" ] && echo "ok: $f" || fail "missing $f"
done
[ -e "$root/usr/include/uiommu/meson.build" ] && fail "meson.build installed with the headers"
# Which package carries what: the plugin's .so.0 in librte-uiommu0, its
# link library and header in libuiommu-dev; nothing in DPDK's driver
# directory (EAL would load it into every DPDK application).
owns() { dpkg -c "$(ls "$debdir"/${1}_"$version"_*.deb | head -n1)" | grep -E -- " \.$2( -> .*)?\$" >/dev/null; }
owns librte-uiommu0 "/usr/lib/$ma/librte_uiommu.so.0" && owns libuiommu-dev "/usr/lib/$ma/librte_uiommu.so" &&
	owns libuiommu-dev /usr/include/uiommu/uiommu_dpdk.h && echo "ok: plugin files in their packages" ||
	fail "plugin files not in librte-uiommu0 / libuiommu-dev"
[ -e "$root/usr/lib/$ma/dpdk" ] && fail "something installed into DPDK's driver directory usr/lib/$ma/dpdk"

# The plugin's ABI: exactly the functions of <uiommu/uiommu_dpdk.h>.
plugin=$root/usr/lib/$ma/librte_uiommu.so.0
exports=$(nm -D --defined-only "$plugin" | awk '{print $3}' | sort)
declared=$(grep -o 'uiommu_dpdk_[a-z_]*(' "$root/usr/include/uiommu/uiommu_dpdk.h" | tr -d '(' | sort -u)
[ -n "$exports" ] && [ "$exports" = "$declared" ] && echo "ok: plugin exports the $(echo "$exports" | wc -l) functions of uiommu_dpdk.h" ||
	fail "plugin exports differ from uiommu_dpdk.h: $(diff <(echo "$declared") <(echo "$exports") | grep '^[<>]' | tr '\n' ' ')"
soname=$(objdump -p "$plugin" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = librte_uiommu.so.0 ] && echo "ok: SONAME $soname" || fail "plugin SONAME '$soname'"
# RUNPATH: $ORIGIN only (libuiommu.so.0 is in the same directory).
runpath=$(objdump -p "$plugin" | awk '$1 == "RUNPATH" || $1 == "RPATH" {print $2}')
[ "$runpath" = '$ORIGIN' ] && echo "ok: plugin RUNPATH \$ORIGIN" || fail "plugin RUNPATH '$runpath'"
# It loads, finding libuiommu.so.0 next to it (no LD_LIBRARY_PATH).
cat >"$root/dl.c" <<'EOF_C'
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h || !dlsym(h, "uiommu_dpdk_protect") || !dlsym(h, "uiommu_dpdk_active")) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	/* libuiommu.so.0 must be the unpacked one, from the plugin's RUNPATH */
	void *lib = dlopen("libuiommu.so.0", RTLD_NOW | RTLD_NOLOAD);
	Dl_info info;
	if (!lib || !dladdr(dlsym(lib, "uiommu_version"), &info)) {
		fprintf(stderr, "libuiommu.so.0 not loaded with the plugin\n");
		return 1;
	}
	printf("%s\n", info.dli_fname);
	return 0;
}
EOF_C
if cc -std=c11 -Wall -Werror -o "$root/dl" "$root/dl.c" -ldl && out=$("$root/dl" "$plugin") &&
	[ "$(readlink -f "$out")" = "$(readlink -f "$root/usr/lib/$ma/libuiommu.so.0")" ]; then
	echo "ok: dlopen(librte_uiommu.so.0) loads the unpacked libuiommu.so.0"
else
	fail "dlopen of the unpacked plugin (${out:-})"
fi

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

# The plugin from the unpacked packages, on the VT-d model (no hardware,
# no hugepages).  pkg-config uiommu as in test/install/link_test.sh: the
# .pc's -I/-L prefixed with the unpacked tree; libdpdk is the system's.
pcenv=(PKG_CONFIG_PATH="$root/usr/lib/$ma/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
       PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1)
eal=(--no-huge -m 64 --no-pci -l 0 --log-level lib.eal:warning)
shm=/dev/shm/uiommu-$(id -u)
# 1. examples/dpdk_protect, linked with -lrte_uiommu (libuiommu-dev).
cflags="$(env "${pcenv[@]}" pkg-config --cflags uiommu) $(pkg-config --cflags libdpdk)"
libs="$(env "${pcenv[@]}" pkg-config --libs uiommu) $(pkg-config --libs libdpdk)"
st=debtest-example-$$
if cc -std=c11 -Wall -Wextra -Werror $cflags -o "$root/dpdk_protect" \
	"$src/examples/dpdk_protect/main.c" -L"$root/usr/lib/$ma" -lrte_uiommu $libs >"$root/ex.log" 2>&1 &&
	LD_LIBRARY_PATH="$root/usr/lib/$ma" "$root/dpdk_protect" "${eal[@]}" --file-prefix "$st" -- \
		"model=vtd,state=$st,attach=00:03.0" >>"$root/ex.log" 2>&1 &&
	grep -q "all as expected" "$root/ex.log" &&
	[ "$(LD_LIBRARY_PATH="$root/usr/lib/$ma" ldd "$root/dpdk_protect" | awk '$1 == "librte_uiommu.so.0" {print $3}')" = "$root/usr/lib/$ma/librte_uiommu.so.0" ]; then
	echo "ok: examples/dpdk_protect built against the packages (-lrte_uiommu, uiommu_dpdk.h) and ran"
else
	fail "examples/dpdk_protect against the packages"; cat "$root/ex.log" >&2
fi
[ -e "$shm/$st" ] && { fail "example left $shm/$st"; rm -f "$shm/$st"; }
# 2. an application that knows nothing of uiommu; EAL loads the plugin (-d).
st=debtest-plain-$$
if ! eal_accepts "$root"; then
	echo "SKIP: EAL -d: no scratch directory EAL accepts (every candidate is below a world-writable one)"
elif cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags libdpdk) -o "$root/plain_app" \
	"$src/test/dpdk/plain_app.c" $(pkg-config --libs libdpdk) >"$root/plain.log" 2>&1 &&
	"$root/plain_app" "${eal[@]}" --file-prefix "$st" -d "$plugin" \
		--vdev "uiommu,model=vtd,state=$st,attach=00:03.0" >>"$root/plain.log" 2>&1 &&
	grep -q '"devices":\["0000:00:03.0"\]' "$root/plain.log" && grep -q CLEANED-UP "$root/plain.log" &&
	grep -q "released: units given back" "$root/plain.log"; then
	echo "ok: EAL -d usr/lib/$ma/librte_uiommu.so.0 --vdev uiommu,...: protected and given back"
else
	fail "EAL -d of the unpacked plugin"; cat "$root/plain.log" >&2
fi
[ -e "$shm/$st" ] && { fail "plain app left $shm/$st"; rm -f "$shm/$st"; }
[ "$fails" = 0 ] || { echo "deb-test.sh: $fails failure(s)" >&2; exit 1; }
echo "deb-test.sh: all ok"
