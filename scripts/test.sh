#!/usr/bin/env bash
# Run the whole uiommu test suite: install what is missing, build, run every
# meson test (suites 'unit' and 'qemu'), print one summary line.
#
#   scripts/test.sh                 everything
#   scripts/test.sh --suite unit    one suite (meson test --suite)
#   scripts/test.sh --asan          unit suite in an ASan+UBSan build (build-asan/)
#   scripts/test.sh --valgrind      unit suite under valgrind (build/)
#   scripts/test.sh --arm64         aarch64 cross build (build-arm64/): unit
#                                   suite under qemu-user, QEMU suite on
#                                   qemu-system-aarch64 (add --suite to pick)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=normal
suite_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--asan) mode=asan ;;
	--valgrind) mode=valgrind ;;
	--arm64) mode=arm64 ;;
	--suite) suite_args+=(--suite "$2"); shift ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

if [ "${UIOMMU_SKIP_DEPS:-0}" != 1 ]; then
	if [ "$mode" = arm64 ]; then
		bash scripts/setup-deps.sh --arm64
	else
		bash scripts/setup-deps.sh --backports
	fi
fi

builddir=${UIOMMU_BUILDDIR:-build}
setup_args=()
if [ "$mode" = asan ]; then
	builddir=${UIOMMU_BUILDDIR_ASAN:-build-asan}
	setup_args=(-Db_sanitize=address,undefined -Db_lundef=false -Dbench=false -Dqemu_tests=false)
	suite_args=(--suite unit)
fi
if [ "$mode" = arm64 ]; then
	builddir=${UIOMMU_BUILDDIR_ARM64:-build-arm64}
	# The sysroot and cross file (cached: a stamp check when present).
	cross=$(bash scripts/arm64/sysroot.sh --print-cross-file)
	setup_args=(--cross-file "$cross")
fi
if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir" "${setup_args[@]}"
fi
ninja -C "$builddir"

test_args=(--print-errorlogs --num-processes 2)
if [ "$mode" = valgrind ]; then
	suite_args=(--suite unit)
	test_args+=(--timeout-multiplier 20
		--wrap="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$PWD/test/valgrind.supp --quiet")
	export UIOMMU_TEST_QUICK=1 UIOMMU_UNDER_VALGRIND=1
fi
if [ "$mode" = arm64 ]; then
	# Every test program runs under qemu-user (TCG): the slowest CLI tests
	# take ~60 s there; the QEMU suite's own timeouts are generous already.
	# The full-length randomized runs are the native build's job: here the
	# point is the architecture (same results, arm64 code paths).
	test_args+=(--timeout-multiplier 3)
	export UIOMMU_TEST_QUICK=1
	# pgtable-diff: 100000 random operations take 95-200 s under qemu-user.
	export PGT_OPS=${PGT_OPS:-20000}
fi
if [ "$mode" = asan ]; then
	test_args+=(--timeout-multiplier 4)
	export UIOMMU_TEST_QUICK=1
fi

rc=0
meson test -C "$builddir" "${test_args[@]}" "${suite_args[@]}" || rc=$?

# One plain summary line: "N passed, N failed, N skipped".
log=$(ls -t "$builddir"/meson-logs/testlog*.json 2>/dev/null | head -n1 || true)
if [ -f "$log" ]; then
	python3 - "$log" <<'PY'
import json, sys
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        fail += 1
print(f"{ok} passed, {fail} failed, {skip} skipped")
PY
fi
exit "$rc"
