#!/usr/bin/env python3
"""End to end through a real Postfix: swaks -> Postfix smtpd -> mugai-milter
-> Postfix queue -> smtp -> a sink that stores what it receives.

Starts (under one temporary directory, 127.0.0.1 only) the sink
(test/postfix/sink.py), mugai-milter with its own configuration and unix
socket, and a private Postfix instance (test/postfix/pfinstance.py) with
smtpd_milters pointing at that socket and milter_default_action = tempfail,
plus the milter-free release smtpd of packaging/postfix-master.cf.  Then:

  * every test/golden/*.eml whose NAME.expected says "exit: 0", sent with
    swaks, arrives as one text/plain part with X-Mugai-Status; its decoded
    body (quarantine ID normalised) and its headers (Postfix's Received
    aside) are what `mugai sanitize` gives for the same file; its audit line
    has the Postfix queue ID as "id"; the original of every changed message
    is in the quarantine (`mugai quarantine export` = the file as sent);
  * a message over [limits] message_size gets 5xx at the end of DATA;
  * faults: the milter killed in the middle of a message, the milter down,
    the quarantine directory unusable, the quarantine's file system full (a
    small tmpfs; skipped where mount is not allowed): each gives the client 4xx and
    delivers nothing; once the fault is gone the same message, sent again,
    arrives sanitized, and the milter that saw the quarantine fault is still
    the same process;
  * the administrator's review loop (`mugai quarantine`): a message with
    attachments goes in, shows up in list (filters, --json) and show (with
    the text that reached the sink); `release` re-injects the original
    through the milter-free release smtpd, which delivers it byte for byte
    after X-Mugai-Released (the milter records nothing); a recipient the
    release smtpd rejects and a release smtpd that is down change nothing;
    a suspect entry needs --force and, with release_approvals = 2, a second
    person's approval; purge removes only entries older than the limit;
    every act leaves its exact audit record;
  * at the end: nothing reached the sink unsanitized, Postfix's queue is empty.

Usage: postfix_e2e.py MUGAI [MUGAI_MILTER]   (prints TAP; the milter defaults
to milter/mugai-milter beside MUGAI).  Skips (1..0 # SKIP) when not root,
without Postfix or swaks, or before the milter is built.  Bounded: every
wait has a deadline and everything started is stopped, also on failure or
SIGTERM.  MUGAI_E2E_KEEP=1 keeps the temporary directory.
"""
import base64
import email
import hashlib
import email.parser
import email.policy
import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "postfix"))
import pfinstance  # noqa: E402
from milterproc import Milter  # noqa: E402
from sink import Sink  # noqa: E402
from tapcommon import BASECONF, SRC, Tap, audit_records, output_problems  # noqa: E402

GOLDEN = os.path.join(SRC, "test", "golden")
QID_RE = re.compile(r"\d{8}-\d{9}-[0-9A-Z]{10}")
ENV_FROM = "sender@example.net"
ENV_TO = "tanaka@city.example.lg.jp"
SIZE_LIMIT = 256 * 1024          # [limits] message_size in the test config
REFUSED = "refused@example.net"  # the release smtpd rejects this recipient


def skip(reason):
    print("1..0 # SKIP %s" % reason)
    sys.exit(0)


def crlf_to_lf(b):
    return b.replace(b"\r\n", b"\n")


def decoded_body(raw):
    msg = email.message_from_bytes(crlf_to_lf(raw), policy=email.policy.compat32)
    payload = msg.get_payload(decode=True) or b""
    return QID_RE.sub("QID", payload.decode("utf-8", "replace"))


def header_list(raw, drop=("received",)):
    """[(name, value)] with whitespace folded, quarantine IDs normalised."""
    head = crlf_to_lf(raw).split(b"\n\n", 1)[0] + b"\n\n"
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
    out = []
    for k, v in msg.items():
        if k.lower() in drop:
            continue
        out.append((k.lower(), QID_RE.sub("QID", " ".join(str(v).split()))))
    return out


def queue_id_of(raw):
    """The queue ID in the first Received header (the one Postfix added)."""
    m = re.search(rb"(?im)^Received:[^\n]*(?:\n[ \t][^\n]*)*?\bid ([0-9A-Za-z]+)\b", crlf_to_lf(raw))
    return m.group(1).decode() if m else None


def swaks(port, data, timeout=60):
    """Send DATA (a path, or bytes) with swaks; returns (code of the final reply, its text, transcript)."""
    args = ["swaks", "--server", "127.0.0.1:%d" % port, "--from", ENV_FROM, "--to", ENV_TO,
            "--helo", "client.example.net", "--timeout", "30"]
    if not isinstance(data, bytes):
        with open(data, "rb") as f:
            data = f.read()
    # swaks ends DATA with CRLF "." CRLF after the text it is given: without
    # the file's last newline the message arrives exactly as in the file.
    if data.endswith(b"\n"):
        data = data[:-1]
    args += ["--data", "-"]
    stdin = data
    try:
        p = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 0, "swaks timed out", ""
    out = p.stdout.decode("utf-8", "replace")
    lines = out.splitlines()
    # What to show on failure: the dialogue without the message itself.
    out = "\n".join(l for l in lines if not l.startswith(" -> ") or l.strip() == "-> .")
    out += "\n" + p.stderr.decode("utf-8", "replace")
    # The reply that decided: the one after the final dot, else the first failure.
    replies = []
    after_dot = False
    for l in lines:
        if l.startswith(" -> .") and l.strip() == "-> .":
            after_dot = True
            continue
        m = re.match(r"<(?:-|\*\*)\s+(\d{3})[ -](.*)", l)
        if m:
            replies.append((after_dot, int(m.group(1)), l[4:].strip()))
    final = [r for r in replies if r[0]]
    if final:
        return final[0][1], final[0][2], out
    failed = [r for r in replies if r[1] >= 400]
    if failed:
        return failed[0][1], failed[0][2], out
    return 0, "no reply to the message (swaks exit %d)" % p.returncode, out


def queued_as(text):
    m = re.search(r"queued as ([0-9A-Za-z]+)", text)
    return m.group(1) if m else None


def golden_names():
    names = []
    for f in sorted(os.listdir(GOLDEN)):
        if not f.endswith(".eml"):
            continue
        name = f[:-4]
        try:
            with open(os.path.join(GOLDEN, name + ".expected"), encoding="utf-8") as e:
                first = e.readline().strip()
        except OSError:
            continue
        if first == "exit: 0":
            names.append(name)
    return names


def big_message():
    """A message over SIZE_LIMIT: text plus a 300 KiB attachment."""
    blob = bytes((i * 7919 + (i >> 8)) & 0xFF for i in range(300 * 1024))
    b64 = base64.encodebytes(blob)
    return (b"From: Big Sender <big@example.net>\n"
            b"To: " + ENV_TO.encode() + b"\n"
            b"Subject: over the size limit\n"
            b"Message-ID: <e2e-big@example.net>\n"
            b"MIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
            b"--b1\nContent-Type: text/plain; charset=us-ascii\n\nhello\n"
            b"--b1\nContent-Type: application/octet-stream; name=\"blob.bin\"\n"
            b"Content-Disposition: attachment; filename=\"blob.bin\"\n"
            b"Content-Transfer-Encoding: base64\n\n" + b64 + b"--b1--\n")


def review_message():
    """A message with attachments whose body has lines starting with dots
    (dot-stuffed on the wire both ways) and a Japanese subject."""
    pdf = base64.encodebytes(b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    subject = "=?UTF-8?B?%s?=" % base64.b64encode("[E2E review] 見積書と添付ファイル".encode()).decode()
    return ("From: Sender <%s>\nTo: %s\nSubject: %s\nMessage-ID: <e2e-review@example.net>\n"
            "Date: Mon, 23 Nov 2026 09:00:00 +0900\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=\"rv\"\n\n"
            "--rv\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            "見積書を添付します。\n.a line starting with a dot\n..and two\n\n"
            "--rv\nContent-Type: application/pdf; name=\"見積書.pdf\"\n"
            "Content-Disposition: attachment; filename*=UTF-8''%%E8%%A6%%8B%%E7%%A9%%8D%%E6%%9B%%B8.pdf\n"
            "Content-Transfer-Encoding: base64\n\n" % (ENV_FROM, ENV_TO, subject)).encode() + pdf + b"--rv--\n"


def write_config(tmp, sock):
    base = open(BASECONF, encoding="utf-8").read()
    conf = os.path.join(tmp, "mugai.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(base.rstrip("\n") + "\n")
        f.write("""
[milter]
socket = unix:{sock}
user = ""
allow_root = yes
group = postfix
workers = 2
message_timeout = 60
spool_dir = {tmp}/spool
[limits]
message_size = {size}
[quarantine]
dir = {tmp}/q
[audit]
log = {tmp}/log/audit.log
admin_log = {tmp}/log/admin.log
""".format(sock=sock, tmp=tmp, size=SIZE_LIMIT))
    return conf


class E2E:
    def __init__(self, t, mugai, milter_bin):
        self.t = t
        self.mugai = mugai
        self.milter_bin = milter_bin
        self.tmp = tempfile.mkdtemp(prefix="mugai-e2e-")
        os.chmod(self.tmp, 0o755)
        for d in ("spool", "sock", "sink", "cli-q", "log"):
            os.makedirs(os.path.join(self.tmp, d))
        os.chmod(os.path.join(self.tmp, "sock"), 0o755)
        self.sock = os.path.join(self.tmp, "sock", "mugai.sock")
        self.conf = write_config(self.tmp, self.sock)
        self.qdir = os.path.join(self.tmp, "q")
        self.audit = os.path.join(self.tmp, "log", "audit.log")
        self.milter = Milter(milter_bin, self.conf, self.sock, os.path.join(self.tmp, "milter.log"))
        self.sink = None
        self.pf = None
        self.sunk = set()          # sink messages already looked at
        self.released = set()      # queue IDs of released originals (not sanitized on purpose)
        self.mounted = None        # the tmpfs of the disk-full test, while mounted

    # ---- helpers ----------------------------------------------------------

    def mugai_run(self, *args, timeout=60):
        return subprocess.run([self.mugai] + list(args), capture_output=True, timeout=timeout)

    def expected(self, path):
        """What `mugai sanitize` gives for PATH with the test configuration,
        given as the milter gets it: CRLF line ends, as on the wire.  (A
        removed 7bit part's size and SHA-256 count its line ends, so an LF
        file and the same mail over SMTP differ there.)"""
        wire = os.path.join(self.tmp, "wire.eml")
        with open(path, "rb") as f, open(wire, "wb") as w:
            w.write(crlf_to_lf(f.read()).replace(b"\n", b"\r\n"))
        return self.mugai_run("sanitize", "--config", self.conf, "--quarantine-dir",
                              os.path.join(self.tmp, "cli-q"), "--audit-log",
                              os.path.join(self.tmp, "cli-audit.log"), wire)

    def new_sink_messages(self, timeout, want):
        """Wait (bounded) for WANT new sink messages; returns {queue_id: raw} of the new ones."""
        end = time.monotonic() + timeout
        while True:
            names = [n for n in self.sink.messages() if n not in self.sunk]
            if len(names) >= want or time.monotonic() > end:
                break
            time.sleep(0.05)
        out = {}
        for n in names:
            self.sunk.add(n)
            raw, _ = self.sink.read(n)
            out[queue_id_of(raw) or "?" + n] = raw
        return out

    def audit_by_id(self):
        recs = {}
        for r in audit_records(self.audit):
            recs.setdefault(r.get("id"), []).append(r)
        return recs

    def check_sanitized(self, label, raw, src_path, qid):
        """The checks every delivered message gets; SRC_PATH is what was sent."""
        t = self.t
        prob = output_problems(crlf_to_lf(raw))
        t.ok(prob == "", "%s: arrives as one text/plain part with X-Mugai-Status" % label, prob)
        exp = self.expected(src_path)
        if not t.ok(exp.returncode == 0, "%s: mugai sanitize accepts it too" % label, exp.stderr.decode(errors="replace")):
            return None
        got_body, exp_body = decoded_body(raw), decoded_body(exp.stdout)
        t.ok(got_body == exp_body, "%s: decoded body is what mugai sanitize gives" % label,
             _diff(exp_body, got_body))
        got_h, exp_h = header_list(raw), header_list(exp.stdout)
        t.ok(sorted(got_h) == sorted(exp_h), "%s: headers are what mugai sanitize gives (Received aside)" % label,
             _diff("\n".join("%s: %s" % h for h in exp_h), "\n".join("%s: %s" % h for h in got_h)))
        recs = self.audit_by_id().get(qid, [])
        t.ok(len(recs) == 1, "%s: one audit line with the Postfix queue ID %s as id" % (label, qid),
             "ids in the audit log: %s" % sorted(str(k) for k in self.audit_by_id()))
        if len(recs) != 1:
            return None
        rec = recs[0]
        status = email.message_from_bytes(crlf_to_lf(raw)).get("X-Mugai-Status", "")
        m = QID_RE.search(status)
        if rec.get("verdict") == "clean":
            t.ok(not rec.get("quarantine_id") and not m, "%s: clean, nothing quarantined" % label)
            return rec
        qid_q = rec.get("quarantine_id")
        t.ok(bool(qid_q) and m is not None and m.group(0) == qid_q,
             "%s: X-Mugai-Status names the quarantine ID of the audit line" % label,
             "status %r, audit %r" % (status, qid_q))
        if not qid_q:
            return rec
        p = self.mugai_run("quarantine", "export", "--config", self.conf, "--quarantine-dir", self.qdir, qid_q)
        sent = open(src_path, "rb").read()
        same = p.returncode == 0 and crlf_to_lf(p.stdout) == crlf_to_lf(sent)
        if not same and p.returncode == 0:
            # Postfix hands the milter each header as name + value (the
            # space after the colon is its own, folding kept): compare what
            # matters, headers unfolded and the body byte for byte.
            a, b = crlf_to_lf(p.stdout), crlf_to_lf(sent)
            same = header_list(a, ()) == header_list(b, ()) and a.split(b"\n\n", 1)[1:] == b.split(b"\n\n", 1)[1:]
            if same:
                print("#   %s: quarantined original differs from the file only in header whitespace" % label)
        t.ok(same, "%s: quarantine export gives the original as sent" % label,
             p.stderr.decode(errors="replace") or _diff(crlf_to_lf(sent).decode("utf-8", "replace"),
                                                       crlf_to_lf(p.stdout).decode("utf-8", "replace"),
                                                       "sent", "quarantine export"))
        return rec

    def nothing_delivered(self, label, wait=1.5):
        got = self.new_sink_messages(wait, 1)
        self.t.ok(not got, "%s: nothing delivered" % label, "delivered: %s" % list(got))

    # ---- the run ----------------------------------------------------------

    def run(self):
        t = self.t
        p = self.mugai_run("check-config", "--config", self.conf)
        if not t.ok(p.returncode == 0, "test configuration is valid", p.stderr.decode(errors="replace")):
            return
        if not t.ok(self.milter.start(), "mugai-milter starts and listens on its unix socket",
                    self.milter.log_tail()):
            return
        st = os.stat(self.sock)
        import grp
        t.ok(st.st_gid == grp.getgrnam("postfix").gr_gid and st.st_mode & 0o060 == 0o060
             and st.st_mode & 0o007 == 0, "socket: group postfix may connect, others may not",
             "mode %o gid %d" % (st.st_mode & 0o777, st.st_gid))
        self.sink = Sink(os.path.join(self.tmp, "sink")).start()
        self.pf = pfinstance.Instance(os.path.join(self.tmp, "postfix"), pfinstance.free_port(), self.sink.port,
                                      milter="unix:" + self.sock, release_unix=True,
                                      name="postfix-mugai-e2e", release_refuse=[REFUSED])
        try:
            self.pf.start()
        except RuntimeError as e:
            t.ok(False, "private Postfix instance starts", str(e))
            return
        t.ok(True, "private Postfix instance starts on 127.0.0.1:%d with smtpd_milters = unix:%s"
             % (self.pf.port, self.sock))

        self.golden()
        self.size_limit()
        self.fault_milter_killed()
        self.fault_quarantine()
        self.fault_disk_full()
        self.review()
        self.final_checks()

    def golden(self):
        t = self.t
        names = golden_names()
        sent = {}
        for name in names:
            code, text, out = swaks(self.pf.port, os.path.join(GOLDEN, name + ".eml"))
            qid = queued_as(text)
            if t.ok(code == 250 and qid, "%s: accepted by Postfix with the milter (%s)" % (name, text[:60]),
                    out):
                sent[qid] = name
        got = self.new_sink_messages(30, len(sent))
        for qid, name in sent.items():
            raw = got.get(qid)
            if not t.ok(raw is not None, "%s: delivered to the sink (queue ID %s)" % (name, qid)):
                continue
            self.check_sanitized(name, raw, os.path.join(GOLDEN, name + ".eml"), qid)
        if sent:
            t.ok(self.pf.queue_id_for("<attach@example.co.jp>") in sent or "attachment-rfc2231-split" not in names,
                 "the maillog's cleanup line has the same queue ID as the audit line")

    def size_limit(self):
        t = self.t
        path = os.path.join(self.tmp, "big.eml")
        with open(path, "wb") as f:
            f.write(big_message())
        n0 = len(audit_records(self.audit))
        code, text, out = swaks(self.pf.port, path)
        t.ok(500 <= code < 600, "message over [limits] message_size: %d at the end of DATA (%s)" % (code, text[:70]),
             out)
        self.nothing_delivered("over the size limit")
        recs = audit_records(self.audit)[n0:]
        t.ok(any(r.get("verdict") == "rejected" for r in recs), "the rejection is in the audit log",
             json.dumps(recs, ensure_ascii=False)[:500])

    def fault_milter_killed(self):
        t = self.t
        src = os.path.join(GOLDEN, "forwarded.eml")
        raw = open(src, "rb").read()
        lines = crlf_to_lf(raw).split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        wire = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
        half = len(wire) // 2
        code = 0
        try:
            c = smtplib.SMTP("127.0.0.1", self.pf.port, local_hostname="client.example.net", timeout=60)
            c.ehlo()
            c.mail(ENV_FROM)
            c.rcpt(ENV_TO)
            c.putcmd("data")
            c.getreply()
            c.send(wire[:half])
            time.sleep(0.3)
            self.milter.kill()            # Postfix is holding this message
            c.send(wire[half:] + b".\r\n")
            code, msg = c.getreply()
            try:
                c.quit()
            except (smtplib.SMTPException, OSError):
                pass
        except (smtplib.SMTPException, OSError) as e:
            msg = repr(e)
        t.ok(400 <= code < 500, "milter killed in the middle of a message: the client gets %d (%s)"
             % (code, str(msg)[:70]))
        self.nothing_delivered("milter killed")

        code, text, out = swaks(self.pf.port, src)
        t.ok(400 <= code < 500, "milter down: the client gets %d (%s)" % (code, text[:70]), out)
        self.nothing_delivered("milter down")
        t.ok(self.pf.queue_count() == 0, "milter down: nothing waits in Postfix's queue either")

        if not t.ok(self.milter.start(), "mugai-milter starts again (stale socket replaced)", self.milter.log_tail()):
            return
        for label in ("after the crash", "after the outage"):
            code, text, out = swaks(self.pf.port, src)
            qid = queued_as(text)
            if t.ok(code == 250 and qid, "%s: sent again, accepted" % label, out):
                got = self.new_sink_messages(20, 1)
                if t.ok(qid in got, "%s: delivered" % label, "got %s" % list(got)):
                    self.check_sanitized("forwarded " + label, got[qid], src, qid)

    def fault_quarantine(self):
        t = self.t
        src = os.path.join(GOLDEN, "attachment-rfc2231-split.eml")
        pid = self.milter.proc.pid if self.milter.proc else None
        saved = self.qdir + ".saved"
        os.rename(self.qdir, saved)
        with open(self.qdir, "w") as f:         # a regular file where the directory was
            f.write("not a directory\n")
        try:
            n0 = len(audit_records(self.audit))
            code, text, out = swaks(self.pf.port, src)
            t.ok(400 <= code < 500, "quarantine unusable: the client gets %d (%s)" % (code, text[:70]), out)
            self.nothing_delivered("quarantine unusable")
            recs = audit_records(self.audit)[n0:]
            t.ok(any(r.get("verdict") == "tempfail" for r in recs), "quarantine unusable: tempfail in the audit log",
                 json.dumps(recs, ensure_ascii=False)[:500])
        finally:
            os.unlink(self.qdir)
            os.rename(saved, self.qdir)
        t.ok(self.milter.alive() and self.milter.proc.pid == pid, "the milter kept running through the fault",
             self.milter.log_tail())
        code, text, out = swaks(self.pf.port, src)
        qid = queued_as(text)
        if t.ok(code == 250 and qid, "quarantine fixed: sent again, accepted", out):
            got = self.new_sink_messages(20, 1)
            if t.ok(qid in got, "quarantine fixed: delivered", "got %s" % list(got)):
                self.check_sanitized("attachment after the quarantine fault", got[qid], src, qid)

    def fault_disk_full(self):
        """The quarantine's file system full: a small tmpfs mounted over the
        quarantine directory and filled up, then space freed."""
        t = self.t
        src = os.path.join(GOLDEN, "bidi-filename.eml")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "mugai-e2e", self.qdir],
                           capture_output=True, timeout=30)
        if p.returncode != 0:
            t.ok(True, "quarantine file system full # SKIP cannot mount a tmpfs here: %s"
                 % p.stderr.decode(errors="replace").strip())
            return
        self.mounted = self.qdir
        fill = os.path.join(self.qdir, ".fill")
        fd = os.open(fill, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass            # ENOSPC: full
        finally:
            os.close(fd)
        n0 = len(audit_records(self.audit))
        code, text, out = swaks(self.pf.port, src)
        t.ok(400 <= code < 500, "quarantine file system full: the client gets %d (%s)" % (code, text[:70]), out)
        self.nothing_delivered("quarantine file system full")
        recs = audit_records(self.audit)[n0:]
        t.ok(any(r.get("verdict") == "tempfail" for r in recs), "file system full: tempfail in the audit log",
             json.dumps(recs, ensure_ascii=False)[:500])
        os.unlink(fill)
        code, text, out = swaks(self.pf.port, src)
        qid = queued_as(text)
        if t.ok(code == 250 and qid, "space freed: sent again, accepted", out):
            got = self.new_sink_messages(20, 1)
            if t.ok(qid in got, "space freed: delivered", "got %s" % list(got)):
                self.check_sanitized("bidi-filename after the full disk", got[qid], src, qid)
        self.unmount()

    def unmount(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.mounted], capture_output=True, timeout=30)
            self.mounted = None

    # ---- the administrator's review loop ----------------------------------

    def q(self, *args, conf=None, sudo=None):
        """`mugai quarantine ARGS` as an administrator (SUDO_USER=SUDO)."""
        env = dict(os.environ, LANG="C", TZ="UTC", COLUMNS="200")
        env.pop("LC_ALL", None)
        env.pop("SUDO_USER", None)
        if sudo:
            env["SUDO_USER"] = sudo
        return subprocess.run([self.mugai, "quarantine"] + list(args) + ["--config", conf or self.rconf],
                              capture_output=True, env=env, timeout=120)

    def message_records(self):
        """The milter's records (one per message; administrator records have an "event")."""
        return [r for r in audit_records(self.audit) if "event" not in r]

    def released_copy(self, label, qid, sudo, eml):
        """Wait for the released copy of QID at the sink and check it is the
        original, byte for byte, after Postfix's Received header and ours."""
        t = self.t
        got = self.new_sink_messages(20, 1)
        self.released.update(got)
        if not t.ok(len(got) == 1, "%s: the released original reaches the sink" % label, list(got)):
            return
        raw = next(iter(got.values()))
        at = raw.find(b"\r\nX-Mugai-Released: ")
        head = raw[:at + 2]
        m = re.match(rb"X-Mugai-Released: by=%s; at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z; id=%s\r\n"
                     % (sudo.encode(), qid.encode()), raw[at + 2:])
        wire = re.sub(rb"(?<!\r)\n", b"\r\n", eml)
        if not wire.endswith(b"\r\n"):
            wire += b"\r\n"
        t.ok(at > 0 and re.fullmatch(rb"(Received: [^\r]*\r\n(?:[ \t][^\r]*\r\n)*)+", head) is not None,
             "%s: only Postfix's Received header before ours" % label, head[:400])
        t.ok(m is not None and raw[at + 2 + m.end():] == wire,
             "%s: X-Mugai-Released: by=%s; at=TIME; id=ID, then the original byte for byte" % (label, sudo),
             _diff(wire.decode("utf-8", "replace"), raw[at + 2:].decode("utf-8", "replace"), "original", "released"))
        t.ok(b"X-Mugai-Status" not in raw.split(b"\r\n\r\n")[0], "%s: not sanitized again (no X-Mugai-Status)" % label)

    def admin_records(self, n0):
        """The administrators' records from the N0th on, times and the
        configuration they name checked and left out."""
        recs = []
        for r in audit_records(self.admin_log)[n0:]:
            r = dict(r)
            r["ts"] = "TS"
            if r.get("config") in self.conf_sha and r.get("config_sha256") == self.conf_sha[r["config"]]:
                del r["config"], r["config_sha256"]
            if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r.get("expires") or ""):
                r["expires"] = "EXPIRES"
            if r.get("smtp_reply"):
                r["smtp_reply"] = re.sub(r"queued as [0-9A-Za-z]+", "queued as QUEUEID", r["smtp_reply"])
            recs.append(r)
        return recs

    def review(self):
        """A message with attachments goes in; an administrator finds it, looks
        at it, releases it; a suspect one needs --force and, with
        release_approvals = 2, a second person; refusals change nothing;
        purge takes only what is old.  Every act is in the audit log."""
        t = self.t
        base = open(self.conf, encoding="utf-8").read()
        self.admin_log = os.path.join(self.tmp, "log", "admin.log")
        self.conf_sha = {}
        self.rconf = os.path.join(self.tmp, "release.conf")
        rconf2 = os.path.join(self.tmp, "release2.conf")
        down = os.path.join(self.tmp, "down.conf")
        for path, extra in ((self.rconf, "[release]\nsmtp = unix:%s\n" % self.pf.release_socket),
                            (rconf2, "[release]\nsmtp = unix:%s\n[quarantine]\nrelease_approvals = 2\n"
                             % self.pf.release_socket),
                            (down, "[release]\nsmtp = unix:%s\n" % os.path.join(self.tmp, "no-such.sock"))):
            with open(path, "w", encoding="utf-8") as f:
                f.write(base + extra)
            self.conf_sha[path] = hashlib.sha256((base + extra).encode()).hexdigest()

        # the release smtpd is root's alone: an unprivileged account cannot even connect
        probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                                "import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
                                "try:\n s.connect(sys.argv[1]); print('connected')\n"
                                "except OSError as e:\n print(e.errno)", self.pf.release_socket],
                               capture_output=True, timeout=30)
        t.ok(probe.stdout.strip() == b"13", "release smtpd: user nobody cannot connect to its socket (EACCES)",
             probe.stdout + probe.stderr)

        code, text, out = swaks(self.pf.port, review_message())
        pq = queued_as(text)
        if not t.ok(code == 250 and pq, "review: a message with attachments is accepted", out):
            return
        got = self.new_sink_messages(20, 1)
        recs = self.audit_by_id().get(pq, [])
        if not t.ok(pq in got and len(recs) == 1 and recs[0].get("quarantine_id"),
                    "review: delivered sanitized, its original quarantined", recs):
            return
        qid = recs[0]["quarantine_id"]
        eml = open(os.path.join(self.qdir, qid + ".eml"), "rb").read()

        p = self.q("list", "--subject", "E2E review")
        lines = p.stdout.decode().splitlines()
        t.ok(p.returncode == 0 and len(lines) == 2 and lines[1].startswith(qid + "  ")
             and " sanitized " in lines[1] and lines[1].endswith("[E2E review] 見積書と添付ファイル"),
             "list --subject: the entry, with its decoded Japanese subject", p.stdout.decode())
        p = self.q("list", "--json", "--from", ENV_FROM, "--since", qid[:4] + "-" + qid[4:6] + "-" + qid[6:8])
        entries = json.loads(p.stdout) if p.returncode == 0 else []
        mine = [x for x in entries if x["id"] == qid]
        t.ok(len(mine) == 1 and mine[0]["record_id"] == pq and mine[0]["rcpt"] == [ENV_TO]
             and mine[0]["sha256"] == hashlib.sha256(eml).hexdigest()
             and [x["id"] for x in entries] == sorted((x["id"] for x in entries), reverse=True),
             "list --json --from --since: the entry with its queue ID, envelope and SHA-256; newest first")
        p = self.q("show", qid)
        shown = p.stdout.decode()
        body = decoded_body(got[pq])
        t.ok(p.returncode == 0 and "\nEnvelope from:    %s\n" % ENV_FROM in shown
             and "\nRecipients:       %s\n" % ENV_TO in shown and "\nClient:           127.0.0.1\n" in shown
             and "\nPart 2: removed\n" in shown and "  Filename:       見積書.pdf\n" in shown,
             "show: envelope, client, parts", shown[:1500])
        t.ok(QID_RE.sub("QID", shown.split("--- Text the recipient received ---\n", 1)[-1]) == body,
             "show: the text the recipient received is what reached the sink",
             _diff(body, shown.split("--- Text the recipient received ---\n", 1)[-1]))

        # release: original + header, past the milter
        n0, m0 = len(audit_records(self.admin_log)), len(self.message_records())
        p = self.q("release", qid, "--reason", "the staff member needs the PDF", sudo="alice")
        t.ok(p.returncode == 0 and re.fullmatch(r"%s: released to %s: 250 2\.0\.0 Ok: queued as [0-9A-Z]+\n"
                                                % (qid, re.escape(ENV_TO)), p.stdout.decode()),
             "release: exit 0, Postfix's 250 reported", p.stdout + p.stderr)
        self.released_copy("release", qid, "alice", eml)
        t.ok(len(self.message_records()) == m0, "release: the milter saw nothing (no new message record)")
        user = __import__("pwd").getpwuid(os.getuid()).pw_name
        want = [{"ts": "TS", "event": "release", "user": user, "sudo_user": "alice", "quarantine_id": qid,
                 "reason": "the staff member needs the PDF", "from": ENV_FROM, "to": [ENV_TO], "force": False,
                 "approvals": [], "smtp_reply": "250 2.0.0 Ok: queued as QUEUEID", "result": "ok", "error": None}]
        t.ok(self.admin_records(n0) == want, "release: its audit record",
             json.dumps(self.admin_records(n0), ensure_ascii=False, indent=1))

        # refused by the release smtpd, and the smtpd down: nothing changes
        state = os.path.join(self.tmp, "review", qid + ".json")
        before = open(state, "rb").read()
        n0 = len(audit_records(self.admin_log))
        p = self.q("release", qid, "--reason", "to an address Postfix refuses", "--to", REFUSED)
        reply = ("554 5.7.1 <%s>: Recipient address rejected: release refused by the test" % REFUSED)
        t.ok(p.returncode == 1 and p.stderr.decode() ==
             "mugai: quarantine: %s: the SMTP server refused the release: %s\n" % (qid, reply),
             "release refused by Postfix: exit 1 with Postfix's exact reply", p.stderr)
        p2 = self.q("release", qid, "--reason", "smtpd down", conf=down)
        t.ok(p2.returncode == 75 and b"release failed, nothing sent (try again later)" in p2.stderr,
             "release while the smtpd is down: exit 75", p2.stderr)
        self.nothing_delivered("refused releases")
        t.ok(open(state, "rb").read() == before, "refused releases: the entry's state unchanged")
        recs = self.admin_records(n0)
        t.ok([(r["event"], r["result"], r["smtp_reply"], r["to"]) for r in recs] ==
             [("release", "refused", reply, [REFUSED]), ("release", "failed", None, [ENV_TO])],
             "refused releases: recorded as refused and failed", json.dumps(recs, indent=1))

        # a suspect entry: --force, then two people
        sus = [r for r in self.message_records() if r.get("verdict") == "suspect" and r.get("quarantine_id")
               and os.path.exists(os.path.join(self.qdir, r["quarantine_id"] + ".json"))]
        if not t.ok(sus, "a suspect entry from the golden mail is in the quarantine"):
            return
        sq = sus[0]["quarantine_id"]
        seml = open(os.path.join(self.qdir, sq + ".eml"), "rb").read()
        n0 = len(audit_records(self.admin_log))
        p = self.q("release", sq, "--reason", "asked for", sudo="alice")
        t.ok(p.returncode == 1 and b"releasing it needs --force" in p.stderr, "suspect without --force: refused")
        p = self.q("release", sq, "--reason", "asked for", "--force", sudo="alice", conf=rconf2)
        t.ok(p.returncode == 1 and b"needs 2 administrators" in p.stderr,
             "suspect with release_approvals = 2: refused until a second person approves")
        self.nothing_delivered("suspect before approval", wait=0.5)
        p = self.q("approve", sq, "--reason", "checked the file", sudo="bob", conf=rconf2)
        t.ok(p.returncode == 0, "bob approves", p.stderr)
        p = self.q("release", sq, "--reason", "asked for", "--force", sudo="alice", conf=rconf2)
        t.ok(p.returncode == 0, "alice releases it with bob's approval", p.stderr)
        self.released_copy("suspect release", sq, "alice", seml)
        recs = self.admin_records(n0)
        common = {"ts": "TS", "user": user, "quarantine_id": sq}
        rel = dict(common, event="release", sudo_user="alice", reason="asked for",
                   to=sus[0]["rcpt"], approvals=[], smtp_reply=None, result="denied")
        rel["from"] = sus[0]["from"]
        want = [dict(rel, force=False, error="needs --force"),
                dict(rel, force=True, error="needs 2 administrators, has 1"),
                dict(common, event="approve", sudo_user="bob", reason="checked the file", to=sus[0]["rcpt"],
                     expires="EXPIRES", result="ok", error=None),
                dict(rel, force=True, approvals=["bob"], smtp_reply="250 2.0.0 Ok: queued as QUEUEID",
                     result="ok", error=None)]
        t.ok(recs == want, "suspect release: every act's audit record", json.dumps(recs, ensure_ascii=False, indent=1))

        # purge: only what is older than the limit (the ID says how old)
        old = "20200101-000000000-AAAAAAAAAA"
        for ext in (".eml", ".json"):
            shutil.copy(os.path.join(self.qdir, qid + ext), os.path.join(self.qdir, old + ext))
        n_before = len([n for n in os.listdir(self.qdir) if n.endswith(".json") and QID_RE.fullmatch(n[:-5])])
        n0 = len(audit_records(self.admin_log))
        p = self.q("purge", "--older-than", "30", "--reason", "retention")
        left = [n[:-5] for n in os.listdir(self.qdir) if n.endswith(".json") and QID_RE.fullmatch(n[:-5])]
        t.ok(p.returncode == 0 and old not in left and len(left) == n_before - 1 and qid in left,
             "purge --older-than 30: the old entry only", p.stdout + p.stderr)
        recs = self.admin_records(n0)
        t.ok(len(recs) == 1 and recs[0]["event"] == "purge" and recs[0]["quarantine_ids"] == [old]
             and recs[0]["reason"] == "retention" and recs[0]["result"] == "ok", "purge: its audit record", recs)

    def final_checks(self):
        t = self.t
        t.ok(self.pf.wait_empty(20), "Postfix's queue is empty at the end")
        bad, n = [], 0
        for name in sorted(self.sink.messages()):
            raw, _ = self.sink.read(name)
            if queue_id_of(raw) in self.released:
                continue
            n += 1
            prob = output_problems(crlf_to_lf(raw))
            if prob:
                bad.append("%s: %s" % (name, prob))
        t.ok(n > 0 and not bad, "all %d messages that reached the sink (the released one aside) are sanitized" % n,
             "\n".join(bad))
        t.ok(self.milter.alive(), "mugai-milter still running at the end", self.milter.log_tail())

    def cleanup(self, keep):
        self.unmount()
        if self.pf:
            self.pf.stop()
        self.milter.stop()
        if self.sink:
            self.sink.stop()
        pfinstance.reap_orphans(3)
        if keep:
            print("# kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _diff(a, b, la="mugai sanitize", lb="via Postfix"):
    import difflib
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), la, lb))


def main():
    if len(sys.argv) < 2:
        print("usage: postfix_e2e.py MUGAI [MUGAI_MILTER]", file=sys.stderr)
        return 2
    mugai = os.path.abspath(sys.argv[1])
    milter_bin = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else \
        os.path.join(os.path.dirname(mugai), "milter", "mugai-milter")
    why = pfinstance.available()
    if why:
        skip(why)
    if not shutil.which("swaks"):
        skip("swaks missing (apt-get install swaks)")
    if not os.access(milter_bin, os.X_OK):
        skip("%s not built yet" % milter_bin)
    pfinstance.become_subreaper()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # meson's time-out: clean up first
    t = Tap()
    run = E2E(t, mugai, milter_bin)
    t0 = time.monotonic()
    try:
        run.run()
    except Exception as e:  # noqa: BLE001 - report, clean up, fail
        import traceback
        t.ok(False, "no exception in the test driver", traceback.format_exc())
        del e
    finally:
        run.cleanup(keep=bool(os.environ.get("MUGAI_E2E_KEEP")) or t.failed > 0)
    print("# %.1f s" % (time.monotonic() - t0))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
