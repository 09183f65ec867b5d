#!/usr/bin/env bash
# uiommu's main job, from a fresh Debian 12 machine: install every
# dependency, build, and show uiommu at work.
#
# Today the demo probes bundled real firmware tables (what `uiommuctl probe`
# finds on a lab machine: IOMMU units, which unit serves which device with
# which ID, and reserved memory), and, when the VT-d model is built in,
# runs the model walk-through in scripts/model-demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh --backports
if [ ! -f build/build.ninja ]; then
	meson setup build
fi
ninja -C build

ctl=build/apps/uiommuctl/uiommuctl
echo
echo "=== uiommuctl probe: a Dell Precision 5540 (real DMAR table)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp test/data/acpi/real/DMAR-dell-precision-5540.dat "$tmp/DMAR"
"$ctl" probe --acpi "$tmp"
echo
echo "=== uiommuctl probe: an ASUS Zenbook S16 (real IVRS table), as JSON"
rm -f "$tmp"/DMAR
cp test/data/acpi/real/IVRS-asus-zenbook-s16-um5606wa.dat "$tmp/IVRS"
"$ctl" -j probe --acpi "$tmp" > "$tmp/probe.json"
head -n 40 "$tmp/probe.json"
echo "  ... ($(wc -l < "$tmp/probe.json") lines in all)"
if [ -x scripts/model-demo.sh ]; then
	echo
	bash scripts/model-demo.sh "$ctl"
fi
