#!/usr/bin/env python3
"""Postfix alone against Postfix with mugai-milter: messages/s and CPU seconds
per 1,000 messages at concurrency 1, 4 and 16, in one run.  A benchmark, not
a test.  Root only; everything on 127.0.0.1.

    bench/postfix/bench.py [--root /var/tmp/mugai-bench] [--conc 1,4,16]
        [--corpus-size 200] [--count 1000] [--rounds 1] [--inet] [--no-milter]
        [--workers N] [--max-seconds 300] [--quiet-wait 60] [--milter PATH]

What runs (state under ROOT, outside the repository):
  * the corpus: bench/postfix/gen_corpus.py, 200 messages averaging ~420 KB,
    about half with 1-3 attachments (regenerated when missing; deterministic);
  * smtp-sink (Postfix's own, discards what it gets) on 127.0.0.1;
  * a private Postfix instance (test/postfix/pfinstance.py) relaying to it;
    its queue and mugai's quarantine are on the same file system (ROOT);
  * mugai-milter on a unix socket (and with --inet a second one on
    inet:PORT@127.0.0.1), [milter] workers = --workers (else mugai's default).
For each round, for each concurrency, each configuration in turn ("none",
"mugai", ["mugai-inet"]): smtpd_milters is set and Postfix reloaded, a
warm-up of max(10, 2C) messages is sent and drained (not measured), then
COUNT messages, corpus order, one per SMTP connection, over C parallel
sessions (after waiting, up to --quiet-wait seconds, for a machine at most
15 % busy: other tenants make the figures noisy; "other %" shows them).  The clock runs from the first connect until Postfix has delivered
the last accepted message to the sink (its log shows one "removed" per
message and the queue is empty).  Each run also has a fixed part (sessions
starting, the last messages' latency, Postfix draining what it queued
faster than it delivered), ~0.75 s on the VM these figures come from; it
weighs more on the faster configuration, so short runs read high: with 400
messages the ratio at concurrency 16 came out ~0.05 above the 1,200-message
runs of the same hour.  Hence the default of 1,000 messages a run.

Reported per run (a JSON line appended to ROOT/results.jsonl, and a table):
  msgs/s, MB/s          accepted messages (input bytes) / elapsed
  p50/p95 ms            MAIL FROM -> reply to the final dot, per message
  CPU s /1000 msgs      user+system CPU of the Postfix processes (the master
                        and all its children, those reaped included) and of
                        the milter with its workers, from /proc/PID/stat
                        before and after, divided by accepted messages
  whole machine /1k     all busy CPU of the machine (/proc/stat) per 1,000
                        messages: the above plus client, sink and kernel work
  other %               busy CPU of the machine not charged to those trees,
                        the sink or this client, as a share of all cores:
                        other tenants and kernel work (noise indicator)
With --rounds R the table shows the median of the R runs of each cell.
Then, per concurrency, the ratio mugai / none of messages/s and of CPU, and
with several rounds each round's own ratio (mugai against the none run just
before it) with their median: on a VM whose speed drifts, that median is the
figure to quote.
For mugai runs it also checks that one audit line was written per message
and that every changed message has its original in the quarantine.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "test", "postfix"))
sys.path.insert(0, HERE)
import gen_corpus  # noqa: E402
import pfinstance  # noqa: E402
from milterproc import Milter  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
SEED = 20261122


# ---------------------------------------------------------------- /proc

def proc_table():
    # f[1]=ppid, f[11..14] = utime stime cutime cstime
    return {pid: (int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]))
            for pid, f in pfinstance.proc_stats()}


def tree_cpu(table, roots):
    """CPU seconds of the live trees under ROOTS, plus what they reaped."""
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    seen = pfinstance.descendants(kids, [r for r in roots if r in table])
    return sum(table[p][1] + table[p][2] for p in seen) / CLK


def machine_cpu():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq) / CLK, (idle + iowait) / CLK


# ---------------------------------------------------------------- corpus

def load_corpus(d):
    out = []
    for name in sorted(f for f in os.listdir(d) if f.startswith("msg-") and f.endswith(".eml")):
        raw = open(os.path.join(d, name), "rb").read()
        lines = raw.replace(b"\r\n", b"\n").split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        wire = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"
        out.append((name, wire, len(raw), any(b > 127 for b in raw)))
    return out


def ensure_corpus(d, count):
    want = "%d %d " % (count, SEED)
    try:
        have = open(os.path.join(d, "DIGEST")).read()
    except OSError:
        have = ""
    if not have.startswith(want):
        shutil.rmtree(d, ignore_errors=True)
        gen_corpus.generate(d, count, SEED)
    else:
        print("corpus: %s (%s)" % (d, have.strip()))
    return load_corpus(d)


# ---------------------------------------------------------------- load

class LogTail:
    """Counts "removed" lines Postfix logs from now on."""

    def __init__(self, path):
        self.path = path
        self.pos = os.path.getsize(path) if os.path.exists(path) else 0
        self.removed = 0
        self.deferred = 0
        self.buf = b""

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return
        self.pos += len(data)
        lines = (self.buf + data).split(b"\n")
        self.buf = lines.pop()
        for l in lines:
            if l.endswith(b": removed"):
                self.removed += 1
            elif b"status=deferred" in l:
                self.deferred += 1


def send_all(port, corpus, count, conc, deadline):
    """COUNT messages over CONC sessions, one message per connection.
    Returns [(ok, code, bytes, seconds)]."""
    lock = threading.Lock()
    state = {"next": 0}
    res = []

    def worker():
        while True:
            with lock:
                i = state["next"]
                if i >= count or time.monotonic() > deadline:
                    return
                state["next"] += 1
            _, wire, size, eight = corpus[i % len(corpus)]
            code, t0 = 0, time.monotonic()
            try:
                c = smtplib.SMTP("127.0.0.1", port, local_hostname="client.bench.invalid", timeout=120)
                try:
                    c.ehlo()
                    t0 = time.monotonic()
                    code, _ = c.mail("bench@client.bench.invalid", ["BODY=8BITMIME"] if eight else [])
                    if code == 250:
                        code, _ = c.rcpt("staff@city.example.lg.jp")
                    if code == 250:
                        c.putcmd("data")
                        code, _ = c.getreply()
                        if code == 354:
                            c.send(wire)
                            code, _ = c.getreply()
                    c.quit()
                finally:
                    c.close()
            except (smtplib.SMTPException, OSError):
                pass
            with lock:
                res.append((code == 250, code, size, time.monotonic() - t0))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conc)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(max(1.0, deadline - time.monotonic() + 130))
    return res


def wait_drained(pf, tail, accepted, deadline):
    while time.monotonic() < deadline:
        tail.poll()
        if tail.removed >= accepted and pf.queue_count() == 0:
            return True
        time.sleep(0.01)
    return False


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# ---------------------------------------------------------------- bench

class Bench:
    def __init__(self, a):
        self.a = a
        self.root = os.path.abspath(a.root)
        self.run_dir = os.path.join(self.root, "run")
        self.qdir = os.path.join(self.root, "quarantine")
        self.audit = os.path.join(self.root, "log", "audit.log")   # apart from the spool, which workers use
        self.sink = None
        self.pf = None
        self.milters = {}       # label -> (Milter, postfix spec)

    def setup(self):
        a = self.a
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)
        self.purge_old()   # left by an interrupted run
        for d in (self.run_dir, self.qdir, os.path.join(self.root, "spool"), os.path.join(self.root, "log")):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.run_dir, 0o755)
        self.corpus = ensure_corpus(os.path.join(self.root, "corpus"), a.corpus_size)
        sink_port = pfinstance.free_port()
        self.sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", "-4",
                                      "127.0.0.1:%d" % sink_port, "256"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.root, "smtp-sink.log"), "ab"),
                                     start_new_session=True)
        if not pfinstance.wait_port(sink_port, 10):
            raise RuntimeError("smtp-sink did not start")
        if "mugai" in a.configs or "mugai-inet" in a.configs:
            sock = os.path.join(self.run_dir, "mugai.sock")
            self.start_milter("mugai", "unix:" + sock, sock, "unix:" + sock)
        if "mugai-inet" in a.configs:
            port = pfinstance.free_port()
            self.start_milter("mugai-inet", "inet:%d@127.0.0.1" % port, ("127.0.0.1", port),
                              "inet:127.0.0.1:%d" % port)
        self.pf = pfinstance.Instance(
            os.path.join(self.root, "postfix"), pfinstance.free_port(), sink_port,
            name="postfix-mugai-bench",
            settings={"smtp_connection_cache_destinations": "$relayhost",
                      "smtp_destination_concurrency_limit": "20"})
        self.pf.stop()      # a leftover from an interrupted run
        if os.path.isdir(self.pf.queue):
            subprocess.run(["/usr/sbin/postsuper", "-c", self.pf.conf, "-d", "ALL"],
                           capture_output=True, timeout=60)
        self.pf.start()

    def start_milter(self, label, spec, sock, pf_spec):
        conf = os.path.join(self.run_dir, label + ".conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[milter]\nsocket = %s\nuser = \"\"\nallow_root = yes\ngroup = postfix\n%s"
                    "spool_dir = %s\n[quarantine]\ndir = %s\n[audit]\nlog = %s\n"
                    % (spec, "workers = %d\n" % self.a.workers if self.a.workers else "",
                       os.path.join(self.root, "spool"), self.qdir, self.audit))
        m = Milter(self.a.milter, conf, sock, os.path.join(self.root, label + ".log"))
        if not m.start():
            raise RuntimeError("%s did not start:\n%s" % (label, m.log_tail()))
        self.milters[label] = (m, pf_spec)

    def teardown(self):
        if self.pf:
            self.pf.stop()
        for m, _ in self.milters.values():
            m.stop()
        if self.sink and self.sink.poll() is None:
            self.sink.terminate()
            try:
                self.sink.wait(10)
            except subprocess.TimeoutExpired:
                self.sink.kill()
        pfinstance.reap_orphans(3)

    def empty_quarantine(self):
        """Give the next run an empty quarantine by moving the entries aside;
        purge_old() deletes them once no run is measured.  On ext4 without a
        journal (the file system these figures come from) every new inode is
        first checked against the inodes freed in the last minute or more
        (recently_deleted in the kernel), so deleting hundreds of entries just
        before a run would bill that scan to the run, and only to mugai's."""
        old = os.path.join(self.root, "old-quarantine")
        os.makedirs(old, exist_ok=True)
        os.rename(self.qdir, os.path.join(old, "%d-%d" % (os.getpid(), len(os.listdir(old)))))
        os.makedirs(self.qdir)

    def purge_old(self):
        shutil.rmtree(os.path.join(self.root, "old-quarantine"), ignore_errors=True)

    def wait_quiet(self):
        """Wait (up to --quiet-wait s) until the machine is idle: at most 15 %
        of all cores busy over one second.  Returns the last busy share."""
        end = time.monotonic() + self.a.quiet_wait
        while True:
            b0 = machine_cpu()
            time.sleep(1.0)
            b1 = machine_cpu()
            tot = (b1[0] - b0[0]) + (b1[1] - b0[1])
            busy = (b1[0] - b0[0]) / tot if tot > 0 else 0.0
            if busy <= 0.15 or time.monotonic() >= end:
                return busy
            time.sleep(2.0)

    def one_run(self, label, conc):
        a = self.a
        milter, spec = self.milters.get(label, (None, ""))
        if self.pf.milter != spec:
            self.pf.set_milter(spec)
        # warm-up, not measured
        tail = LogTail(self.pf.maillog)
        warm = send_all(self.pf.port, self.corpus[::-1], max(10, 2 * conc), conc, time.monotonic() + 120)
        wait_drained(self.pf, tail, sum(1 for r in warm if r[0]), time.monotonic() + 120)
        self.empty_quarantine()
        n_audit0 = _lines(self.audit)
        pre_busy = self.wait_quiet()

        pf_pid = self.pf.master_pid()
        ml_pids = [milter.proc.pid] if milter else []
        tail = LogTail(self.pf.maillog)
        tab0, m0, c0 = proc_table(), machine_cpu(), os.times()
        t0 = time.monotonic()
        res = send_all(self.pf.port, self.corpus, a.count, conc, t0 + a.max_seconds)
        ok = [r for r in res if r[0]]
        drained = wait_drained(self.pf, tail, len(ok), t0 + a.max_seconds)
        el = time.monotonic() - t0
        tab1, m1, c1 = proc_table(), machine_cpu(), os.times()

        cpu_pf = tree_cpu(tab1, [pf_pid]) - tree_cpu(tab0, [pf_pid])
        cpu_ml = tree_cpu(tab1, ml_pids) - tree_cpu(tab0, ml_pids) if ml_pids else 0.0
        cpu_sink = tree_cpu(tab1, [self.sink.pid]) - tree_cpu(tab0, [self.sink.pid])
        cpu_client = (c1.user + c1.system) - (c0.user + c0.system)
        busy = m1[0] - m0[0]
        total = busy + (m1[1] - m0[1])
        n = len(ok)
        nbytes = sum(r[2] for r in ok)
        lat = [r[3] * 1000 for r in ok]
        fails = {}
        for r in res:
            if not r[0]:
                fails[str(r[1])] = fails.get(str(r[1]), 0) + 1
        out = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "label": label, "concurrency": conc, "count": a.count, "accepted": n,
            "failures": fails, "drained": drained, "deferred": tail.deferred,
            "input_mb": round(nbytes / 1e6, 2), "elapsed_s": round(el, 3),
            "msgs_s": round(n / el, 2), "mb_s": round(nbytes / 1e6 / el, 2),
            "lat_p50_ms": round(pct(lat, 50) or 0, 1), "lat_p95_ms": round(pct(lat, 95) or 0, 1),
            "cpu_postfix_s": round(cpu_pf, 2), "cpu_milter_s": round(cpu_ml, 2),
            "cpu_sink_s": round(cpu_sink, 2), "cpu_client_s": round(cpu_client, 2),
            "postfix_per_1000": round(cpu_pf / n * 1000, 2) if n else None,
            "milter_per_1000": round(cpu_ml / n * 1000, 2) if n else None,
            "machine_per_1000": round(busy / n * 1000, 2) if n else None,
            "other_pct": round(100 * (busy - cpu_pf - cpu_ml - cpu_sink - cpu_client) / total, 1) if total else None,
            "workers": (a.workers or "default") if milter else 0,
            "pre_run_busy": round(pre_busy, 3),
        }
        if milter:
            recs = _records(self.audit)[n_audit0:]
            changed = sum(1 for r in recs if r.get("verdict") not in ("clean", "tempfail", "rejected"))
            quarantined = sum(1 for f in os.listdir(self.qdir) if f.endswith(".eml"))
            out["audit_lines"] = len(recs)
            out["changed"] = changed
            out["quarantined"] = quarantined
            out["verdicts"] = _count(r.get("verdict") for r in recs)
        with open(os.path.join(self.root, "results.jsonl"), "a") as f:
            f.write(json.dumps(out) + "\n")
        extra = ""
        if milter:
            extra = ", audit %d, quarantined %d/%d changed" % (out["audit_lines"], out["quarantined"], out["changed"])
        print("  %-10s c=%-2d %3d/%d ok, %6.1f msgs/s, %5.1f MB/s, p50 %5.0f ms, CPU/1000: postfix %5.1f s"
              " milter %5.1f s, other %4.1f%%%s%s" % (
                  label, conc, n, a.count, out["msgs_s"], out["mb_s"], out["lat_p50_ms"],
                  out["postfix_per_1000"] or 0, out["milter_per_1000"] or 0, out["other_pct"] or 0, extra,
                  "" if drained and not fails else "  FAILURES %s drained=%s" % (fails, drained)), flush=True)
        return out

    def run(self):
        a = self.a
        results = []
        for r in range(a.rounds):
            print("round %d/%d" % (r + 1, a.rounds), flush=True)
            for c in a.conc:
                for label in a.configs:
                    results.append(self.one_run(label, c))
        self.empty_quarantine()
        self.purge_old()
        return results


def _lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def _records(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]
    except OSError:
        return []


def _count(it):
    d = {}
    for x in it:
        d[x] = d.get(x, 0) + 1
    return d


def summary(results, configs, concs):
    def med(label, c, key):
        v = [r[key] for r in results if r["label"] == label and r["concurrency"] == c
             and r[key] is not None and r["drained"] and not r["failures"]]
        return statistics.median(v) if v else None

    print()
    print("%-11s %4s %8s %6s %7s %7s %15s %14s %15s %16s" % (
        "config", "conc", "msgs/s", "MB/s", "p50 ms", "p95 ms", "postfix CPU/1k", "milter CPU/1k",
        "pf+milter /1k", "whole machine/1k"))
    for c in concs:
        for label in configs:
            m = med(label, c, "msgs_s")
            if m is None:
                print("%-11s %4d   (no complete run)" % (label, c))
                continue
            pf, ml = med(label, c, "postfix_per_1000"), med(label, c, "milter_per_1000")
            print("%-11s %4d %8.1f %6.1f %7.0f %7.0f %14.1fs %13.1fs %14.1fs %15.1fs" % (
                label, c, m, med(label, c, "mb_s"), med(label, c, "lat_p50_ms"), med(label, c, "lat_p95_ms"),
                pf, ml, pf + ml, med(label, c, "machine_per_1000")))
    print()
    for label in configs:
        if label == "none":
            continue
        for c in concs:
            a, b = med(label, c, "msgs_s"), med("none", c, "msgs_s")
            ca = (med(label, c, "postfix_per_1000") or 0) + (med(label, c, "milter_per_1000") or 0)
            cb = med("none", c, "postfix_per_1000")
            if a and b and cb:
                print("%s / none at concurrency %2d: %.2fx the messages/s, %.1fx the CPU per message"
                      " (Postfix + milter)" % (label, c, a / b, ca / cb))
            # Each round's own ratio, against the none run just before it: the
            # line above divides medians taken apart, which can pair a fast
            # none with a fast mugai from different moments of a drifting VM.
            own, last_none = [], None
            for r in results:
                if r["concurrency"] != c:
                    continue
                ok = r["drained"] and not r["failures"] and r["msgs_s"]
                if r["label"] == "none":
                    last_none = r if ok else None
                elif r["label"] == label and ok and last_none:
                    own.append(r["msgs_s"] / last_none["msgs_s"])
            if len(own) > 1:
                print("%s / none at concurrency %2d, each round against its own none run: median %.2fx"
                      " (%s)" % (label, c, statistics.median(own), ", ".join("%.2f" % x for x in own)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default="/var/tmp/mugai-bench")
    ap.add_argument("--milter", default=os.path.join(SRC, "build", "milter", "mugai-milter"))
    ap.add_argument("--conc", default="1,4,16")
    ap.add_argument("--corpus-size", type=int, default=200, help="messages in the generated corpus")
    ap.add_argument("--count", type=int, default=1000, help="messages per run, the corpus in a loop (default 1000)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--inet", action="store_true", help="also measure the milter over inet:PORT@127.0.0.1")
    ap.add_argument("--no-milter", action="store_true", help="only Postfix alone")
    ap.add_argument("--workers", type=int, default=0, help="[milter] workers (default: mugai's default)")
    ap.add_argument("--max-seconds", type=float, default=300, help="bound on one run (send + drain)")
    ap.add_argument("--quiet-wait", type=float, default=60,
                    help="before each run wait up to this long for an idle machine (0 = do not wait)")
    a = ap.parse_args()
    a.conc = [int(x) for x in a.conc.split(",")]
    a.configs = ["none"] + ([] if a.no_milter else ["mugai"] + (["mugai-inet"] if a.inet else []))
    why = pfinstance.available()
    if why:
        sys.exit("bench: %s" % why)
    if not a.no_milter and not os.access(a.milter, os.X_OK):
        sys.exit("bench: %s not built (or use --no-milter)" % a.milter)
    pfinstance.become_subreaper()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    b = Bench(a)
    try:
        b.setup()
        print("postfix 127.0.0.1:%d, %s, %d messages per run, concurrency %s, %d CPUs" % (
            b.pf.port, ", ".join(a.configs), a.count, a.conc, os.cpu_count()), flush=True)
        results = b.run()
    finally:
        b.teardown()
    summary(results, a.configs, a.conc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
