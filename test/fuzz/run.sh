#!/bin/bash
# Build the libFuzzer target with clang (ASan+UBSan) and fuzz the pipeline
# for SECONDS (default 300), seeded with the golden inputs and, where present,
# ../shared/corpus.  Findings land in test/fuzz/findings/ (not committed).
#   test/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-300}
out=build-fuzz
mkdir -p "$out" test/fuzz/findings "$out/corpus"
src="config/config.c sanitize/charset.c sanitize/html2text.c sanitize/decode.c sanitize/detect.c
     sanitize/result.c sanitize/verdict.c sanitize/mimewalk.c sanitize/output.c sanitize/pipeline.c
     store/audit.c store/quarantine.c"
# shellcheck disable=SC2046,SC2086
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I. $src test/fuzz/fuzz-pipeline.c \
	$(pkg-config --cflags --libs glib-2.0 gmime-3.0 libxml-2.0 json-c inih libcrypto) -lmagic \
	-o "$out/fuzz-pipeline"
cp test/golden/*.eml "$out/corpus/"
[ -d ../shared/corpus ] && find ../shared/corpus -type f ! -name '*.md' -exec cp {} "$out/corpus/" \;
"$out/fuzz-pipeline" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix=test/fuzz/findings/ "$out/corpus"
