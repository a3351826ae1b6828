#!/bin/bash
# The README's test command: build (warnings are errors), run every test,
# then build again with ASan+UBSan and run every test again, then give each
# libFuzzer target a short run (FUZZ_SECONDS, default 20).  Prints the
# totals as the last line: "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
./test/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }
passed=0
failed=0

run_suite() {  # $1 build dir, rest: meson setup options
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true -Dtest_hooks=true "$@" >"$dir-setup.log" 2>&1 || { cat "$dir-setup.log"; failed=$((failed + 1)); return; }
	fi
	if ! ninja -C "$dir" >"$dir-build.log" 2>&1; then
		cat "$dir-build.log"
		failed=$((failed + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 2>&1 | tee "$dir-test.log" | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Timeout|Expected Fail|Unexpected Pass):' 
	local ok fail to
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$dir-test.log" | tail -1)
	fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$dir-test.log" | tail -1)
	to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$dir-test.log" | tail -1)
	if [ "${fail:-0}" != 0 ] || [ "${to:-0}" != 0 ]; then
		# the failing tests' own output, without their passing TAP lines
		echo "-- output of the failing tests:"
		awk '/^=+ [0-9]+\/[0-9]+ =+$/ { if (bad) printf "%s", sec; sec = ""; bad = 0 }
		     /^result: / && !/exit status 0$/ { bad = 1 }
		     !/^ok / { sec = sec $0 "\n" }
		     END { if (bad) printf "%s", sec }' "$dir/meson-logs/testlog.txt" | head -300
	fi
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0} + ${to:-0}))
	[ -n "$ok" ] || failed=$((failed + 1))
}

echo "== build and test (warnings are errors)"
run_suite build
echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
echo "== short fuzz runs (libFuzzer + ASan + UBSan, ${FUZZ_SECONDS:=20} s per target)"
for t in pipeline inspect textenc html2text; do
	if test/fuzz/run.sh "$t" "$FUZZ_SECONDS" >"build-fuzz-$t.log" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz $t: no finding in $(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz-$t.log") runs"
	else
		failed=$((failed + 1))
		echo "fuzz $t: FAILED (build-fuzz-$t.log, test/fuzz/findings/)"
		tail -40 "build-fuzz-$t.log"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
