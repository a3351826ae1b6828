#!/usr/bin/env python3
"""mugai-milter alone, over the milter protocol: messages/s and CPU per message.

    bench/bench-milter.py [--milter build/milter/mugai-milter] [--conc 16]
        [--count 1200] [--rounds 3] [--workers N] [--root /var/tmp/mugai-bench-milter]
        [--spool-memory SIZE] [--cpu LIST]

A benchmark, not a test.  It speaks the milter protocol (version 6) the way
Postfix's cleanup does for one message per connection: option negotiation,
connect, HELO, MAIL, RCPT, DATA, each header, end of headers, the body in
chunks of 65,535 bytes with CRLF line ends, end of message; it honours the
"no reply" flags the milter asks for, then reads the header changes and the
replacement body up to the final reply.  No Postfix, no network: what it
measures is the milter's own cost, main process and workers apart, so that
two builds can be compared without Postfix's share and its noise.

Corpus: bench/postfix's (gen_corpus.py, 200 messages of ~420 KB, same seed),
under ROOT.  Each round sends COUNT messages over CONC parallel sessions and
prints messages/s, the milter's CPU ms per message (main process, workers)
and its minor page faults per message from /proc, and the replies seen
(every message must end in an accept or a replaced body; anything else is
counted and printed).  --cpu pins the milter
and its workers (taskset list), so that another process pinned elsewhere
disturbs the figures less.  The quarantine, spool and audit log are under
ROOT on the same file system, fsync'ed as in production.
"""
import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRC, "test", "postfix"))
sys.path.insert(0, os.path.join(HERE, "postfix"))
import bench  # noqa: E402  (bench/postfix/bench.py: its corpus)
import pfinstance  # noqa: E402
from milterproc import Milter  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
CHUNK = 65535
# SMFIP_* "no reply" bits for connect, helo, mail, rcpt, data, unknown, eoh, body, header
NR = {b"C": 0x1000, b"H": 0x2000, b"M": 0x4000, b"R": 0x8000, b"T": 0x10000, b"N": 0x40000,
      b"B": 0x80000, b"L": 0x80}
FINAL = {b"a": "accept", b"c": "continue", b"r": "reject", b"t": "tempfail", b"d": "discard",
         b"y": "replycode"}


def messages(d, count):
    """bench/postfix's corpus (made there when missing), as header pairs and a
    CRLF body each."""
    bench.ensure_corpus(d, count)
    out = []
    for name in sorted(f for f in os.listdir(d) if f.endswith(".eml")):
        raw = open(os.path.join(d, name), "rb").read().replace(b"\r\n", b"\n")
        head, _, body = raw.partition(b"\n\n")
        hdrs = []
        for line in head.split(b"\n"):
            if line[:1] in (b" ", b"\t") and hdrs:
                hdrs[-1][1] += b"\n" + line
            else:
                k, _, v = line.partition(b":")
                hdrs.append([k, v.lstrip(b" ")])
        out.append((hdrs, body.replace(b"\n", b"\r\n")))
    return out


class Session:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    pkt, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return pkt[:1], pkt[1:]
            d = self.s.recv(1 << 16)
            if not d:
                raise EOFError("milter closed the connection")
            self.buf += d

    def close(self):
        self.s.close()


def one(path, hdrs, body, i):
    """One message on its own connection; returns the final reply's name."""
    s = Session(path)
    try:
        s.send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF & ~0x100000))
        cmd, data = s.recv()
        if cmd != b"O":
            return "bad-optneg"
        proto = struct.unpack(">III", data[:12])[2]

        def step(cmd, data=b""):
            s.send(cmd, data)
            if not (proto & NR.get(cmd, 0)):
                c, _ = s.recv()
                if c != b"c":
                    raise RuntimeError(FINAL.get(c, c.decode()))

        s.send(b"D", b"C" + b"j\0bench.test\0{daemon_name}\0smtpd\0")
        step(b"C", b"localhost\0" + b"4" + struct.pack(">H", 25000 + i % 1000) + b"127.0.0.1\0")
        step(b"H", b"bench.test\0")
        s.send(b"D", b"M" + b"{mail_addr}\0sender@bench.test\0")
        step(b"M", b"<sender@bench.test>\0")
        s.send(b"D", b"R" + b"{rcpt_addr}\0user@lgwan.test\0")
        step(b"R", b"<user@lgwan.test>\0")
        s.send(b"D", b"T" + b"i\0B%07X\0" % i)
        step(b"T")
        for k, v in hdrs:
            step(b"L", k + b"\0" + v + b"\0")
        step(b"N")
        for off in range(0, len(body), CHUNK):
            step(b"B", body[off:off + CHUNK])
        s.send(b"D", b"E" + b"i\0B%07X\0" % i)
        s.send(b"E")
        replaced = False
        while True:
            cmd, data = s.recv()
            if cmd in FINAL:
                name = FINAL[cmd]
                break
            replaced |= cmd == b"b"
        s.send(b"Q")
        return name + (" (body replaced)" if replaced else "")
    except RuntimeError as e:
        return "early " + str(e)
    finally:
        s.close()


def tree_cpu(root_pid):
    """(main, workers) CPU seconds and (main, workers) minor page faults: the
    daemon itself, and its children live or reaped."""
    # f[0] is the state field: f[k] is /proc/PID/stat's field k + 3.
    table = {pid: (int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]),
                   int(f[7]), int(f[8]))
             for pid, f in pfinstance.proc_stats()}
    kids = {}
    for pid, row in table.items():
        kids.setdefault(row[0], []).append(pid)
    main = table[root_pid][1] / CLK
    workers = table[root_pid][2] / CLK
    mflt, wflt = table[root_pid][3], table[root_pid][4]
    for w in pfinstance.descendants(kids, [root_pid]):
        if w != root_pid:
            workers += (table[w][1] + table[w][2]) / CLK
            wflt += table[w][3] + table[w][4]
    return main, workers, mflt, wflt


def run_round(path, corpus, count, conc, root_pid):
    replies = {}
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= count:
                return
            hdrs, body = corpus[i % len(corpus)]
            r = one(path, hdrs, body, i)
            with lock:
                replies[r] = replies.get(r, 0) + 1

    m0, w0, mf0, wf0 = tree_cpu(root_pid)
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.monotonic() - t0
    m1, w1, mf1, wf1 = tree_cpu(root_pid)
    return (el, (m1 - m0) * 1000 / count, (w1 - w0) * 1000 / count,
            ((mf1 - mf0) / count, (wf1 - wf0) / count), replies)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--milter", default=os.path.join(SRC, "build", "milter", "mugai-milter"))
    ap.add_argument("--root", default="/var/tmp/mugai-bench-milter")
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--count", type=int, default=1200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=0, help="[milter] workers (default: mugai's)")
    ap.add_argument("--spool-memory", default="", help="[milter] spool_memory (default: mugai's)")
    ap.add_argument("--cpu", default="", help="taskset CPU list for the milter and its workers")
    a = ap.parse_args()

    root = os.path.abspath(a.root)
    run = os.path.join(root, "run")
    for d in ("spool", "quarantine", "run", "log"):
        shutil.rmtree(os.path.join(root, d), ignore_errors=True)
        os.makedirs(os.path.join(root, d))
    corpus = messages(os.path.join(root, "corpus"), 200)
    mb = sum(len(b) + sum(len(k) + len(v) + 4 for k, v in h) for h, b in corpus) / len(corpus) / 1e6
    sock = os.path.join(run, "mugai.sock")
    conf = os.path.join(run, "mugai.conf")
    with open(conf, "w") as f:
        f.write("[milter]\nsocket = unix:%s\nuser = \"\"\nallow_root = yes\n%s%sspool_dir = %s\n"
                "[quarantine]\ndir = %s\n[audit]\nlog = %s\n"
                % (sock, "workers = %d\n" % a.workers if a.workers else "",
                   "spool_memory = %s\n" % a.spool_memory if a.spool_memory else "",
                   os.path.join(root, "spool"), os.path.join(root, "quarantine"),
                   os.path.join(root, "log", "audit.log")))
    m = Milter(a.milter, conf, sock, os.path.join(root, "mugai.log"))
    if not m.start():
        print("mugai-milter did not start", file=sys.stderr)
        return 1
    try:
        if a.cpu:
            subprocess.run(["taskset", "-a", "-p", "-c", a.cpu, str(m.proc.pid)], check=True,
                           capture_output=True)
        print("milter %s, %d messages of %.2f MB mean, concurrency %d, %s workers"
              % (a.milter, len(corpus), mb, a.conc, a.workers or "default"))
        run_round(sock, corpus, 2 * a.conc, a.conc, m.proc.pid)   # warm-up
        if a.cpu:   # workers started since
            for pid in m.pids():
                subprocess.run(["taskset", "-a", "-p", "-c", a.cpu, str(pid)], capture_output=True)
        res = []
        for r in range(a.rounds):
            el, mcpu, wcpu, flt, replies = run_round(sock, corpus, a.count, a.conc, m.proc.pid)
            bad = {k: v for k, v in replies.items() if not k.startswith(("accept", "continue"))}
            res.append((a.count / el, mcpu, wcpu))
            print("round %d: %7.1f msgs/s  milter CPU ms/msg: main %.2f  workers %.2f  total %.2f"
                  "  page faults/msg: main %.0f  workers %.0f%s"
                  % (r + 1, a.count / el, mcpu, wcpu, mcpu + wcpu, flt[0], flt[1],
                     "  NOT ACCEPTED: %s" % bad if bad else ""))
        med = sorted(res, key=lambda x: x[1] + x[2])[len(res) // 2]
        print("median: %.1f msgs/s, milter CPU ms/msg main %.2f + workers %.2f = %.2f"
              % (med[0], med[1], med[2], med[1] + med[2]))
    finally:
        m.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
