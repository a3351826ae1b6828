#!/bin/bash
# Demo: install what is needed (Debian 12), build, then send sample mails
# through a private Postfix instance on loopback with mugai-milter plugged in,
# and show what arrives: each sanitized message (headers, decoded body), the
# quarantine list and the audit log; then an administrator's review: show one
# entry and release its original through the milter-free loopback smtpd.
# Run as root (Postfix's master must).
#
#   swaks --> Postfix smtpd 127.0.0.1:PORT --milter--> mugai-milter
#                  | (queue)
#                  +--> smtp --> sink 127.0.0.1:PORT2 (stores each message)
#   mugai quarantine release --> Postfix smtpd on private/mugai-release (no milter) --> sink
#
# Everything lives under ./demo-out (removed and recreated each time) and
# listens on 127.0.0.1 only; every process started here is stopped at the
# end, also on failure or Ctrl-C.  Nothing of the system's Postfix
# (/etc/postfix, /var/spool/postfix) is used or changed.
#
# Before mugai-milter is built this shows the same pipeline with
# `mugai sanitize` on the sample files instead.
set -euo pipefail
cd "$(dirname "$0")"
./test/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
MUGAI=./build/mugai
MILTER=${MUGAI_MILTER:-./build/milter/mugai-milter}
OUT=$PWD/demo-out
SAMPLES="html-only alternative-duplicate attachment-rfc2231-split forwarded iso2022jp-nec chunked-base64 bidi-filename"
rm -rf "$OUT"; mkdir -p "$OUT" "$OUT/log"

hr() { echo "=================================================================="; }

# One message file: its headers, then its body decoded (UTF-8).
show_message() {
	python3 - "$1" <<'PY'
import email, email.policy, sys
raw = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
print(raw.split(b'\n\n', 1)[0].decode('utf-8', 'replace'))
print()
msg = email.message_from_bytes(raw, policy=email.policy.compat32)
body = msg.get_payload(decode=True)
print(body.decode('utf-8', 'replace') if isinstance(body, bytes) else '(multipart: not sanitized)')
PY
}

write_config() {  # $1 = extra lines
	cat > "$OUT/mugai.conf" <<CONF
[sanitize]
notice_contact = 情報政策課（内線 1234）
notice_contact_en = the IT policy division (ext. 1234)
[quarantine]
dir = $OUT/quarantine
[audit]
log = $OUT/log/audit.log
admin_log = $OUT/log/admin.log
$1
CONF
}

show_store() {
	hr
	echo "== mugai quarantine list"
	"$MUGAI" quarantine list --config "$OUT/mugai.conf"
	hr
	echo "== the audit log ($OUT/log/audit.log): one JSON line per message"
	python3 - "$OUT/log/audit.log" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8') if l.strip()]
print('%-14s %-10s %-8s %-30s %s' % ('id', 'verdict', 'removed', 'quarantine_id', 'message_id'))
for r in recs:
    removed = sum(1 for p in r.get('parts', []) if p.get('action') == 'removed')
    print('%-14s %-10s %-8d %-30s %s' % (r.get('id'), r.get('verdict'), removed,
                                        r.get('quarantine_id') or '-', r.get('message_id')))
if recs:
    print('\nthe last line in full:')
    print(json.dumps(recs[-1], ensure_ascii=False, indent=1))
PY
}

# ---------------------------------------------------------------- no milter yet
pipeline_demo() {
	echo "($MILTER is not built yet: showing the pipeline with mugai sanitize)"
	write_config ""
	for s in $SAMPLES; do
		local in=test/golden/$s.eml
		hr
		echo "== $s: mugai sanitize --explain $in"
		set +e
		"$MUGAI" sanitize --config "$OUT/mugai.conf" --explain "$in" >"$OUT/$s.out"
		local rc=$?
		set -e
		echo "== exit $rc; sanitized message (body decoded):"
		[ -s "$OUT/$s.out" ] && show_message "$OUT/$s.out"
	done
	show_store
}

# ---------------------------------------------------------------- through Postfix
# Postfix's daemons (user postfix) must reach the instance and the milter
# socket: use ./demo-out when every directory above it lets others in (not
# so under /root), else a directory in /tmp.
searchable() {
	local d=$1
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		(( 0$(stat -c %a "$d") & 1 )) || return 1
	done
}

PIDS=()
RUN=""
cleanup() {
	set +e
	if [ -n "$RUN" ] && [ -d "$RUN/postfix" ]; then
		python3 test/postfix/pfinstance.py stop "$RUN/postfix"
	fi
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	case "$RUN" in /tmp/mugai-demo.*)
		cp "$RUN/postfix/maillog" "$OUT/maillog" 2>/dev/null
		rm -rf "$RUN" ;;
	esac
}

# An administrator's review: the entry of the message with the attachment,
# shown, then released (the original, byte for byte, plus X-Mugai-Released)
# through the milter-free smtpd, and the audit record of the act.
review_demo() {
	local id before
	id=$("$MUGAI" quarantine list --config "$OUT/mugai.conf" --json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e.get("subject") == "attach" and e.get("verdict") == "sanitized":
        print(e["id"])
        break')
	[ -n "$id" ] || { echo "(no sanitized entry to review)"; return; }
	hr
	echo "== an administrator reviews it: mugai quarantine show $id"
	"$MUGAI" quarantine show --config "$OUT/mugai.conf" "$id"
	hr
	echo "== and releases the original: mugai quarantine release $id --reason '...'"
	before=$(find "$OUT/sink" -name '*.json' | wc -l)
	SUDO_USER=kanri01 "$MUGAI" quarantine release --config "$OUT/mugai.conf" "$id" \
		--reason "田中さんの依頼で原本を渡す"
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(find "$OUT/sink" -name '*.json' | wc -l)" -gt "$before" ] && break
		sleep 0.1
	done
	local f
	f=$(ls "$OUT"/sink/*.eml | tail -1)
	echo "== the sink received $(basename "$f"): the original with the release header, not sanitized again:"
	sed -n '/^X-Mugai-Released:/p; /^Content-Type:/p; /^Subject:/p' "$f" | head -5
	echo "== the act in the administrators' audit log ($OUT/log/admin.log):"
	tail -1 "$OUT/log/admin.log"
}

postfix_demo() {
	[ "$(id -u)" = 0 ] || { echo "run as root: Postfix's master must start as root" >&2; exit 1; }
	chmod 755 "$OUT"
	if searchable "$OUT"; then RUN=$OUT/run; mkdir -p "$RUN"; else RUN=$(mktemp -d /tmp/mugai-demo.XXXXXX); fi
	chmod 755 "$RUN"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$OUT/spool" "$OUT/swaks"
	write_config "[milter]
socket = unix:$RUN/mugai.sock
# stays root here; a real installation drops to user mugai (packaging/)
user = \"\"
allow_root = yes
group = postfix
spool_dir = $OUT/spool"

	python3 test/postfix/sink.py --dir "$OUT/sink" --portfile "$RUN/sink.port" --max-seconds 900 \
		2>"$OUT/sink.log" &
	PIDS+=($!)
	"$MILTER" -c "$OUT/mugai.conf" -f >"$OUT/milter.log" 2>&1 &
	PIDS+=($!)
	local i
	for ((i = 0; i < 200; i++)); do
		[ -s "$RUN/sink.port" ] && [ -S "$RUN/mugai.sock" ] && break
		sleep 0.1
	done
	[ -S "$RUN/mugai.sock" ] || { echo "mugai-milter did not start:" >&2; cat "$OUT/milter.log" >&2; exit 1; }
	local sink_port port
	sink_port=$(cat "$RUN/sink.port")
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# released mail goes to the milter-free smtpd on Postfix's private/ socket
	printf '[release]\nsmtp = unix:%s\n' "$RUN/postfix/spool/private/mugai-release" >>"$OUT/mugai.conf"
	python3 test/postfix/pfinstance.py start "$RUN/postfix" --port "$port" --relay-port "$sink_port" \
		--milter "unix:$RUN/mugai.sock" --release-unix --name postfix-mugai-demo

	hr
	echo "== sending the samples: swaks -> Postfix 127.0.0.1:$port (smtpd_milters = unix:$RUN/mugai.sock)"
	local s reply accepted=0
	for s in $SAMPLES; do
		# swaks ends DATA with CRLF . CRLF itself: send the file without its last newline
		python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[:-1] if d.endswith(b"\n") else d)' \
			"test/golden/$s.eml" >"$RUN/data"
		swaks --server "127.0.0.1:$port" --from sender@example.co.jp --to tanaka@city.example.lg.jp \
			--helo mail.example.co.jp --timeout 60 --data - <"$RUN/data" >"$OUT/swaks/$s.log" 2>&1 || true
		reply=$(sed -n '/^ -> \.$/{n;s/^<[-*]*  *//;p}' "$OUT/swaks/$s.log")
		printf '%-26s %s\n' "$s" "${reply:-(no reply)}"
		case "$reply" in 250*) accepted=$((accepted + 1)) ;; esac
	done
	for ((i = 0; i < 300; i++)); do
		[ "$(find "$OUT/sink" -name '*.json' 2>/dev/null | wc -l)" -ge "$accepted" ] && break
		sleep 0.1
	done

	local f qid
	for f in "$OUT"/sink/*.eml; do
		[ -e "$f" ] || continue
		qid=$(sed -n 's/.* with ESMTP id \([0-9A-Za-z]*\).*/\1/p' "$f" | head -1)
		hr
		echo "== delivered to the sink: $(basename "$f") (Postfix queue ID $qid)"
		show_message "$f"
	done
	show_store
	hr
	echo "== Postfix's log for the first message ($RUN/postfix/maillog):"
	qid=$(sed -n 's/.* with ESMTP id \([0-9A-Za-z]*\).*/\1/p' "$OUT/sink/000001.eml" 2>/dev/null | head -1)
	[ -n "$qid" ] && grep -F "$qid" "$RUN/postfix/maillog" | sed 's/^[A-Z][a-z][a-z] [ 0-9]* [0-9:]* [^ ]* //' || true
	echo "== and mugai-milter's ($OUT/milter.log; syslog, mail facility, in production):"
	[ -n "$qid" ] && grep -F "$qid" "$OUT/milter.log" || true
	review_demo
	hr
	echo "sink, mugai-milter and Postfix stopped; messages in $OUT/sink, quarantine in $OUT/quarantine"
}

if [ -x "$MILTER" ]; then
	postfix_demo
else
	pipeline_demo
fi
