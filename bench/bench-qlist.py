#!/usr/bin/env python3
"""bench-qlist: `mugai quarantine list` over a large quarantine.

Creates COUNT (default 100,000) synthetic entries in a fresh quarantine
directory -- ID.eml (a small message) and ID.json (a record shaped like the
pipeline's: three parts, a Japanese subject, the delivered text), IDs spread
over the last 90 days -- then times:

  cold       the first `list` (readdir + every record read into the index)
  warm       the next `list` runs (readdir + the index; median of --rounds)
  filtered   `list --subject ... --verdict suspect` and `list --since` (warm)
  json       `list --json` (warm; every entry's JSON comes from the index)
  new        `list` after 100 entries were added (they alone are read)

Output goes to /dev/null, so what is measured is mugai, not the terminal.

Usage: bench/bench-qlist.py BUILD/mugai [--count N] [--rounds R] [--dir DIR] [--keep]
The figures measured on the development machine are in bench/README.md.
"""
import argparse
import datetime
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SUBJECTS = ["見積書の送付について", "会議資料（第3回）", "Re: 請求書", "【至急】ご確認ください",
            "Invoice March", "議事録の共有", "ｾﾐﾅｰのご案内", "Fw: 契約書ドラフト"]
VERDICTS = ["sanitized"] * 7 + ["suspect"] * 2 + ["rejected"]
TEXT = "田中様\n\nいつもお世話になっております。見積書を添付いたしますのでご確認ください。\n" * 4


def make_entry(rnd, qdir, t):
    ts = t.strftime("%Y%m%d-%H%M%S") + "%03d" % (t.microsecond // 1000)
    qid = ts + "-" + "".join(rnd.choice(CROCKFORD) for _ in range(10))
    eml = ("From: sender%d@example.co.jp\r\nTo: staff@city.example.lg.jp\r\nSubject: x\r\n\r\nbody\r\n"
           % rnd.randrange(500)).encode()
    verdict = rnd.choice(VERDICTS)
    rec = {
        "ts": t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000),
        "id": "4%09X" % rnd.randrange(1 << 36),
        "message_id": "%s@example.co.jp" % qid,
        "from": "sender%d@example.co.jp" % rnd.randrange(500),
        "header_from": "送信者 <sender@example.co.jp>",
        "subject": rnd.choice(SUBJECTS) + " %d" % rnd.randrange(10000),
        "rcpt": ["staff%d@city.example.lg.jp" % rnd.randrange(200)],
        "client": "192.0.2.%d" % rnd.randrange(255),
        "size": len(eml),
        "sha256": hashlib.sha256(eml).hexdigest(),
        "verdict": verdict,
        "verdict_reason": "policy:suspect-rejected" if verdict == "rejected" else None,
        "quarantine_id": qid,
        "elapsed_ms": rnd.randrange(40),
        "reasons": [],
        "parts": [
            {"path": "1", "content_type": "text/plain", "detected_type": "text/plain", "filename": None,
             "size": 320, "sha256": None, "action": "kept", "reasons": []},
            {"path": "2", "content_type": "text/html", "detected_type": "text/html", "filename": None,
             "size": 1200, "sha256": None, "action": "converted", "reasons": ["html-converted"]},
            {"path": "3", "content_type": "application/pdf", "detected_type": "application/pdf",
             "filename": "見積書.pdf", "size": 48213, "sha256": "c" * 64, "action": "removed",
             "reasons": ["attachment"] + (["pdf-active"] if verdict != "sanitized" else [])},
        ],
        "delivered_text": TEXT,
    }
    with open(os.path.join(qdir, qid + ".eml"), "wb") as f:
        f.write(eml)
    with open(os.path.join(qdir, qid + ".json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")


def populate(qdir, count, seed, start, span_s):
    rnd = random.Random(seed)
    for i in range(count):
        make_entry(rnd, qdir, start + datetime.timedelta(seconds=span_s * i / max(count, 1)))


def timed(args):
    t0 = time.monotonic()
    with open(os.devnull, "wb") as null:
        p = subprocess.run(args, stdout=null, stderr=subprocess.PIPE)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mugai")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", help="where to build the quarantine (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    base = a.dir or tempfile.mkdtemp(prefix="mugai-bench-qlist-")
    qdir = os.path.join(base, "q")
    os.makedirs(qdir, mode=0o700)
    conf = os.path.join(base, "mugai.conf")
    with open(conf, "w") as f:
        f.write("[quarantine]\ndir = %s\n[audit]\nlog = %s/audit.log\n" % (qdir, base))
    cmd = [a.mugai, "quarantine", "list", "--config", conf]
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    try:
        t0 = time.monotonic()
        populate(qdir, a.count, 1, now - datetime.timedelta(days=90), 89 * 86400)
        print("entries          %d (created in %.1f s)" % (a.count, time.monotonic() - t0))
        print("cold list        %.3f s  (index built: every record read)" % timed(cmd))
        warm = [timed(cmd) for _ in range(a.rounds)]
        print("warm list        %.3f s  (median of %d; min %.3f, max %.3f)"
              % (statistics.median(warm), len(warm), min(warm), max(warm)))
        flt = [timed(cmd + ["--subject", "見積書", "--verdict", "suspect"]) for _ in range(a.rounds)]
        print("--subject --verdict %.3f s (median)" % statistics.median(flt))
        since = (now - datetime.timedelta(days=7)).strftime("%Y-%m-%d")
        flt = [timed(cmd + ["--since", since]) for _ in range(a.rounds)]
        print("--since (7 days) %.3f s  (median)" % statistics.median(flt))
        js = [timed(cmd + ["--json"]) for _ in range(a.rounds)]
        print("--json           %.3f s  (median)" % statistics.median(js))
        populate(qdir, 100, 2, now - datetime.timedelta(minutes=5), 60)
        print("after +100 new   %.3f s  (only the new records read)" % timed(cmd))
        size = os.path.getsize(os.path.join(qdir, ".index.sqlite"))
        print("index size       %.1f MB" % (size / 1e6))
    finally:
        if a.keep:
            print("kept %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
