#!/bin/bash
# Build a libFuzzer target with clang (ASan+UBSan) and fuzz it for SECONDS
# (default 300), seeded with the golden inputs and, where present,
# ../shared/corpus (pipeline), or the samples test-inspect writes (inspect,
# textenc).  Findings land in test/fuzz/findings/ (not committed).
#   test/fuzz/run.sh [pipeline|inspect|textenc] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:-pipeline}
secs=${2:-300}
out=build-fuzz
mkdir -p "$out" test/fuzz/findings
inspect="sanitize/inspect.c sanitize/archive.c sanitize/office.c sanitize/pdf.c sanitize/textenc.c"
common="sanitize/detect.c sanitize/result.c sanitize/charset.c"
libs="glib-2.0 gmime-3.0 libxml-2.0 json-c inih libcrypto libarchive libgsf-1 zlib"
case "$target" in
pipeline)
	src="config/config.c sanitize/html2text.c sanitize/decode.c sanitize/verdict.c sanitize/mimewalk.c
	     sanitize/output.c sanitize/pipeline.c store/audit.c store/quarantine.c $inspect $common" ;;
inspect) src="$inspect $common" ;;
textenc) src="sanitize/textenc.c sanitize/charset.c" ;;
*) echo "usage: $0 [pipeline|inspect|textenc] [SECONDS]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2046,SC2086
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. $src "test/fuzz/fuzz-$target.c" \
	$(pkg-config --cflags --libs $libs) -lmagic -o "$out/fuzz-$target"
corpus="$out/corpus-$target"
mkdir -p "$corpus"
if [ "$target" = pipeline ]; then
	cp test/golden/*.eml "$corpus/"
	[ -d ../shared/corpus ] && find ../shared/corpus -type f ! -name '*.md' -exec cp {} "$corpus/" \;
else
	[ -x build/test/test-inspect ] && INSPECT_SEED_DIR="$out/corpus-inspect" TEXTENC_SEED_DIR="$out/corpus-textenc" \
		build/test/test-inspect >/dev/null || true
fi
export LSAN_OPTIONS=suppressions=test/fuzz/inspect.supp UBSAN_OPTIONS=halt_on_error=1
"$out/fuzz-$target" -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
	-artifact_prefix=test/fuzz/findings/ "$corpus"
