#!/usr/bin/env python3
"""mugai-milter over the real milter protocol, with Debian's miltertest.

Starts the daemon in the foreground on a unix socket in a temp dir (its log
goes to stderr with LOG_PERROR), runs the Lua scripts in test/milter/
against it and checks what the scripts cannot see: the one log line per
message, the audit record, the quarantined original.  The expected body of
a delivered message is what `mugai sanitize` gives for the same bytes.

Fault tests use the worker's test hook: MUGAI_TEST_FAULT names a file, and
the worker that takes the next job acts on what the file says (crash, hang,
garbage).  MUGAI_TEST_BODY_CHUNK keeps every end-of-message request under
the 1024 bytes Debian's miltertest can read.

Usage: milter.py MUGAI-MILTER MUGAI
"""
import email
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "postfix"))
from milterproc import accepts  # noqa: E402
from tapcommon import SRC, Tap, audit_records, run  # noqa: E402

HERE = os.path.join(SRC, "test", "milter")
DATA = os.path.join(HERE, "data")
GOLDEN = os.path.join(SRC, "test", "golden")
CHUNK = 1024
QID_RE = re.compile(r"id=(\d{8}-\d{9}-[0-9A-Z]{10})")

CONF = """\
[milter]
socket = unix:{dir}/run/mugai.sock
user = ""
allow_root = yes
group = ""
workers = 2
message_timeout = {timeout}
spool_memory = 4K
spool_dir = {dir}/spool
drain_timeout = 10
[limits]
message_size = 64K
[sanitize]
notice_contact = 情報政策課（内線 1234）
notice_contact_en = the IT policy division (ext. 1234)
{sanitize}
[quarantine]
dir = {dir}/q
[audit]
log = {dir}/log/audit.log
"""


class Milter:
    """One mugai-milter process with its own config, socket and stores."""

    def __init__(self, exe, tmp, name, timeout=60):
        self.exe = exe
        self.dir = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.dir, "spool"))
        os.makedirs(os.path.join(self.dir, "log"))   # apart: workers may not see the logs, but use the spool
        self.sock = os.path.join(self.dir, "run", "mugai.sock")
        self.qdir = os.path.join(self.dir, "q")
        self.audit = os.path.join(self.dir, "log", "audit.log")
        self.fault = os.path.join(self.dir, "fault")
        self.conf = os.path.join(self.dir, "mugai.conf")
        self.logfile = os.path.join(self.dir, "milter.log")
        self.timeout = timeout
        self.write_conf("")
        self.proc = None

    def write_conf(self, sanitize_extra):
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(CONF.format(dir=self.dir, timeout=self.timeout, sanitize=sanitize_extra))

    def start(self, journal=False, env=None, wait=True):
        """JOURNAL: stderr (the log file) announced as systemd's journal
        stream, as under the unit; the milter then logs to syslog only, and
        readiness is the socket accepting, not the "started on" line.
        ENV: more environment; WAIT=False: return once started."""
        env = dict(os.environ, MUGAI_TEST_FAULT=self.fault, MUGAI_TEST_BODY_CHUNK=str(CHUNK), **(env or {}))
        log = open(self.logfile, "w")
        st = os.fstat(log.fileno())
        # a stream that is not stderr must not silence it
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino + (0 if journal else 1))
        self.proc = subprocess.Popen([self.exe, "-f", "-c", self.conf], stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + (60 if wait else 0)
        while time.monotonic() < deadline and self.proc.poll() is None:
            if accepts(self.sock) if journal else "started on" in self.log():
                return True
            time.sleep(0.05)
        return False

    def log(self):
        with open(self.logfile, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, needle, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if needle in self.log():
                return True
            time.sleep(0.05)
        return False

    def lines(self, qid):
        """The per-message lines of QID (Postfix style: 'QID: mugai: ...')."""
        return [l for l in self.log().splitlines() if re.search(r"\]: %s: mugai: verdict=" % re.escape(qid), l)]

    def arm(self, fault):
        with open(self.fault, "w") as f:
            f.write(fault + "\n")

    def worker_pids(self):
        return [int(p) for p in re.findall(r"worker (\d+) started", self.log())]

    def children(self):
        """The live worker processes (children of any of the milter's threads)."""
        pids = set()
        for tid in os.listdir("/proc/%d/task" % self.proc.pid):
            try:
                with open("/proc/%d/task/%s/children" % (self.proc.pid, tid)) as f:
                    pids.update(int(p) for p in f.read().split())
            except OSError:
                pass
        return sorted(pids)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def miltertest(script, m, **defs):
    """Run test/milter/SCRIPT against M; returns (ok, output, seconds)."""
    args = ["miltertest", "-s", os.path.join(HERE, script), "-D", "sock=unix:" + m.sock, "-D", "srcdir=" + SRC]
    for k, v in defs.items():
        args += ["-D", "%s=%s" % (k, v)]
    p, secs = run(args, timeout=120)
    if p is None:
        return False, "miltertest timed out", secs
    out = (p.stdout + p.stderr).decode(errors="replace")
    return p.returncode == 0, out, secs


def as_received(path):
    """The message as the milter rebuilds it from what Postfix sends: CRLF lines."""
    with open(path, "rb") as f:
        return f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def expectation(mugai, m, tmp, path, qid):
    """What `mugai sanitize` makes of the same bytes: (template file with the
    decoded text and @QID@ for its quarantine ID, new Subject value or None)."""
    src = os.path.join(tmp, "input-%s.eml" % qid)
    with open(src, "wb") as f:
        f.write(as_received(path))
    p, _ = run([mugai, "sanitize", "--config", m.conf, "--quarantine-dir", os.path.join(tmp, "cli-q"),
                "--audit-log", os.path.join(tmp, "cli-audit.log"), "--id", qid, src])
    if p is None or p.returncode != 0:
        return None, None
    head = p.stdout.split(b"\n\n", 1)[0].decode()
    text = email.message_from_bytes(p.stdout).get_payload(decode=True)
    found = QID_RE.search(head)
    if found:
        text = text.replace(found.group(1).encode(), b"@QID@")
    template = os.path.join(tmp, "expect-%s.txt" % qid)
    with open(template, "wb") as f:
        f.write(text)
    subject = re.search(r"^Subject: (.*(?:\n[ \t].*)*)", head, re.M)
    with open(path, "rb") as f:
        original = re.search(rb"^Subject:[ \t]*(.*(?:\n[ \t].*)*)", f.read().split(b"\n\n", 1)[0], re.M)
    changed = subject and (not original or subject.group(1).encode() != original.group(1))
    return template, subject.group(1) if changed else None


def deliver(t, mugai, m, tmp, path, qid, verdict, deleted, desc, count=1):
    template, subject = expectation(mugai, m, tmp, path, qid)
    if not t.ok(template is not None, desc + ": `mugai sanitize` gives an output"):
        return False
    defs = dict(eml=path, qid=qid, template=template, chunk=CHUNK, verdict=verdict, deleted=deleted, count=count)
    if subject:
        defs["subject"] = subject
    ok, out, _ = miltertest("deliver.lua", m, **defs)
    return t.ok(ok, desc, out + m.log()[-3000:])


# Reply texts from the verdict table (sanitize/verdict.c), by reason.
TEXT = {
    "internal": "mail sanitizer internal error, try again later",
    "quarantine-failed": "mail sanitizer cannot store the original, try again later",
    "limit:message-size": "message too big for this gateway",
}


def refuse(t, m, path, qid, code, dsn, desc, reason="internal"):
    ok, out, secs = miltertest("refuse.lua", m, eml=path, qid=qid, code=code, dsn=dsn, text=TEXT[reason])
    t.ok(ok, desc, out + m.log()[-3000:])
    return secs


def one_line(t, m, qid, pattern, desc):
    lines = m.lines(qid)
    t.ok(len(lines) == 1 and re.search(pattern, lines[0]), desc, "\n".join(lines) or m.log()[-2000:])


def record(m, qid):
    recs = [r for r in audit_records(m.audit) if r.get("id") == qid]
    return recs[-1] if recs else {}


def big_message(tmp, kib):
    import base64
    blob = base64.encodebytes(os.urandom(kib * 1024 * 3 // 4)).decode()
    path = os.path.join(tmp, "big-%d.eml" % kib)
    with open(path, "w") as f:
        f.write("From: Sato <sato@example.co.jp>\nTo: tanaka@city.example.lg.jp\nSubject: big\n"
                "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nsee the file\n"
                "--b\nContent-Type: application/octet-stream; name=\"data.bin\"\n"
                "Content-Transfer-Encoding: base64\n\n" + blob + "--b--\n")
    return path


def main():
    milter, mugai = sys.argv[1], sys.argv[2]
    if not shutil.which("miltertest"):
        print("1..0 # SKIP miltertest is not installed")
        return 0
    t = Tap()
    attachment = os.path.join(DATA, "attachment.eml")
    clean = os.path.join(DATA, "clean.eml")
    with tempfile.TemporaryDirectory() as tmp:
        m = Milter(milter, tmp, "main")
        p, _ = run([milter, "-t", "-c", m.conf])
        t.ok(p.returncode == 0, "-t on a good configuration: exit 0")
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write("[milter]\nworkers = many\n")
        p, _ = run([milter, "-t", "-c", bad])
        t.ok(p.returncode == 2 and (bad + ":2: [milter] workers").encode() in p.stderr, "-t on a bad one: exit 2, FILE:LINE named")
        p, _ = run([milter, "-x"])
        t.ok(p.returncode == 2 and b"usage" in p.stderr, "unknown option: usage, exit 2")
        if os.geteuid() == 0:
            noroot = os.path.join(tmp, "noroot.conf")
            with open(m.conf) as f:
                text = f.read()
            with open(noroot, "w") as f:
                f.write(text.replace("allow_root = yes\n", ""))
            p, _ = run([milter, "-t", "-c", noroot])
            t.ok(p.returncode == 2 and p.stderr == b"mugai-milter: [milter] user is empty: the milter and its "
                 b"workers would run as root; name an account (user = mugai) or set allow_root = yes\n",
                 "user empty as root without allow_root: refused, exit 2", p.stderr)
            with open(noroot, "w") as f:
                f.write(text.replace('user = ""\n', "user = root\n").replace("allow_root = yes\n", ""))
            p, _ = run([milter, "-t", "-c", noroot])
            t.ok(p.returncode == 2 and b"[milter] user is root: the milter and its workers would run as root"
                 in p.stderr, "user = root without allow_root: refused, exit 2", p.stderr)
            with open(noroot, "w") as f:
                f.write(text.replace("socket = unix:", "socket = inet:10025\n#"))
            p, _ = run([milter, "-t", "-c", noroot])
            t.ok(p.returncode == 2 and b"[milter] socket: 'inet:10025' listens beyond loopback" in p.stderr,
                 "socket = inet:PORT (every interface): refused, exit 2", p.stderr)
            os.chmod(tmp, 0o777)
            p, _ = run([milter, "-t", "-c", m.conf])
            os.chmod(tmp, 0o700)
            t.ok(p.returncode == 2 and ("%s may be changed by group or others" % tmp).encode() in p.stderr,
                 "as root, a configuration in a directory others may write: refused, exit 2", p.stderr)
        else:
            for _ in range(4):
                t.ok(True, "root's configuration rules # SKIP not root")

        if not t.ok(m.start(), "starts and opens its socket", m.log()):
            print("Bail out! milter did not start")
            return 1
        mode = os.stat(m.sock).st_mode & 0o777
        t.ok(mode == 0o660, "socket mode is 0660 (got %o)" % mode)
        ok, out, _ = miltertest("negotiate.lua", m)
        t.ok(ok, "negotiation: CHGBODY required, no no-reply steps", out)

        # a sanitized message: every check the contract names
        qid = "4B1C2D3E4F"
        deliver(t, mugai, m, tmp, attachment, qid, "sanitized", "MIME-Version,Content-Type,X-Mugai-Status,X-Mugai-Released",
                "sanitized: MIME headers, forged X-Mugai-Status and X-Mugai-Released replaced, body as `mugai sanitize`")
        one_line(t, m, qid, r": %s: mugai: verdict=sanitized removed=1 quarantine=\d{8}-\d{9}-\w{10} size=\d+ elapsed=\d+ms$" % qid,
                 "sanitized: one log line, Postfix style, queue ID first")
        rec = record(m, qid)
        t.ok(rec.get("from") == "sato@example.co.jp" and rec.get("rcpt") == ["tanaka@city.example.lg.jp"]
             and rec.get("client") == "192.0.2.7" and rec.get("verdict") == "sanitized",
             "sanitized: audit record has the queue ID, envelope and client", json.dumps(rec))
        # an export is an administrator act: it needs an audit log to record it in
        p, _ = run([mugai, "quarantine", "export", "--quarantine-dir", m.qdir,
                    "--audit-log", os.path.join(m.dir, "admin-audit.log"), rec.get("quarantine_id", "none")])
        t.ok(p is not None and p.returncode == 0 and p.stdout == as_received(attachment),
             "sanitized: the quarantine holds the original exactly as received")

        qid = "5C2D3E4F5A"
        deliver(t, mugai, m, tmp, clean, qid, "clean", "MIME-Version,Content-Type,Content-Transfer-Encoding",
                "clean: delivered as the rebuilt text part")
        rec = record(m, qid)
        t.ok(rec.get("verdict") == "clean" and rec.get("quarantine_id") is None, "clean: audited, nothing quarantined")
        one_line(t, m, qid, r"verdict=clean removed=0 quarantine=- ", "clean: one log line")

        qid = "6C2D3E4F5B"
        ok, out, _ = miltertest("lonecr.lua", m, eml=os.path.join(DATA, "lonecr.eml"), qid=qid,
                                header="X-Note", value="hello Content-Type: text/html")
        t.ok(ok, "a lone CR hiding Content-Type in a kept header: that header changed, CR made a blank",
             out + m.log()[-2000:])
        one_line(t, m, qid, r"verdict=suspect ", "lone CR in a header: suspect (folded-header)")
        deliver(t, mugai, m, tmp, os.path.join(GOLDEN, "duplicate-content-type.eml"), "6D3E4F5A6B", "suspect",
                "MIME-Version/1,Content-Type/1,Content-Type/2", "duplicate Content-Type: both deleted by index, suspect")
        deliver(t, mugai, m, tmp, clean, "7E4F5A6B7C", "clean", "Content-Type", "two messages on one connection", count=2)
        t.ok(len(m.lines("7E4F5A6B7C")) == 1 and len(m.lines("7E4F5A6B7C2")) == 1, "two messages: one line each")
        big = big_message(tmp, 40)
        deliver(t, mugai, m, tmp, big, "8F5A6B7C8D", "sanitized", "Content-Type", "40 KiB message: spooled to a file, sanitized")

        qid = "9A6B7C8D9E"
        refuse(t, m, big_message(tmp, 100), qid, "552", "5.3.4", "message over [limits] message_size: 552 5.3.4",
               "limit:message-size")
        one_line(t, m, qid, r"verdict=rejected reason=limit:message-size ", "oversize: logged with its reason")

        # faults: each costs its message a 451 and the next one goes through
        for fault, reason in (("crash", "internal:worker-crashed"), ("garbage", "internal:worker-protocol")):
            qid = "F%s1" % fault.upper()[:3]
            m.arm(fault)
            refuse(t, m, attachment, qid, "451", "4.7.0", "worker %s: 451 4.7.0" % fault)
            one_line(t, m, qid, r"verdict=tempfail reason=%s " % reason, "worker %s: logged as %s" % (fault, reason))
            t.ok(record(m, qid).get("verdict") == "tempfail", "worker %s: audited as tempfail" % fault)
            deliver(t, mugai, m, tmp, attachment, qid + "N", "sanitized", "Content-Type", "after the %s: the next message is sanitized" % fault)

        # every worker killed while one is in the middle of a message
        m.arm("hang")
        args = ["miltertest", "-s", os.path.join(HERE, "refuse.lua"), "-D", "sock=unix:" + m.sock, "-D", "srcdir=" + SRC,
                "-D", "eml=" + attachment, "-D", "qid=FKILL1", "-D", "code=451", "-D", "dsn=4.7.0", "-D", "text=" + TEXT["internal"]]
        client = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and os.path.exists(m.fault):
            time.sleep(0.02)   # a worker took the job
        victims = m.children()
        started = len(m.worker_pids())
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        out = client.communicate(timeout=60)[0].decode(errors="replace")
        t.ok(client.returncode == 0 and len(victims) == 2, "workers killed mid-message: 451 4.7.0", out + m.log()[-1500:])
        one_line(t, m, "FKILL1", r"verdict=tempfail reason=internal:worker-crashed ", "workers killed: logged as crashed")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(m.worker_pids()) < started + 2:
            time.sleep(0.05)
        t.ok(len(m.worker_pids()) == started + 2 and not set(victims) & set(m.children()),
             "workers killed: busy and idle ones replaced", m.log()[-1500:])
        deliver(t, mugai, m, tmp, attachment, "FKILL2", "sanitized", "Content-Type", "after the kill: the next message is sanitized")

        qid = "AQUARANT1"
        aside = m.qdir + ".aside"
        os.rename(m.qdir, aside)
        with open(m.qdir, "w") as f:
            f.write("not a directory\n")
        refuse(t, m, attachment, qid, "451", "4.7.0", "quarantine not writable: 451 4.7.0", "quarantine-failed")
        one_line(t, m, qid, r"verdict=tempfail reason=quarantine-failed ", "quarantine not writable: logged")
        os.unlink(m.qdir)
        os.rename(aside, m.qdir)
        deliver(t, mugai, m, tmp, attachment, "AQUARANT2", "sanitized", "Content-Type", "quarantine back: sanitized again")

        qid = "ASPOOL1"
        os.rename(os.path.join(m.dir, "spool"), os.path.join(m.dir, "spool.aside"))
        refuse(t, m, big, qid, "451", "4.7.0", "spool directory missing: 451 for a message past spool_memory")
        one_line(t, m, qid, r"verdict=tempfail reason=internal:spool ", "spool failure: logged")
        os.rename(os.path.join(m.dir, "spool.aside"), os.path.join(m.dir, "spool"))

        # reload: new connections get the new configuration, a broken file is refused
        m.write_conf("subject_tag = [外部]")
        before = len(m.worker_pids())
        m.proc.send_signal(signal.SIGUSR1)
        t.ok(m.wait_log("(generation 2)"), "SIGUSR1: configuration reloaded")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(m.worker_pids()) < before + 2:
            time.sleep(0.05)
        t.ok(len(m.worker_pids()) == before + 2, "SIGUSR1: both idle workers replaced")
        deliver(t, mugai, m, tmp, attachment, "BRELOAD1", "sanitized", "Content-Type", "after reload: Subject tagged")
        with open(m.conf, "a") as f:
            f.write("[limits]\nparts = lots\n")
        m.proc.send_signal(signal.SIGUSR1)
        t.ok(m.wait_log("keeping the running configuration"), "broken configuration at reload: logged, kept")
        m.write_conf("subject_tag = [外部]")
        deliver(t, mugai, m, tmp, attachment, "BRELOAD2", "sanitized", "Content-Type", "after a failed reload: still tagged")

        # [milter] worker_messages: a worker is replaced after its share of jobs
        r = Milter(milter, tmp, "recycle")
        r.write_conf("[milter]\nworker_messages = 2")
        t.ok(r.start(), "milter with worker_messages = 2 starts", r.log())
        first = set(r.children())
        for k in range(5):
            deliver(t, mugai, r, tmp, clean, "ERECY%d" % k, "clean", "Content-Type",
                    "worker_messages = 2: message %d delivered" % (k + 1))
        now = set(r.children())
        started = r.worker_pids()
        t.ok(len(now) == 2 and now != first and len(started) >= 4,
             "worker_messages = 2: workers replaced, two running (%d started)" % len(started), r.log()[-2000:])
        t.ok(not re.search(r"killed|died", r.log()), "worker_messages = 2: retired, not killed", r.log()[-2000:])
        r.stop()

        # as under the unit: stderr is the journal, which has the syslog lines
        # already, and systemd (Type=notify) waits for READY=1 on NOTIFY_SOCKET
        j = Milter(milter, tmp, "journal")
        notify_path = os.path.join(j.dir, "notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(notify_path)
        ns.settimeout(60)
        j.start(journal=True, env={"NOTIFY_SOCKET": notify_path}, wait=False)
        try:
            note = ns.recv(4096).decode()
        except OSError as e:
            note = repr(e)
        t.ok("READY=1" in note.split("\n") and accepts(j.sock),
             "under systemd: READY=1 on NOTIFY_SOCKET, and by then the milter socket accepts", note + j.log())
        deliver(t, mugai, j, tmp, clean, "EJOURN1", "clean", "Content-Type", "stderr as the journal: message delivered")
        j.stop()
        try:
            note = ns.recv(4096).decode()
        except OSError as e:
            note = repr(e)
        ns.close()
        t.ok("STOPPING=1" in note.split("\n"), "under systemd: STOPPING=1 at SIGTERM", note)
        t.ok("mugai[" not in j.log(), "stderr as the journal: no line copied to it (syslog has them)", j.log()[-2000:])

        # [policy] on_suspect = discard: accepted, not delivered, original kept
        d = Milter(milter, tmp, "discard")
        d.write_conf("[policy]\non_suspect = discard")
        t.ok(d.start(), "milter with on_suspect = discard starts", d.log())
        qid = "DDISC1"
        ok, out, _ = miltertest("discard.lua", d, eml=os.path.join(GOLDEN, "text-is-exe.eml"), qid=qid)
        t.ok(ok, "suspect under on_suspect = discard: SMFIR_DISCARD, nothing changed", out + d.log()[-3000:])
        one_line(t, d, qid, r"verdict=discarded reason=policy:suspect-discarded removed=1 quarantine=\d{8}-", "discard: logged")
        rec = record(d, qid)
        p, _ = run([mugai, "quarantine", "export", "--quarantine-dir", d.qdir,
                    "--audit-log", os.path.join(d.dir, "admin-audit.log"), rec.get("quarantine_id") or "none"])
        t.ok(rec.get("verdict") == "discarded" and p is not None and p.returncode == 0 and
             p.stdout == as_received(os.path.join(GOLDEN, "text-is-exe.eml")),
             "discard: audited as discarded, the original in the quarantine", json.dumps(rec))
        d.stop()

        pids = m.worker_pids()
        rc = m.stop()
        t.ok(rc == 0, "SIGTERM: exit 0 (got %s)" % rc, m.log()[-2000:])
        t.ok(not os.path.exists(m.sock), "SIGTERM: socket removed")
        alive = [p for p in pids if os.path.exists("/proc/%d" % p) and "mugai" in open("/proc/%d/cmdline" % p).read()]
        t.ok(not alive, "SIGTERM: no worker left", alive)

        # a worker past its deadline: killed, 451, replaced
        h = Milter(milter, tmp, "hang", timeout=5)
        t.ok(h.start(), "milter with a 5 s message_timeout starts", h.log())
        h.arm("hang")
        secs = refuse(t, h, attachment, "CHANG1", "451", "4.7.0", "worker hangs: 451 4.7.0")
        t.ok(secs < 20, "worker hangs: answered within the deadline (%.1f s)" % secs)
        one_line(t, h, "CHANG1", r"verdict=tempfail reason=internal:worker-timeout ", "worker hangs: logged as timeout")
        deliver(t, mugai, h, tmp, clean, "CHANG2", "clean", "Content-Type", "after the hang: the next message goes through")

        # SIGTERM while a message is at end of data: it still gets its answer
        h.arm("hang")
        args = ["miltertest", "-s", os.path.join(HERE, "refuse.lua"), "-D", "sock=unix:" + h.sock, "-D", "srcdir=" + SRC,
                "-D", "eml=" + attachment, "-D", "qid=CHANG3", "-D", "code=451", "-D", "dsn=4.7.0", "-D", "text=" + TEXT["internal"]]
        client = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and os.path.exists(h.fault):
            time.sleep(0.02)   # a worker took the job
        t0 = time.monotonic()
        rc = h.stop()
        secs = time.monotonic() - t0
        out = client.communicate(timeout=60)[0].decode(errors="replace")
        t.ok(client.returncode == 0, "SIGTERM during a message: the message still gets its 451", out + h.log()[-1500:])
        t.ok(rc == 0 and secs < 15, "SIGTERM during a message: exit 0 once it is answered (%.1f s)" % secs)
        one_line(t, h, "CHANG3", r"verdict=tempfail reason=internal:worker-timeout ", "SIGTERM during a message: logged")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
