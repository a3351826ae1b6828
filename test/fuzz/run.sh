#!/bin/bash
# Build the libFuzzer targets with clang (ASan+UBSan, meson -Dfuzz=true in
# build-fuzz/) and fuzz one for SECONDS (default 300), or for RUNS
# executions with -runs=N, seeded with the golden inputs and ../shared/corpus
# (pipeline, html2text: the HTML files and bodies), or the samples
# test-inspect writes (inspect, textenc).  Findings land in
# test/fuzz/findings/ (not committed).  Exit 0 when no finding.
#   test/fuzz/run.sh [pipeline|inspect|textenc|html2text] [SECONDS] [-runs=N]
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:-pipeline}
secs=${2:-300}
shift $(( $# > 2 ? 2 : $# ))
case "$target" in
pipeline|inspect|textenc|html2text) ;;
*) echo "usage: $0 [pipeline|inspect|textenc|html2text] [SECONDS] [-runs=N]" >&2; exit 2 ;;
esac
out=build-fuzz
mkdir -p test/fuzz/findings
if [ ! -f "$out/build.ninja" ]; then
	CC=clang meson setup "$out" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$out" "test/fuzz/fuzz-$target" "test/test-inspect" >/dev/null
corpus="$out/corpus-$target"
mkdir -p "$corpus"
case "$target" in
pipeline)
	cp test/golden/*.eml "$corpus/"
	[ -d ../shared/corpus ] && find ../shared/corpus -type f ! -name '*.md' -exec cp {} "$corpus/" \; ;;
html2text)
	# the first byte picks links mode and chunk size (see fuzz-html2text.c)
	for f in test/golden/*.eml $( [ -d ../shared/corpus ] && find ../shared/corpus -type f -iname '*htm*' ); do
		{ printf 'A'; cat "$f"; } > "$corpus/$(basename "$f")"
	done ;;
*)
	INSPECT_SEED_DIR="$out/corpus-inspect" TEXTENC_SEED_DIR="$out/corpus-textenc" \
		"$out/test/test-inspect" >/dev/null || true ;;
esac
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$out/test/fuzz/fuzz-$target" -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix=test/fuzz/findings/ "$@" "$corpus"
