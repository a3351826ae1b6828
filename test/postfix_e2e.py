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
  * a quarantined original re-injected through the release smtpd arrives
    unchanged (no milter there);
  * at the end: nothing reached the sink unsanitized, Postfix's queue is empty.

Usage: postfix_e2e.py MUGAI [MUGAI_MILTER]   (prints TAP; the milter defaults
to milter/mugai-milter beside MUGAI).  Skips (1..0 # SKIP) when not root,
without Postfix or swaks, or before the milter is built.  Bounded: every
wait has a deadline and everything started is stopped, also on failure or
SIGTERM.  MUGAI_E2E_KEEP=1 keeps the temporary directory.
"""
import base64
import email
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


def write_config(tmp, sock):
    base = open(BASECONF, encoding="utf-8").read()
    conf = os.path.join(tmp, "mugai.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(base.rstrip("\n") + "\n")
        f.write("""
[milter]
socket = unix:{sock}
user = ""
group = postfix
workers = 2
message_timeout = 60
spool_dir = {tmp}/spool
[limits]
message_size = {size}
[quarantine]
dir = {tmp}/q
[audit]
log = {tmp}/audit.log
""".format(sock=sock, tmp=tmp, size=SIZE_LIMIT))
    return conf


class E2E:
    def __init__(self, t, mugai, milter_bin):
        self.t = t
        self.mugai = mugai
        self.milter_bin = milter_bin
        self.tmp = tempfile.mkdtemp(prefix="mugai-e2e-")
        os.chmod(self.tmp, 0o755)
        for d in ("spool", "sock", "sink", "cli-q"):
            os.makedirs(os.path.join(self.tmp, d))
        os.chmod(os.path.join(self.tmp, "sock"), 0o755)
        self.sock = os.path.join(self.tmp, "sock", "mugai.sock")
        self.conf = write_config(self.tmp, self.sock)
        self.qdir = os.path.join(self.tmp, "q")
        self.audit = os.path.join(self.tmp, "audit.log")
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
                                      milter="unix:" + self.sock, release_port=pfinstance.free_port(),
                                      name="postfix-mugai-e2e")
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
        self.release()
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

    def release(self):
        """The release path of packaging/postfix-master.cf: no milter, original delivered."""
        t = self.t
        recs = [r for r in audit_records(self.audit) if r.get("quarantine_id") and r.get("verdict") != "tempfail"]
        if not recs:
            return
        rec = recs[0]
        p = self.mugai_run("quarantine", "export", "--config", self.conf, "--quarantine-dir", self.qdir,
                           rec["quarantine_id"])
        if not t.ok(p.returncode == 0, "export a quarantined original for release"):
            return
        n0 = len(audit_records(self.audit))
        try:
            with smtplib.SMTP("127.0.0.1", self.pf.release_port, local_hostname="localhost", timeout=60) as c:
                refused = c.sendmail(ENV_FROM, [ENV_TO], crlf_to_lf(p.stdout).replace(b"\n", b"\r\n"))
            ok = not refused
        except (smtplib.SMTPException, OSError) as e:
            ok = False
            print("#   release: %r" % e)
        t.ok(ok, "release smtpd (no milter) accepts the original")
        got = self.new_sink_messages(20, 1)
        self.released.update(got)
        raw = next(iter(got.values()), b"")
        body = crlf_to_lf(raw).split(b"\n\n", 1)[1:] == crlf_to_lf(p.stdout).split(b"\n\n", 1)[1:]
        t.ok(len(got) == 1 and body and b"X-Mugai-Status" not in raw.split(b"\r\n\r\n")[0],
             "released original arrives unchanged, not sanitized again")
        t.ok(len(audit_records(self.audit)) == n0, "the milter did not see the released message")

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
