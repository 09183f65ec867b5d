#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# uiommuctl probe / acpi decode on the bundled tables: output, JSON, exit codes.
set -u
CTL=${1:?usage: fw_cli_test.sh UIOMMUCTL}
DATA=${UIOMMU_TEST_DATA:?}
REAL=$DATA/acpi/real
SYNTH=${UIOMMU_SYNTH_DIR:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

check() { # name expected-rc command...
	local name=$1 want=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, want $want"; sed 's/^/  /' "$TMP/err" | head -5
		fails=$((fails + 1))
	else
		echo "ok   $name"
	fi
}
json_ok() { # name: the last output parses as JSON
	if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out" 2>/dev/null; then
		echo "ok   $1 (json)"
	else
		echo "FAIL $1: output is not JSON"; fails=$((fails + 1))
	fi
}
has() { # name pattern file
	if grep -q -- "$2" "$TMP/$3"; then echo "ok   $1"; else echo "FAIL $1: no '$2' in $3"; fails=$((fails + 1)); fi
}

check help 0 "$CTL" --help
has help-lists-probe "probe" out
check verb-help 0 "$CTL" acpi decode --help
check no-command 2 "$CTL"
check bad-command 2 "$CTL" frobnicate
check bad-option 2 "$CTL" acpi decode --bogus
check decode-no-file 2 "$CTL" acpi decode
check acpi-no-dir 2 "$CTL" probe --acpi
check decode-missing 1 "$CTL" acpi decode "$TMP/nonexistent"
has decode-missing-msg "No such file" err

for f in "$REAL"/*.dat; do
	b=$(basename "$f")
	check "decode-$b" 0 "$CTL" acpi decode "$f"
	check "decode-json-$b" 0 "$CTL" -j acpi decode "$f"
	json_ok "decode-json-$b"
done

# One machine at a time, as probe would see it.
mkdir "$TMP/t14" "$TMP/e15" "$TMP/empty"
cp "$REAL/IVRS-lenovo-thinkpad-t14-gen3-amd.dat" "$TMP/t14/IVRS"
check probe-t14 0 "$CTL" probe --acpi "$TMP/t14"
has probe-t14-unit "amdvi base 0xfe000000" out
check probe-t14-json 0 "$CTL" probe --acpi "$TMP/t14" -j
json_ok probe-t14-json
# The only INCLUDE_ALL unit has base 0, but two units are usable.
cp "$REAL/DMAR-lenovo-thinkpad-e15-gen2.dat" "$TMP/e15/dmar.dat"
check probe-e15 0 "$CTL" probe --acpi "$TMP/e15"
has probe-e15-warn "register base is 0" out
check probe-empty 1 "$CTL" probe --acpi "$TMP/empty"
has probe-empty-msg "no IOMMU found" err
check probe-nodir 1 "$CTL" probe --acpi "$TMP/nonexistent"

# Malformed: truncated file, bad checksum, a table with errors.
head -c 100 "$REAL/DMAR-hp-proliant-dl380e-gen8.dat" >"$TMP/trunc.dat"
check decode-truncated 1 "$CTL" acpi decode "$TMP/trunc.dat"
has decode-truncated-msg "truncated" err
head -c 20 "$REAL/DMAR-hp-proliant-dl380e-gen8.dat" >"$TMP/short.dat"
check decode-short 1 "$CTL" acpi decode "$TMP/short.dat"
python3 - "$REAL/IVRS-framework-laptop-16.dat" "$TMP" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[9] ^= 0x11
open(sys.argv[2] + '/csum.dat', 'wb').write(b)
b = bytearray(open(sys.argv[1], 'rb').read())
b[48 + 2] = 0xff  # first IVHD length runs past the table
s = sum(b) & 0xff; b[9] = (b[9] - s) & 0xff
open(sys.argv[2] + '/badlen.dat', 'wb').write(b)
PY
check decode-csum 0 "$CTL" acpi decode "$TMP/csum.dat"
has decode-csum-warn "checksum mismatch" out
check decode-badlen 1 "$CTL" -j acpi decode "$TMP/badlen.dat"
json_ok decode-badlen
echo "not a table at all, just some text to fill" >"$TMP/text.dat"
check decode-notable 1 "$CTL" acpi decode "$TMP/text.dat"

if [ -n "$SYNTH" ] && [ -f "$SYNTH/dmar-multiseg.aml" ]; then
	check decode-synth-dmar 0 "$CTL" -j acpi decode "$SYNTH/dmar-multiseg.aml"
	json_ok decode-synth-dmar
fi

echo "$fails failure(s)"
[ "$fails" = 0 ]
