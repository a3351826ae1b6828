#!/usr/bin/env python3
"""`mugai quarantine` for administrators, through the real binary: list with
its filters and its table (newest first, East Asian widths, exact text),
--json, show with the text the recipient received, export -o, approve,
release (libcurl against a small SMTP server started here, which can
refuse recipients), delete, purge by the age the IDs encode, the exact
administrator audit record of every act, SUDO_USER as the person acting,
and messages in Japanese under LANG=ja_JP.UTF-8.

Usage: quarantine.py MUGAI   (prints TAP)
"""
import email
import email.policy
import hashlib
import json
import os
import re
import socket
import socketserver
import stat
import sys
import tempfile
import threading
import unicodedata

sys.path.insert(0, os.path.dirname(__file__))
from tapcommon import BASECONF, SRC, Tap, audit_records, run  # noqa: E402

GOLDEN = os.path.join(SRC, "test", "golden")
TS_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


# ---- a small SMTP server that stores what it gets and refuses some recipients

class _Smtp(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        srv = self.server
        self.reply("220 test.example ESMTP")
        mail_from, rcpts = None, []
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                self.reply("250-test.example\r\n250-8BITMIME\r\n250 SIZE 100000000")
            elif verb == "HELO":
                self.reply("250 test.example")
            elif verb == "MAIL":
                mail_from, rcpts = cmd[10:].strip(), []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = cmd[8:].strip()
                if addr.strip("<>") in srv.refuse:
                    self.reply("550 5.1.1 %s: Recipient address rejected: refused by the test" % addr)
                else:
                    rcpts.append(addr)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                chunks = []
                while True:
                    l2 = self.rfile.readline(1 << 20)
                    if not l2 or l2 == b".\r\n":
                        break
                    chunks.append(l2[1:] if l2.startswith(b".") else l2)
                srv.got.append({"from": mail_from, "rcpt": rcpts, "data": b"".join(chunks)})
                self.reply("250 2.0.0 Ok: queued as Q%d" % len(srv.got))
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 what")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Smtp)
        self.refuse = {"refused@example.net"}
        self.got = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- entries ---------------------------------------------------------------

def record(qid, subject, frm, verdict, size, rcpt=("staff@city.example.lg.jp",), parts=None,
           reasons=(), header_from=None, text="本文です。\n"):
    ts = "%s-%s-%sT%s:%s:%s.%sZ" % (qid[0:4], qid[4:6], qid[6:8], qid[9:11], qid[11:13], qid[13:15], qid[15:18])
    return {
        "ts": ts, "id": "Q" + qid[-6:], "message_id": "m-%s@example.jp" % qid[-4:], "from": frm,
        "header_from": header_from, "subject": subject, "rcpt": list(rcpt), "client": "192.0.2.7",
        "size": size, "sha256": "ab" * 32, "verdict": verdict,
        "verdict_reason": "policy:suspect-rejected" if verdict == "rejected" else None,
        "quarantine_id": qid, "elapsed_ms": 3, "reasons": list(reasons),
        "parts": parts if parts is not None else [
            {"path": "1", "content_type": "text/plain", "detected_type": "text/plain", "filename": None,
             "size": 12, "sha256": None, "action": "kept", "reasons": []},
            {"path": "2", "content_type": "application/pdf", "detected_type": "application/pdf",
             "filename": "見積書.pdf", "size": 48213, "sha256": "cd" * 32, "action": "removed",
             "reasons": ["attachment"]}],
        "delivered_text": text,
    }


def put_entry(qdir, rec, eml=b"Subject: x\r\n\r\nbody\r\n"):
    os.makedirs(qdir, mode=0o700, exist_ok=True)
    qid = rec["quarantine_id"]
    with open(os.path.join(qdir, qid + ".eml"), "wb") as f:
        f.write(eml)
    with open(os.path.join(qdir, qid + ".json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")


def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in s)


CONF_SHA = {}   # configuration file -> its SHA-256, filled by Env.write_conf


def norm(recs):
    """Administrator records with their times replaced by TS, and the
    configuration they name (its file and SHA-256) checked and left out:
    a record naming another file, or the wrong hash, keeps the fields and
    so fails the comparison."""
    out = []
    for r in recs:
        r = dict(r)
        r["ts"] = "TS"
        if "before" in r:
            r["before"] = "BEFORE"
        if "expires" in r and TS_RE.fullmatch(r["expires"] or ""):
            r["expires"] = "EXPIRES"
        if CONF_SHA.get(r.get("config")) == r.get("config_sha256") and list(r)[4:6] == ["config", "config_sha256"]:
            del r["config"], r["config_sha256"]
        out.append(r)
    return out


class Env:
    def __init__(self, mugai, tmp):
        self.mugai = mugai
        self.qdir = os.path.join(tmp, "q")
        self.review = os.path.join(tmp, "review")
        self.audit = os.path.join(tmp, "audit.log")
        self.admin = os.path.join(tmp, "admin.log")
        self.smtp = SmtpServer()
        self.conf = self.write_conf(tmp, "mugai.conf", 1, self.smtp.server_address[1])
        self.conf2 = self.write_conf(tmp, "mugai2.conf", 2, self.smtp.server_address[1])
        self.conf_down = self.write_conf(tmp, "down.conf", 1, free_port())

    def write_conf(self, tmp, name, approvals, port):
        path = os.path.join(tmp, name)
        with open(BASECONF, encoding="utf-8") as b, open(path, "w", encoding="utf-8") as f:
            f.write(b.read().rstrip("\n") + "\n")
            f.write("[quarantine]\ndir = %s\nretention_days = 60\nrelease_approvals = %d\n"
                    "[audit]\nlog = %s\nadmin_log = %s\n[release]\nsmtp = 127.0.0.1:%d\n"
                    % (self.qdir, approvals, self.audit, self.admin, port))
        with open(path, "rb") as f:
            CONF_SHA[path] = hashlib.sha256(f.read()).hexdigest()
        return path

    def q(self, *args, conf=None, lang="C", sudo=None, sudo_uid=None, columns="120", stdin=None):
        env = {k: v for k, v in os.environ.items()
               if k not in ("LC_ALL", "LC_MESSAGES", "LANG", "SUDO_USER", "SUDO_UID", "SUDO_GID",
                            "COLUMNS", "TZ")}
        env.update({"LANG": lang, "TZ": "UTC", "COLUMNS": columns})
        if sudo:
            env["SUDO_USER"] = sudo
        if sudo_uid is not None:
            env["SUDO_UID"] = env["SUDO_GID"] = str(sudo_uid)
        import subprocess
        return subprocess.run([self.mugai, "quarantine"] + list(args) + ["--config", conf or self.conf],
                              capture_output=True, env=env, input=stdin, timeout=60)

    def new_records(self, n0):
        return norm(audit_records(self.admin)[n0:])

    def nrec(self):
        return len(audit_records(self.admin))


A = "20250301-010203004-AAAAAAAAAA"
B = "20250302-030405006-BBBBBBBBBB"
C = "20250303-235959999-CCCCCCCCCC"
D = "20250304-000000000-DDDDDDDDDD"


def main():
    mugai = sys.argv[1]
    t = Tap()
    with tempfile.TemporaryDirectory() as tmp:
        e = Env(mugai, tmp)
        user = __import__("pwd").getpwuid(os.getuid()).pw_name
        put_entry(e.qdir, record(A, "見積書の送付について（再送）お手数ですがご確認のほどよろしくお願いいたします",
                                 "tanaka@example.co.jp", "sanitized", 48213,
                                 header_from="田中 太郎 <tanaka@example.co.jp>"))
        put_entry(e.qdir, record(B, "Invoice ＃123 overdue", "billing@example.com", "suspect", 3 << 20,
                                 reasons=["parse-warning:crit-conflicting-header"]))
        put_entry(e.qdir, record(C, "ｾﾐﾅｰのご案内", "info@seminar.example", "rejected", 512,
                                 rcpt=("soumu@city.example.lg.jp", "kikaku@city.example.lg.jp")))
        put_entry(e.qdir, record(D, "Re: 会議\u202eexe.pdf", None, "sanitized", 1023,
                                 header_from="会議室 <room@example.jp>"))

        # ---- list: the table -------------------------------------------------
        p = e.q("list")
        want = (
            "ID                             TIME              VERDICT         SIZE  FROM                      SUBJECT\n"
            "20250304-000000000-DDDDDDDDDD  2025-03-04 00:00  sanitized     1023 B  会議室 <room@example.jp>  Re: 会議<U+202E>exe.pdf\n"
            "20250303-235959999-CCCCCCCCCC  2025-03-03 23:59  rejected       512 B  info@seminar.example      ｾﾐﾅｰのご案内\n"
            "20250302-030405006-BBBBBBBBBB  2025-03-02 03:04  suspect       3.0 MB  billing@example.com       Invoice ＃123 overdue\n"
            "20250301-010203004-AAAAAAAAAA  2025-03-01 01:02  sanitized    47.1 KB  tanaka@example.co.jp      見積書の送付について（…\n")
        got = p.stdout.decode()
        t.ok(p.returncode == 0 and got == want,
             "list: the table, newest first, aligned in display width, the subject cut with … at COLUMNS=120",
             "got:\n%s\nwant:\n%s" % (got, want))
        lines = got.splitlines()
        t.ok([width(l) for l in lines] == [104, 120, 109, 118, 120], "list: no line wider than COLUMNS=120",
             [width(l) for l in lines])
        p = e.q("list", columns="100")
        want = (
            "ID                             TIME              VERDICT         SIZE  FROM          SUBJECT\n"
            "20250304-000000000-DDDDDDDDDD  2025-03-04 00:00  sanitized     1023 B  会議室 <roo…  Re: 会議<U+202E>exe…\n"
            "20250303-235959999-CCCCCCCCCC  2025-03-03 23:59  rejected       512 B  info@semina…  ｾﾐﾅｰのご案内\n"
            "20250302-030405006-BBBBBBBBBB  2025-03-02 03:04  suspect       3.0 MB  billing@exa…  Invoice ＃123 overd…\n"
            "20250301-010203004-AAAAAAAAAA  2025-03-01 01:02  sanitized    47.1 KB  tanaka@exam…  見積書の送付につい…\n")
        t.ok(p.stdout.decode() == want, "list at COLUMNS=100: the sender gives room to the subject",
             p.stdout.decode())
        p = e.q("list", lang="ja_JP.UTF-8")
        jhead = p.stdout.decode().splitlines()[0]
        t.ok(jhead == "隔離ID                         日時              判定          サイズ  差出人                    件名",
             "list: Japanese headers padded by display width", jhead)
        t.ok(p.stdout.decode().splitlines()[1:] == lines[1:], "list: the rows do not change with the language")
        t.ok(stat.S_IMODE(os.stat(os.path.join(e.qdir, ".index.sqlite")).st_mode) == 0o600,
             "list: the index is DIR/.index.sqlite, mode 0600")

        # ---- list: filters -------------------------------------------------------
        def ids(*args):
            p = e.q("list", *args)
            return p.returncode, [l.split()[0][-1] for l in p.stdout.decode().splitlines()[1:]]

        cases = [
            (("--since", "2025-03-02"), "DCB"),
            (("--until", "2025-03-03"), "CBA"),
            (("--since", "2025-03-02T03:04:05.006Z", "--until", "2025-03-03T23:59:59.998Z"), "B"),
            (("--until", "2025-03-03T23:59:59.999Z"), "CBA"),
            (("--since", "2025-03-04T09:00:00+09:00"), "D"),
            (("--from", "EXAMPLE.COM"), "B"),
            (("--from", "田中"), "A"),
            (("--rcpt", "kikaku@"), "C"),
            (("--subject", "invoice"), "B"),
            (("--subject", "セミナー"), "C"),
            (("--subject", "＃123"), "B"),
            (("--verdict", "sanitized"), "DA"),
            (("--reason", "parse-warning:crit-conflicting-header"), "B"),
            (("--reason", "attachment"), "DCBA"),
            (("--reason", "attach"), ""),
            (("--verdict", "sanitized", "--subject", "見積"), "A"),
        ]
        for args, want_ids in cases:
            rc, got_ids = ids(*args)
            t.ok(rc == 0 and "".join(got_ids) == want_ids, "list %s: %s" % (" ".join(args), want_ids or "none"),
                 "got %s" % "".join(got_ids))
        p = e.q("list", "--since", "March 2")
        t.ok(p.returncode == 2 and p.stderr == b"mugai: --since: not a date (YYYY-MM-DD) or an RFC 3339 time: March 2\n",
             "list --since with a bad time: exit 2, named", p.stderr)
        p = e.q("list", "--since", "3月2日", lang="ja_JP.UTF-8")
        t.ok(p.returncode == 2 and p.stderr.decode() ==
             "mugai: --since: 日付（YYYY-MM-DD）でも RFC 3339 の日時でもありません: 3月2日\n",
             "list --since with a bad time, Japanese", p.stderr.decode())
        p = e.q("list", "--verdict", "bad")
        t.ok(p.returncode == 2 and b"not a verdict" in p.stderr, "list --verdict bad: exit 2")
        p = e.q("list", "--to", "x@y")
        t.ok(p.returncode == 2 and b"usage" in p.stderr, "list --to: usage, exit 2")

        # ---- list --json -----------------------------------------------------------
        p = e.q("list", "--json")
        arr = json.loads(p.stdout) if p.returncode == 0 else []
        t.ok([x["id"] for x in arr] == [D, C, B, A], "list --json: newest first")
        keys = ["id", "record_id", "ts", "message_id", "from", "header_from", "rcpt", "subject", "client",
                "size", "sha256", "verdict", "verdict_reason", "elapsed_ms", "reasons", "parts"]
        t.ok(arr and list(arr[3].keys()) == keys, "list --json: every field of the record, in order",
             arr and list(arr[3].keys()))
        t.ok(arr and arr[3]["record_id"] == "QAAAAAA" and arr[3]["size"] == 48213
             and arr[3]["parts"][1]["filename"] == "見積書.pdf", "list --json: values from the record")
        p2 = e.q("list", "--json", "--verdict", "suspect")
        t.ok(p2.returncode == 0 and [x["id"] for x in json.loads(p2.stdout)] == [B], "list --json with a filter")

        # ---- show ---------------------------------------------------------------------
        p = e.q("show", A)
        want_show = """ID:               20250301-010203004-AAAAAAAAAA
Time:             2025-03-01 01:02:03 (2025-03-01T01:02:03.004Z)
Verdict:          sanitized
Record ID:        QAAAAAA
Envelope from:    tanaka@example.co.jp
Recipients:       staff@city.example.lg.jp
Client:           192.0.2.7
Header From:      田中 太郎 <tanaka@example.co.jp>
Subject:          見積書の送付について（再送）お手数ですがご確認のほどよろしくお願いいたします
Message-ID:       m-AAAA@example.jp
Size:             47.1 KB (48213 bytes)
SHA-256:          abababababababababababababababababababababababababababababababab
Reasons:          -
Parts:            2 (1 removed)

Part 1: kept
  Type:           text/plain
  Detected:       text/plain
  Filename:       -
  Size:           12 bytes
  SHA-256:        -
  Reasons:        -

Part 2: removed
  Type:           application/pdf
  Detected:       application/pdf
  Filename:       見積書.pdf
  Size:           47.1 KB (48213 bytes)
  SHA-256:        cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
  Reasons:        attachment

Approvals:        (none)
Releases:         (none)

--- Text the recipient received ---
本文です。
"""
        t.ok(p.returncode == 0 and p.stdout.decode() == want_show, "show: every field, exact",
             p.stdout.decode())
        p = e.q("show", A, lang="ja_JP.UTF-8")
        t.ok(p.returncode == 0 and p.stdout.decode().splitlines()[:3] == [
            "隔離ID:               20250301-010203004-AAAAAAAAAA",
            "日時:                 2025-03-01 01:02:03 (2025-03-01T01:02:03.004Z)",
            "判定:                 sanitized"], "show: Japanese labels padded by display width",
            p.stdout.decode())
        p = e.q("show", D)
        t.ok(b"Re: \xe4\xbc\x9a\xe8\xad\xb0<U+202E>exe.pdf" in p.stdout and "\u202e".encode() not in p.stdout,
             "show: a bidi override in the subject is shown, not obeyed")
        p = e.q("show", "20250101-000000000-ZZZZZZZZZZ")
        t.ok(p.returncode == 1 and p.stderr == b"mugai: quarantine: no such entry: 20250101-000000000-ZZZZZZZZZZ\n",
             "show of an unknown ID: exit 1")
        p = e.q("show", "20250101-000000000-ZZZZZZZZZZ", lang="ja_JP.UTF-8")
        t.ok(p.returncode == 1 and p.stderr.decode() ==
             "mugai: quarantine: その隔離IDのエントリはありません: 20250101-000000000-ZZZZZZZZZZ\n",
             "show of an unknown ID, Japanese", p.stderr.decode())
        p = e.q("show", "../../etc/passwd")
        t.ok(p.returncode == 1 and p.stderr == b"mugai: quarantine: not a quarantine ID: ../../etc/passwd\n",
             "a path is not an ID: exit 1")

        # a real entry: what `mugai sanitize` delivered is what show says was received
        src = os.path.join(GOLDEN, "forwarded.eml")
        raw = open(src, "rb").read()
        p, _ = run([mugai, "sanitize", "--config", e.conf, src])
        qid = re.search(rb"id=(\d{8}-\d{9}-[0-9A-Z]{10})", p.stdout).group(1).decode()
        body = email.message_from_bytes(p.stdout, policy=email.policy.compat32).get_payload(decode=True).decode()
        p = e.q("show", qid)
        shown = p.stdout.decode().split("--- Text the recipient received ---\n", 1)[-1]
        t.ok(p.returncode == 0 and shown == body, "show: the delivered text is the body mugai sanitize gave",
             shown[:300])
        with open(os.path.join(e.qdir, qid + ".json"), encoding="utf-8") as f:
            qrec = json.load(f)
        arec = audit_records(e.audit)[-1]
        t.ok(qrec.get("delivered_text") == body and "delivered_text" not in arec
             and {k: v for k, v in qrec.items() if k != "delivered_text"} == arec,
             "the quarantine record = the audit record + delivered_text; the audit line has no text")

        # ---- export -o -------------------------------------------------------------------
        out = os.path.join(tmp, "out.eml")
        n0 = e.nrec()
        p = e.q("export", qid, "-o", out, sudo="alice")
        t.ok(p.returncode == 0 and open(out, "rb").read() == raw and stat.S_IMODE(os.stat(out).st_mode) == 0o600,
             "export -o: the original, mode 0600", p.stderr)
        p = e.q("export", qid, "--part", "2.2", "-o", out)
        t.ok(p.returncode == 1 and p.stderr.decode() == "mugai: quarantine: %s: exists; not overwritten\n" % out
             and open(out, "rb").read() == raw, "export -o over an existing file: refused, exit 1, file unchanged",
             p.stderr)
        os.symlink(os.path.join(tmp, "elsewhere"), os.path.join(tmp, "link"))
        p = e.q("export", qid, "-o", os.path.join(tmp, "link"))
        t.ok(p.returncode == 1 and not os.path.exists(os.path.join(tmp, "elsewhere")),
             "export -o onto a symlink: refused, nothing written through it")
        part = os.path.join(tmp, "part.bin")
        p = e.q("export", qid, "--part", "2.2", "-o", part, "--reason", "本人の依頼")
        t.ok(p.returncode == 0 and open(part, "rb").read() == b"MZ" + bytes(200), "export --part -o: the decoded part")
        recs = e.new_records(n0)
        t.ok(recs == [
            {"ts": "TS", "event": "export", "user": user, "sudo_user": "alice", "quarantine_id": qid,
             "reason": None, "part": None, "output": out, "result": "ok", "error": None},
            {"ts": "TS", "event": "export", "user": user, "sudo_user": None, "quarantine_id": qid,
             "reason": None, "part": "2.2", "output": out, "result": "denied", "error": "output exists"},
            {"ts": "TS", "event": "export", "user": user, "sudo_user": None, "quarantine_id": qid,
             "reason": None, "part": None, "output": os.path.join(tmp, "link"), "result": "denied",
             "error": "output exists"},
            {"ts": "TS", "event": "export", "user": user, "sudo_user": None, "quarantine_id": qid,
             "reason": "本人の依頼", "part": "2.2", "output": part, "result": "ok", "error": None},
        ], "export: one exact audit record per export", json.dumps(recs, ensure_ascii=False, indent=1))
        n0 = e.nrec()
        p = e.q("export", qid)
        t.ok(p.returncode == 0 and p.stdout == raw and e.new_records(n0)[0]["output"] == "-",
             "export to stdout: recorded with output \"-\"")

        # through sudo: the administrators' configuration only (test/security.py
        # runs the commands through real sudo with /etc/mugai/mugai.conf)
        for opt in (("--audit-log", os.path.join(tmp, "elsewhere.log")), ("--quarantine-dir", tmp)):
            p = e.q("list", *opt, sudo="alice", sudo_uid=1000)
            t.ok(p.returncode == 2 and p.stderr == b"mugai: quarantine: --config, --quarantine-dir and --audit-log "
                 b"cannot be used through sudo\n", "through sudo: %s refused, exit 2" % opt[0], p.stderr)
        p = e.q("list", sudo="alice", sudo_uid=1000)
        t.ok(p.returncode == 2 and b"cannot be used through sudo" in p.stderr,
             "through sudo: --config refused, even a root-owned one, exit 2", p.stderr)

        # ---- release ------------------------------------------------------------------------
        dotted = (b"From: a@example.net\nTo: staff@city.example.lg.jp\nSubject: dots\n\n"
                  b".hidden line\n..two dots\n.\nCRLF kept\r\nlast line without newline")
        put_entry(e.qdir, record("20250305-000000000-EEEEEEEEEE", "dots", "a@example.net", "sanitized", len(dotted)),
                  eml=dotted)
        n0 = e.nrec()
        p = e.q("release", "20250305-000000000-EEEEEEEEEE", "--reason", "false positive", sudo="alice")
        got = e.smtp.got[-1] if e.smtp.got else {}
        t.ok(p.returncode == 0 and p.stdout.decode() ==
             "20250305-000000000-EEEEEEEEEE: released to staff@city.example.lg.jp: 250 2.0.0 Ok: queued as Q1\n",
             "release: exit 0, the server's reply reported", p.stdout + p.stderr)
        hdr = re.match(rb"X-Mugai-Released: by=alice; at=(\S+); id=20250305-000000000-EEEEEEEEEE\r\n",
                       got.get("data", b""))
        t.ok(hdr and TS_RE.fullmatch(hdr.group(1).decode()), "release: X-Mugai-Released: by=alice; at=TIME; id=ID first",
             got.get("data", b"")[:120])
        wire = re.sub(rb"(?<!\r)\n", b"\r\n", dotted) + b"\r\n"
        t.ok(hdr and got["data"][hdr.end():] == wire,
             "release: the original follows, CRLF line ends, dot-stuffed on the wire, a last CRLF added",
             got.get("data", b"")[-200:])
        t.ok(got.get("from") == "<a@example.net>" and got.get("rcpt") == ["<staff@city.example.lg.jp>"],
             "release: the recorded envelope sender and recipients", got)
        recs = e.new_records(n0)
        t.ok(recs == [{"ts": "TS", "event": "release", "user": user, "sudo_user": "alice",
                       "quarantine_id": "20250305-000000000-EEEEEEEEEE", "reason": "false positive",
                       "from": "a@example.net", "to": ["staff@city.example.lg.jp"], "force": False, "approvals": [],
                       "smtp_reply": "250 2.0.0 Ok: queued as Q1", "result": "ok", "error": None}],
             "release: the exact audit record", json.dumps(recs, ensure_ascii=False, indent=1))
        with open(os.path.join(e.review, "20250305-000000000-EEEEEEEEEE.json"), encoding="utf-8") as f:
            st = json.load(f)
        rel = st["releases"][0] if st.get("releases") else {}
        t.ok(st["approvals"] == [] and len(st["releases"]) == 1 and rel["user"] == "alice" and rel["by"] == user
             and rel["to"] == ["staff@city.example.lg.jp"] and rel["reason"] == "false positive"
             and rel["smtp_reply"] == "250 2.0.0 Ok: queued as Q1" and TS_RE.fullmatch(rel["at"]),
             "release: the state file records who, when, why, to whom", st)
        p = e.q("show", "20250305-000000000-EEEEEEEEEE")
        t.ok(re.search(r"\nReleases:         alice \(%s\) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to staff@city\.example\.lg\.jp: "
                       r"false positive \[250 2\.0\.0 Ok: queued as Q1\]\n" % re.escape(user), p.stdout.decode()),
             "show: the release", p.stdout.decode()[-600:])

        # --to, and a recipient the server refuses: nothing changes
        n0, sent0 = e.nrec(), len(e.smtp.got)
        st_path = os.path.join(e.review, "20250305-000000000-EEEEEEEEEE.json")
        before = open(st_path, "rb").read()
        p = e.q("release", "20250305-000000000-EEEEEEEEEE", "--reason", "again", "--to", "ok@example.jp",
                "--to", "refused@example.net")
        reply = "550 5.1.1 <refused@example.net>: Recipient address rejected: refused by the test"
        t.ok(p.returncode == 1 and p.stderr.decode() ==
             "mugai: quarantine: 20250305-000000000-EEEEEEEEEE: the SMTP server refused the release: %s\n" % reply,
             "release refused by the server: exit 1, the server's exact reply", p.stderr)
        t.ok(len(e.smtp.got) == sent0 and open(st_path, "rb").read() == before,
             "release refused: nothing sent, the state unchanged")
        recs = e.new_records(n0)
        t.ok(len(recs) == 1 and recs[0]["result"] == "refused" and recs[0]["smtp_reply"] == reply
             and recs[0]["to"] == ["ok@example.jp", "refused@example.net"] and recs[0]["error"],
             "release refused: recorded as refused with the reply", recs)
        p = e.q("release", "20250305-000000000-EEEEEEEEEE", "--reason", "x", conf=e.conf_down)
        t.ok(p.returncode == 75 and b"release failed, nothing sent (try again later): " in p.stderr
             and open(st_path, "rb").read() == before, "release to a server that is down: exit 75, nothing changed",
             p.stderr)
        t.ok(e.new_records(n0)[-1]["result"] == "failed", "release to a server that is down: recorded as failed")
        p = e.q("release", "20250305-000000000-EEEEEEEEEE", "--reason", "x", "--to", "bad address")
        t.ok(p.returncode == 2 and b"--to: not a mail address: bad address" in p.stderr, "release --to with a blank: exit 2")
        p = e.q("release", "20250305-000000000-EEEEEEEEEE")
        t.ok(p.returncode == 2 and p.stderr ==
             b"mugai: quarantine release: --reason TEXT is required (it goes into the audit log)\n",
             "release without --reason: exit 2", p.stderr)

        # ---- suspect entries: --force and two administrators ----------------------------------
        put_entry(e.qdir, record("20250306-000000000-FFFFFFFFFF", "discarded", "d@example.jp", "discarded", 10))
        p = e.q("release", "20250306-000000000-FFFFFFFFFF", "--reason", "needed")
        t.ok(p.returncode == 1 and b"verdict discarded: releasing it needs --force" in p.stderr,
             "a discarded entry needs --force too", p.stderr)
        os.unlink(os.path.join(e.qdir, "20250306-000000000-FFFFFFFFFF.json"))
        os.unlink(os.path.join(e.qdir, "20250306-000000000-FFFFFFFFFF.eml"))
        n0, sent0 = e.nrec(), len(e.smtp.got)
        p = e.q("release", B, "--reason", "needed", sudo="alice")
        t.ok(p.returncode == 1 and p.stderr.decode() ==
             "mugai: quarantine: %s: verdict suspect: releasing it needs --force\n" % B, "suspect without --force: exit 1",
             p.stderr)
        p = e.q("release", B, "--reason", "needed", sudo="alice", lang="ja_JP.UTF-8")
        t.ok(p.returncode == 1 and p.stderr.decode() ==
             "mugai: quarantine: %s: 判定が suspect のため、解放には --force が必要です\n" % B,
             "suspect without --force, Japanese", p.stderr.decode())
        p = e.q("release", B, "--reason", "needed", "--force", sudo="alice", conf=e.conf2)
        t.ok(p.returncode == 1 and p.stderr.decode() ==
             "mugai: quarantine: %s: needs 2 administrators (the releaser and approvals of others), has 1\n" % B,
             "release_approvals = 2: one person is not enough", p.stderr)
        p = e.q("approve", B, "--reason", "I checked it", sudo="alice", conf=e.conf2)
        t.ok(p.returncode == 0 and p.stdout == ("%s: approved by alice\n" % B).encode(), "alice approves", p.stderr)
        p = e.q("approve", B, "--reason", "again", sudo="alice", conf=e.conf2)
        t.ok(p.returncode == 1 and p.stderr == ("mugai: quarantine: %s: alice has approved it already\n" % B).encode(),
             "alice approves again: refused", p.stderr)
        p = e.q("release", B, "--reason", "needed", "--force", sudo="alice", conf=e.conf2)
        t.ok(p.returncode == 1 and b"has 1" in p.stderr, "alice's own approval does not make two people")
        p = e.q("approve", B, "--reason", "looks fine", sudo="bob", conf=e.conf2)
        t.ok(p.returncode == 0, "bob approves")
        t.ok(len(e.smtp.got) == sent0, "nothing sent while refused")
        p = e.q("release", B, "--reason", "needed", "--force", sudo="alice", conf=e.conf2)
        t.ok(p.returncode == 0 and len(e.smtp.got) == sent0 + 1
             and e.smtp.got[-1]["data"].startswith(b"X-Mugai-Released: by=alice; "),
             "alice releases with bob's approval", p.stderr)
        recs = e.new_records(n0)
        base = {"ts": "TS", "user": user, "quarantine_id": B}
        want_recs = [
            dict(base, event="release", sudo_user="alice", reason="needed", **{"from": "billing@example.com"},
                 to=["staff@city.example.lg.jp"], force=False, approvals=[], smtp_reply=None,
                 result="denied", error="needs --force"),
            dict(base, event="release", sudo_user="alice", reason="needed", **{"from": "billing@example.com"},
                 to=["staff@city.example.lg.jp"], force=False, approvals=[], smtp_reply=None,
                 result="denied", error="needs --force"),
            dict(base, event="release", sudo_user="alice", reason="needed", **{"from": "billing@example.com"},
                 to=["staff@city.example.lg.jp"], force=True, approvals=[], smtp_reply=None,
                 result="denied", error="needs 2 administrators, has 1"),
            dict(base, event="approve", sudo_user="alice", reason="I checked it", to=["staff@city.example.lg.jp"],
                 expires="EXPIRES", result="ok", error=None),
            dict(base, event="approve", sudo_user="alice", reason="again", to=["staff@city.example.lg.jp"],
                 expires="EXPIRES", result="denied", error="already approved by this user"),
            dict(base, event="release", sudo_user="alice", reason="needed", **{"from": "billing@example.com"},
                 to=["staff@city.example.lg.jp"], force=True, approvals=[], smtp_reply=None,
                 result="denied", error="needs 2 administrators, has 1"),
            dict(base, event="approve", sudo_user="bob", reason="looks fine", to=["staff@city.example.lg.jp"],
                 expires="EXPIRES", result="ok", error=None),
            dict(base, event="release", sudo_user="alice", reason="needed", **{"from": "billing@example.com"},
                 to=["staff@city.example.lg.jp"], force=True, approvals=["bob"],
                 smtp_reply="250 2.0.0 Ok: queued as Q%d" % (sent0 + 1), result="ok", error=None),
        ]
        t.ok(recs == want_recs, "approve and release: the exact audit records, in order",
             json.dumps(recs, ensure_ascii=False, indent=1))
        p = e.q("show", B)
        t.ok(re.search(r"\nApprovals:        alice \(%s\) [0-9: -]+ to staff@city\.example\.lg\.jp: I checked it "
                       r"\[valid until [0-9: -]+\]\n"
                       r"                  bob \(%s\) [0-9: -]+ to staff@city\.example\.lg\.jp: looks fine "
                       r"\[used by the release at [0-9: -]+\]\n" % (user, user), p.stdout.decode()),
             "show: both approvals, alice's still valid, bob's used by the release", p.stdout.decode()[-700:])

        # ---- delete -----------------------------------------------------------------------------------
        n0 = e.nrec()
        p = e.q("delete", C, "--reason", "spam")
        t.ok(p.returncode == 0 and p.stdout == ("%s: deleted\n" % C).encode()
             and not any(n.startswith(C) for n in os.listdir(e.qdir)), "delete: every file of the entry gone")
        p = e.q("delete", C, "--reason", "spam")
        t.ok(p.returncode == 1, "delete again: exit 1")
        p = e.q("delete", B, "--reason", "x", "--force")
        t.ok(p.returncode == 2, "delete --force: usage, exit 2")
        t.ok(e.new_records(n0) == [{"ts": "TS", "event": "delete", "user": user, "sudo_user": None,
                                    "quarantine_id": C, "reason": "spam", "sha256": "ab" * 32,
                                    "result": "ok", "error": None}],
             "delete: the exact audit record (none for the unknown ID)", e.new_records(n0))
        p = e.q("list")
        t.ok(p.returncode == 0 and C not in p.stdout.decode() and B in p.stdout.decode(),
             "list after delete: the entry is gone from the index too", p.stdout + p.stderr)

        # the audit log cannot be written: nothing is done
        p = e.q("delete", D, "--reason", "x", "--audit-log", os.path.join(tmp, "out.eml", "audit.log"))
        t.ok(p.returncode == 75 and b"nothing done" in p.stderr and os.path.exists(os.path.join(e.qdir, D + ".json")),
             "an act that cannot be recorded is not done: exit 75", p.stderr)

        # ---- purge: by the time in the ID --------------------------------------------------------------
        import datetime
        now = datetime.datetime.now(datetime.timezone.utc)
        young = (now - datetime.timedelta(days=29)).strftime("%Y%m%d-%H%M%S000") + "-YYYYYYYYYY"
        edge = (now - datetime.timedelta(days=31)).strftime("%Y%m%d-%H%M%S000") + "-XXXXXXXXXX"
        put_entry(e.qdir, record(young, "young", "y@example.jp", "sanitized", 10))
        put_entry(e.qdir, record(edge, "old", "o@example.jp", "sanitized", 10))
        os.utime(os.path.join(e.qdir, young + ".eml"), (0, 0))   # the mtime does not count
        n0 = e.nrec()
        p = e.q("purge", "--older-than", "30")
        removed = sorted([A, B, D, "20250305-000000000-EEEEEEEEEE", edge])
        left = sorted(n for n in os.listdir(e.qdir) if not n.startswith("."))
        t.ok(p.returncode == 0 and left == sorted([young + ".eml", young + ".json", qid + ".eml", qid + ".json"]),
             "purge --older-than 30: only entries whose ID is older than 30 days go", left)
        recs = e.new_records(n0)
        t.ok(len(recs) == 1 and recs[0] == {
            "ts": "TS", "event": "purge", "user": user, "sudo_user": None, "quarantine_id": None, "reason": None,
            "older_than_days": 30, "before": "BEFORE", "quarantine_ids": removed,
            "result": "ok", "error": None}, "purge: the exact audit record", json.dumps(recs, indent=1))
        raw_before = audit_records(e.admin)[-1].get("before", "")
        t.ok(p.stdout.decode() == "purged %d entries from before %s\n" % (len(removed), raw_before)
             and TS_RE.fullmatch(raw_before), "purge: says how many", p.stdout)
        p = e.q("purge")
        t.ok(p.returncode == 0 and p.stdout.startswith(b"purged 0 entries")
             and audit_records(e.admin)[-1]["older_than_days"] == 60,
             "purge without --older-than: [quarantine] retention_days (60 here)", p.stdout)
        p = e.q("purge", "--older-than", "soon")
        t.ok(p.returncode == 2, "purge --older-than soon: exit 2")
        p = e.q("list")
        t.ok(p.stdout.decode().count("\n") == 3 and young in p.stdout.decode() and qid in p.stdout.decode(),
             "list after purge: the young entries only")
        e.smtp.shutdown()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
