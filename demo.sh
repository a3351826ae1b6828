#!/bin/bash
# Demo: install what is needed, build, and run the sanitize pipeline on
# sample mails -- the sanitized messages, the quarantine and the audit log.
# Runs everything under ./demo-out (removed and recreated each time).
set -euo pipefail
cd "$(dirname "$0")"
./test/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
MUGAI=./build/mugai
OUT=demo-out
rm -rf "$OUT"; mkdir -p "$OUT"
cat > "$OUT/mugai.conf" <<CONF
[sanitize]
notice_contact = 情報政策課（内線 1234）
notice_contact_en = the IT policy division (ext. 1234)
[quarantine]
dir = $PWD/$OUT/quarantine
[audit]
log = $PWD/$OUT/audit.log
CONF

show() {  # $1 sample name
	local in=test/golden/$1.eml
	echo "=================================================================="
	echo "== $1: mugai sanitize --explain $in"
	set +e
	"$MUGAI" sanitize --config "$OUT/mugai.conf" --explain "$in" >"$OUT/$1.out"
	local rc=$?
	set -e
	echo "== exit $rc; sanitized message (body decoded):"
	if [ -s "$OUT/$1.out" ]; then
		python3 - "$OUT/$1.out" <<'PY'
import email, sys
raw = open(sys.argv[1], 'rb').read()
head = raw.split(b'\n\n', 1)[0].decode('utf-8', 'replace')
print(head)
print()
print(email.message_from_bytes(raw).get_payload(decode=True).decode('utf-8'))
PY
	fi
}
for s in html-only alternative-duplicate attachment-rfc2231-split forwarded iso2022jp-nec chunked-base64 bidi-filename; do
	show "$s"
done
echo "=================================================================="
echo "== mugai quarantine list"
"$MUGAI" quarantine list --config "$OUT/mugai.conf"
echo "== the audit log ($OUT/audit.log), one JSON line per message; the last one:"
tail -n 1 "$OUT/audit.log"
