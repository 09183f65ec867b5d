#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A private APT configuration for arm64 packages, without adding arm64 to
# dpkg: its own state, lists, archive cache and an empty dpkg status, the
# machine's own Debian sources (derived from /etc/apt, never a host name
# written into the repository).  Used by scripts/arm64/sysroot.sh (the cross
# sysroot) and scripts/qemu/fetch-kernel.sh --arch arm64 (guest kernel and
# busybox-static:arm64).
#
#   scripts/arm64/apt-env.sh [--update]
#
# Prints the path of the APT_CONFIG file on stdout.  Runs `apt-get update`
# into the private lists when they are empty, older than a day, or when
# --update is given.  Cache directory: $UIOMMU_ARM64_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/uiommu/arm64).  Needs no root.
set -euo pipefail

die() { echo "apt-env.sh: $*" >&2; exit 1; }

force=0
for a in "$@"; do
	case "$a" in
	--update) force=1 ;;
	-h|--help) sed -n '3,15p' "$0"; exit 0 ;;
	*) die "unknown option '$a'" ;;
	esac
done

cache=${UIOMMU_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uiommu/arm64}
a=$cache/apt
mkdir -p "$a"/{lists/partial,archives/partial,cache,state,sources.list.d}
a=$(cd "$a" && pwd)
[ -f "$a/status" ] || : > "$a/status"

# The machine's Debian sources: every deb822 stanza and one-line entry that
# names a bookworm suite (bookworm, -updates, -security, -backports).  Other
# vendors' repositories rarely carry arm64 and are left out.
srcs=$a/sources.list.d/debian.sources
tmp=$srcs.tmp.$$
: > "$tmp"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk 'BEGIN { RS = ""; FS = "\n" }
	     /(^|\n)Suites:[^\n]*bookworm/ && !/(^|\n)Enabled: *no/ {
		for (i = 1; i <= NF; i++) if ($i !~ /^#/ && $i !~ /^Architectures:/) print $i
		print ""
	     }' "$f" >> "$tmp"
done
list=$a/sources.list.d/debian.list
: > "$list.tmp.$$"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	grep -E '^deb +(\[[^]]*\] +)?[a-z]+://[^ ]+ +bookworm' "$f" |
		sed -E 's/\[[^]]*arch=[^]]*\] *//' >> "$list.tmp.$$" || true
done
mv "$tmp" "$srcs"
mv "$list.tmp.$$" "$list"
[ -s "$srcs" ] || [ -s "$list" ] ||
	die "no Debian bookworm source in /etc/apt/sources.list{,.d}: cannot derive the arm64 sources"

conf=$a/apt.conf
{
	echo "APT::Architecture \"arm64\";"
	echo "APT::Architectures { \"arm64\"; };"
	echo "APT::Install-Recommends \"false\";"
	echo "Dir::State \"$a/state\";"
	echo "Dir::State::Lists \"$a/lists\";"
	echo "Dir::State::status \"$a/status\";"
	echo "Dir::Cache \"$a/cache\";"
	echo "Dir::Cache::Archives \"$a/archives\";"
	echo "Dir::Etc::SourceList \"/dev/null\";"
	echo "Dir::Etc::SourceParts \"$a/sources.list.d\";"
	echo "pkgCacheGen::Essential \"none\";"
	echo "Acquire::Languages \"none\";"
	# As root apt downloads as _apt, which cannot enter a private cache
	# under /root: download as the caller instead (no warning, same files).
	[ "$(id -u)" = 0 ] && echo "APT::Sandbox::User \"root\";"
} > "$conf.tmp.$$"
mv "$conf.tmp.$$" "$conf"

stamp=$a/lists/.updated
if [ "$force" = 1 ] || [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
	echo "apt-env.sh: apt-get update (arm64, private lists in $a)" >&2
	APT_CONFIG=$conf apt-get update -q >&2 || die "apt-get update for arm64 failed"
	touch "$stamp"
fi
echo "$conf"
