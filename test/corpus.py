#!/usr/bin/env python3
"""Every message under ../shared/corpus/ through `mugai sanitize`.

For each file: exit 0, 1 or 75 only, never a signal, within 10 seconds; on 0
the output is one 7-bit text/plain UTF-8 part; exactly one audit record; the
original comes back byte-identical from `quarantine export`; no removed part's
bytes appear in the output.  Skips cleanly where the corpus is absent.
"""
import base64
import email
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tapcommon import BASECONF, SRC, Tap, audit_records, output_problems, run  # noqa: E402

CORPUS = os.environ.get("MUGAI_CORPUS", os.path.join(SRC, "..", "shared", "corpus"))


def decoded_body(out):
    msg = email.message_from_bytes(out)
    return msg.get_payload(decode=True)


def main():
    mugai = sys.argv[1]
    t = Tap()
    if not os.path.isdir(CORPUS):
        print("1..0 # SKIP corpus not found at %s" % CORPUS)
        return 0
    files = []
    for root, _, names in os.walk(CORPUS):
        for nm in names:
            if nm.endswith(".md"):
                continue
            files.append(os.path.join(root, nm))
    files.sort()
    for path in files:
        rel = os.path.relpath(path, CORPUS)
        raw = open(path, "rb").read()
        with tempfile.TemporaryDirectory() as tmp:
            q, audit = os.path.join(tmp, "q"), os.path.join(tmp, "audit.log")
            base = ["--config", BASECONF, "--quarantine-dir", q, "--audit-log", audit]
            p, secs = run([mugai, "sanitize"] + base + [path], timeout=10)
            problems = []
            if p is None:
                problems.append("timed out after 10 s")
            else:
                if p.returncode not in (0, 1, 75):
                    problems.append("exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
                if p.returncode == 0:
                    why = output_problems(p.stdout)
                    if why:
                        problems.append(why)
                elif p.stdout:
                    problems.append("output written with exit %d" % p.returncode)
                recs = audit_records(audit)
                if len(recs) != 1:
                    problems.append("%d audit records" % len(recs))
                else:
                    rec = recs[0]
                    qid = rec["quarantine_id"]
                    if rec["verdict"] not in ("clean", "tempfail") and (qid or rec["verdict"] != "rejected"):
                        e, _ = run([mugai, "quarantine", "export"] + base + [qid])
                        if e is None or e.returncode != 0 or e.stdout != raw:
                            problems.append("quarantine export differs from the original")
                    if p.returncode == 0:
                        # every word of every kept text body is in the output
                        # (defanged URLs read hxxp:// and fxp://)
                        shown = decoded_body(p.stdout).decode("utf-8").replace("hxxp", "http").replace("fxp:", "ftp:")
                        for part in rec["parts"]:
                            if part["action"] != "kept":
                                continue
                            e, _ = run([mugai, "quarantine", "export"] + base + ["--part", part["path"], qid]) if qid else (None, 0)
                            src = e.stdout if e is not None and e.returncode == 0 else (raw if not qid else b"")
                            if qid is None or not src.isascii():
                                continue  # non-ASCII words are checked in the golden tests
                            words = set(re.findall(r"[A-Za-z0-9]{4,}", src.decode("ascii")))
                            missing = sorted(w for w in words if w not in shown)
                            if missing:
                                problems.append("words of kept part %s missing: %s" % (part["path"], missing[:8]))
                    if p.returncode == 0 and qid:
                        body = decoded_body(p.stdout)
                        for part in rec["parts"]:
                            # text bodies shown in another form (an HTML alternative) are not files,
                            # nor is a text body withheld (rawlook) whose HTML alternative was converted
                            parent = part["path"].rpartition(".")[0]
                            if (part["action"] != "removed" or part["size"] < 24
                                    or "alternative-duplicate" in part["reasons"]
                                    or (part["content_type"].startswith("text/") and any(
                                        o["action"] == "converted" and o["path"].rpartition(".")[0] == parent
                                        for o in rec["parts"]))):
                                continue
                            e, _ = run([mugai, "quarantine", "export"] + base + ["--part", part["path"], qid])
                            if e is None or e.returncode != 0:
                                problems.append("export --part %s failed" % part["path"])
                                continue
                            blob = e.stdout
                            if blob in body or base64.b64encode(blob[:48]) in p.stdout:
                                problems.append("bytes of removed part %s are in the output" % part["path"])
            t.ok(not problems, "%s (exit %s, %.2f s)" % (rel, p.returncode if p else "timeout", secs),
                 "\n".join(problems))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
