"""Shared bits of the Python test drivers: TAP output and running mugai."""
import os
import resource
import subprocess
import time

SRC = os.environ.get("MUGAI_SRCDIR", os.path.join(os.path.dirname(__file__), ".."))
BASECONF = os.path.join(SRC, "test", "data", "test.conf")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=""):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, desc), flush=True)
        if not cond and detail:
            for line in str(detail).splitlines()[:40]:
                print("#   " + line)
        return cond

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def run(args, stdin=None, timeout=60):
    """Run a command; returns (CompletedProcess or None on timeout, seconds)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - t0
    return p, time.monotonic() - t0


def audit_records(path):
    import json
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def output_problems(out):
    """Why OUT is not one 7-bit text/plain UTF-8 part with one X-Mugai-Status, or ''."""
    import email
    import email.policy
    head, sep, body = out.partition(b"\n\n")
    if not sep:
        return "no header/body separator"
    msg = email.message_from_bytes(out, policy=email.policy.compat32)
    if msg.is_multipart():
        return "output is multipart"
    if msg.get_content_type() != "text/plain":
        return "output type is %s" % msg.get_content_type()
    if (msg.get_content_charset() or "").lower() != "utf-8":
        return "output charset is %s" % msg.get_content_charset()
    if len(msg.get_all("X-Mugai-Status") or []) != 1:
        return "X-Mugai-Status count is %d" % len(msg.get_all("X-Mugai-Status") or [])
    if len(msg.get_all("Content-Type") or []) != 1:
        return "Content-Type count is not 1"
    if any(b > 127 for b in body):
        return "body is not 7-bit"
    if any(len(l) > 998 for l in body.split(b"\n")):
        return "body line longer than 998"
    try:
        msg.get_payload(decode=True).decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    return ""
