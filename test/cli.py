#!/usr/bin/env python3
"""The `mugai` command's contract: exit codes, stdin, --explain, quarantine
subcommands, check-config, and fail-closed behaviour when the quarantine or
the audit log cannot be written."""
import json
import os
import subprocess
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tapcommon import BASECONF, SRC, Tap, audit_records, output_problems, run  # noqa: E402

GOLDEN = os.path.join(SRC, "test", "golden")


def main():
    mugai = sys.argv[1]
    t = Tap()
    attach = os.path.join(GOLDEN, "forwarded.eml")
    raw = open(attach, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        q, audit = os.path.join(tmp, "q"), os.path.join(tmp, "audit.log")
        base = ["--config", BASECONF, "--quarantine-dir", q, "--audit-log", audit]

        p, _ = run([mugai])
        t.ok(p.returncode == 2 and b"usage" in p.stderr, "no arguments: usage, exit 2")
        env = dict(os.environ, LC_ALL="", LC_MESSAGES="", LANG="ja_JP.UTF-8")
        p = subprocess.run([mugai, "--help"], capture_output=True, env=env)
        t.ok(p.returncode == 0 and p.stdout.startswith("使い方:\n".encode()) and "終了コード".encode() in p.stdout
             and b"mugai quarantine release ID --reason TEXT" in p.stdout, "--help under a Japanese locale: in Japanese, exit 0")
        p = subprocess.run([mugai, "--help"], capture_output=True, env=dict(env, LANG="C"))
        t.ok(p.returncode == 0 and p.stdout.startswith(b"usage:\n") and b"exit: 0 ok" in p.stdout, "--help otherwise: in English")
        p, _ = run([mugai, "sanitize", "--bogus"])
        t.ok(p.returncode == 2, "unknown option: exit 2")
        p, _ = run([mugai, "sanitize", "--config", os.path.join(tmp, "missing.conf"), attach])
        t.ok(p.returncode == 2 and b"missing.conf" in p.stderr and not p.stdout, "missing --config file: exit 2, named")
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write("[limits]\nparts = many\n")
        p, _ = run([mugai, "sanitize", "--config", bad, attach])
        t.ok(p.returncode == 2 and (bad + ":2: [limits] parts").encode() in p.stderr, "bad value: exit 2 with FILE:LINE: [section] key",
             p.stderr.decode(errors="replace"))
        p, _ = run([mugai, "check-config", "--config", bad])
        t.ok(p.returncode == 2, "check-config on a bad file: exit 2")
        p, _ = run([mugai, "check-config", "--config", BASECONF])
        t.ok(p.returncode == 0 and b"notice_contact" in p.stdout, "check-config on a good file: exit 0, prints the keys")
        p, _ = run([mugai, "check-config", "--print-default"])
        t.ok(p.returncode == 0 and p.stdout == open(os.path.join(SRC, "config", "mugai.conf"), "rb").read(),
             "check-config --print-default is config/mugai.conf")
        p, _ = run([mugai, "sanitize"] + base + [os.path.join(tmp, "nonexistent.eml")])
        t.ok(p.returncode == 2 and not p.stdout, "missing input file: exit 2")

        p1, _ = run([mugai, "sanitize"] + base + [attach])
        p2, _ = run([mugai, "sanitize"] + base, stdin=raw)
        t.ok(p1.returncode == 0 and p2.returncode == 0, "file and stdin: exit 0")
        strip = lambda out: b"\n".join(l for l in out.split(b"\n") if not l.startswith(b"X-Mugai-Status"))
        import re
        qre = re.compile(rb"\d{8}-\d{9}-[0-9A-Z]{10}")
        import email
        b1 = email.message_from_bytes(p1.stdout).get_payload(decode=True)
        b2 = email.message_from_bytes(p2.stdout).get_payload(decode=True)
        t.ok(qre.sub(b"Q", b1) == qre.sub(b"Q", b2) and strip(p1.stdout).split(b"\n\n")[0] == strip(p2.stdout).split(b"\n\n")[0],
             "stdin gives the same message as the file")
        t.ok(output_problems(p1.stdout) == "", "output is one text/plain part", output_problems(p1.stdout))
        recs = audit_records(audit)
        t.ok(len(recs) == 2, "one audit line per run")
        qid = recs[0]["quarantine_id"]

        p, _ = run([mugai, "sanitize", "--explain"] + base + [attach])
        err = p.stderr.decode()
        t.ok("part 2.2 application/x-msdownload" in err and "-> removed (attachment, executable-name, executable)" in err and "verdict suspect" in err,
             "--explain prints each part's decision and the verdict", err)

        p, _ = run([mugai, "quarantine", "list"] + base)
        t.ok(p.returncode == 0 and qid.encode() in p.stdout, "quarantine list shows the entry")
        p, _ = run([mugai, "quarantine", "list", "--json"] + base)
        entries = json.loads(p.stdout) if p.returncode == 0 else []
        t.ok(len(entries) == 3 and all(k in entries[0] for k in ("id", "ts", "sha256", "size", "verdict", "from", "rcpt", "subject", "parts")),
             "quarantine list --json: every entry with the contract's fields")
        import hashlib
        t.ok(any(e["id"] == qid and e["sha256"] == hashlib.sha256(raw).hexdigest() and e["size"] == len(raw) for e in entries),
             "list --json sha256 and size are the original's")
        p, _ = run([mugai, "quarantine", "show"] + base + [qid])
        t.ok(p.returncode == 0 and b"setup.exe" in p.stdout, "quarantine show prints the parts")
        p, _ = run([mugai, "quarantine", "export"] + base + [qid])
        t.ok(p.returncode == 0 and p.stdout == raw, "quarantine export: byte-identical original")
        p, _ = run([mugai, "quarantine", "export", "--part", "2.2"] + base + [qid])
        t.ok(p.returncode == 0 and p.stdout == b"MZ" + bytes(200), "quarantine export --part 2.2: the decoded attachment")
        p, _ = run([mugai, "quarantine", "export", "--part", "9.9"] + base + [qid])
        t.ok(p.returncode == 1, "export of a part that does not exist: exit 1")
        p, _ = run([mugai, "quarantine", "show"] + base + ["20260101-000000000-AAAAAAAAAA"])
        t.ok(p.returncode == 1, "unknown quarantine ID: exit 1")
        p, _ = run([mugai, "quarantine", "show"] + base + ["../../etc/passwd"])
        t.ok(p.returncode == 1, "path-like ID refused: exit 1")

        # fail closed: quarantine not writable -> 75, nothing on stdout, tempfail recorded
        blocker = os.path.join(tmp, "file")
        open(blocker, "w").close()
        audit2 = os.path.join(tmp, "audit2.log")
        p, _ = run([mugai, "sanitize", "--config", BASECONF, "--quarantine-dir", os.path.join(blocker, "q"),
                    "--audit-log", audit2, attach])
        recs = audit_records(audit2)
        t.ok(p.returncode == 75 and not p.stdout and b"quarantine-failed" in p.stderr, "quarantine unwritable: exit 75, no output",
             p.stderr.decode(errors="replace"))
        t.ok(len(recs) == 1 and recs[0]["verdict"] == "tempfail" and "quarantine-failed" in recs[0]["reasons"]
             and recs[0]["quarantine_id"] is None, "quarantine unwritable: tempfail audit record")
        p, _ = run([mugai, "sanitize", "--config", BASECONF, "--quarantine-dir", q,
                    "--audit-log", os.path.join(blocker, "audit.log"), attach])
        t.ok(p.returncode == 75 and not p.stdout and b"audit-failed" in p.stderr, "audit log unwritable: exit 75, no output")
        # a clean message needs no quarantine: an unwritable quarantine does not matter
        clean = os.path.join(GOLDEN, "eucjp.eml")
        p, _ = run([mugai, "sanitize", "--config", BASECONF, "--quarantine-dir", os.path.join(blocker, "q"),
                    "--audit-log", audit2, clean])
        t.ok(p.returncode == 0 and b"X-Mugai-Status: clean" in p.stdout, "clean message: delivered without a quarantine entry")
        # modes
        st = os.stat(os.path.join(q, qid + ".eml"))
        t.ok(stat.S_IMODE(st.st_mode) == 0o600, "quarantined original is mode 0600")
        t.ok(stat.S_IMODE(os.stat(audit).st_mode) == 0o600, "audit log is mode 0600")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
