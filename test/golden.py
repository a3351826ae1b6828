#!/usr/bin/env python3
"""Golden pipeline tests: input .eml -> expected output and audit record.

For each test/golden/NAME.eml, runs `mugai sanitize` (with NAME.conf on top of
test/data/test.conf when present) into a fresh quarantine and audit log, and
compares a readable view of the result with NAME.expected:

    exit code, stderr, the output headers, the decoded body, the audit record
    (pretty JSON)

Values that change on every run (quarantine ID, timestamps, elapsed time) are
replaced by placeholders.  Beyond the golden comparison it checks what must
hold for every message: one audit line; the original back byte-identical from
`quarantine export`; every removed part's SHA-256 equal to the bytes that
`quarantine export --part` gives and to Python's own decoding of that part.

Usage: golden.py MUGAI [--update]   (prints TAP)
"""
import base64
import email
import email.policy
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

SRC = os.environ.get("MUGAI_SRCDIR", os.path.join(os.path.dirname(__file__), ".."))
GOLDEN = os.path.join(SRC, "test", "golden")
BASECONF = os.path.join(SRC, "test", "data", "test.conf")
QID_RE = re.compile(r"\d{8}-\d{9}-[0-9A-Z]{10}")

n = 0
failed = 0


def tap(ok, desc, detail=""):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, desc))
    if not ok and detail:
        for line in detail.splitlines()[:60]:
            print("#   " + line)


def config_for(name, tmp):
    conf = os.path.join(tmp, "mugai.conf")
    text = open(BASECONF, encoding="utf-8").read()
    extra = os.path.join(GOLDEN, name + ".conf")
    if os.path.exists(extra):
        # merge: sections in the extra file override the base keys
        merged = {}
        order = []
        for src in (text, open(extra, encoding="utf-8").read()):
            sect = None
            for line in src.splitlines():
                s = line.strip()
                if not s or s.startswith("#"):
                    continue
                if s.startswith("["):
                    sect = s
                    if sect not in merged:
                        merged[sect] = {}
                        order.append(sect)
                    continue
                k, v = s.split("=", 1)
                merged[sect][k.strip()] = v.strip()
        text = "".join(
            sect + "\n" + "".join("%s = %s\n" % kv for kv in merged[sect].items())
            for sect in order)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    return conf


def python_leaves(raw):
    """Decoded bytes of each leaf part, in document order, as Python sees them."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        out.append(payload if payload is not None else b"")
    return out


def view(proc, out_dir):
    """The readable, run-independent view of one run."""
    lines = ["exit: %d" % proc.returncode]
    if proc.stderr:
        lines.append("stderr: " + proc.stderr.decode("utf-8", "replace").strip())
    body_text = ""
    if proc.stdout:
        head, _, body = proc.stdout.partition(b"\n\n")
        lines.append("--- headers ---")
        lines.append(head.decode("utf-8", "replace"))
        cte = re.search(rb"(?im)^Content-Transfer-Encoding:\s*(\S+)", head)
        if cte and cte.group(1).lower() == b"base64":
            decoded = base64.b64decode(body)
        else:
            import quopri
            decoded = quopri.decodestring(body)
        body_text = decoded.decode("utf-8")
        lines.append("--- body ---")
        lines.append(body_text.rstrip("\n"))
    audit_path = os.path.join(out_dir, "audit.log")
    records = []
    if os.path.exists(audit_path):
        records = [json.loads(l) for l in open(audit_path, encoding="utf-8") if l.strip()]
    for rec in records:
        rec = dict(rec)
        rec["ts"] = "TS"
        rec["elapsed_ms"] = "MS"
        lines.append("--- audit ---")
        lines.append(json.dumps(rec, ensure_ascii=False, indent=1))
    text = "\n".join(lines) + "\n"
    return QID_RE.sub("QID", text), records


def check_one(mugai, name, update):
    src = os.path.join(GOLDEN, name + ".eml")
    raw = open(src, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        conf = config_for(name, tmp)
        qdir = os.path.join(tmp, "q")
        audit = os.path.join(tmp, "audit.log")
        proc = subprocess.run([mugai, "sanitize", "--config", conf, "--quarantine-dir", qdir,
                               "--audit-log", audit, "--id", "TESTID", src],
                              capture_output=True, timeout=60)
        text, records = view(proc, tmp)
        exp_path = os.path.join(GOLDEN, name + ".expected")
        if update:
            with open(exp_path, "w", encoding="utf-8") as f:
                f.write(text)
        expected = open(exp_path, encoding="utf-8").read() if os.path.exists(exp_path) else "(missing)\n"
        if text != expected:
            import difflib
            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                                "expected", "got"))
            tap(False, "%s: output and audit match %s.expected" % (name, name), diff)
        else:
            tap(True, "%s: output and audit match %s.expected" % (name, name))
        tap(len(records) == 1, "%s: exactly one audit record" % name)
        if not records:
            return
        rec = records[0]
        qid = rec.get("quarantine_id")
        if rec["verdict"] == "clean" or rec["verdict"] == "tempfail" or not qid:
            tap(qid is None or rec["verdict"] not in ("clean", "tempfail"),
                "%s: no quarantine entry for %s" % (name, rec["verdict"]))
            return
        # every export is an administrator act with an audit record of its own
        exp = subprocess.run([mugai, "quarantine", "export", "--config", conf,
                              "--quarantine-dir", qdir, "--audit-log", audit, qid],
                             capture_output=True, timeout=60)
        tap(exp.returncode == 0 and exp.stdout == raw, "%s: quarantine export is byte-identical" % name)
        leaves = python_leaves(raw)
        # parts cut out of a text body ("1.text1") are not MIME parts: no
        # export by path, no Python leaf; their SHA-256 is of the encoded lines
        real = [pt for pt in rec["parts"] if ".text" not in pt["path"]]
        for i, part in enumerate(real):
            if part["action"] != "removed" or not part["sha256"]:
                continue
            got = subprocess.run([mugai, "quarantine", "export", "--config", conf, "--quarantine-dir",
                                  qdir, "--audit-log", audit, "--part", part["path"], qid],
                                 capture_output=True, timeout=60)
            ok = got.returncode == 0 and hashlib.sha256(got.stdout).hexdigest() == part["sha256"]
            tap(ok, "%s: part %s export matches its SHA-256" % (name, part["path"]))
            # Python's decoder is lenient in its own ways (it stops at base64
            # padding); compare where the part is well-formed.
            if i < len(leaves) and "base64-after-padding" not in part["reasons"]:
                tap(hashlib.sha256(leaves[i]).hexdigest() == part["sha256"],
                    "%s: part %s SHA-256 equals Python's decoding" % (name, part["path"]))


def main():
    mugai = sys.argv[1]
    update = "--update" in sys.argv
    names = sorted(f[:-4] for f in os.listdir(GOLDEN) if f.endswith(".eml"))
    for name in names:
        check_one(mugai, name, update)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
