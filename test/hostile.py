#!/usr/bin/env python3
"""Malformed, hostile and oversized inputs: a clear outcome, never a crash.

Each generated input must end with exit 0, 1 or 75 (never a signal) within
10 seconds, and with the verdict and reasons listed for it; on exit 0 the
output is one text/plain part that does not carry the hidden content.
"""
import os
import resource
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tapcommon import BASECONF, Tap, audit_records, output_problems, run  # noqa: E402

def zip_mail(names):
    """A mail with one zip attachment holding NAMES (tiny text entries)."""
    import base64
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            z.writestr(n, "x" * 100)
    return HDR + (b'Content-Type: multipart/mixed; boundary="z"\n\n--z\nContent-Type: text/plain\n\nfiles\n'
                  b'--z\nContent-Type: application/zip; name="a.zip"\nContent-Transfer-Encoding: base64\n\n'
                  + base64.encodebytes(buf.getvalue()) + b"--z--\n")


def zip_exe_mail(size):
    """A zip of exactly SIZE bytes (padded with its comment): random data, then
    an executable in its last 800 bytes. The walk keeps the first 36 KiB of a part in memory and
    spills the rest only once that head shows a container: the sizes around
    that bound must all reach the executable."""
    import base64
    import io
    import random
    import zipfile
    def build(comment):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr("data.bin", random.Random(7).randbytes(size - 800))
            # an executable by its bytes alone: a harmless name, so only the
            # bytes spilled past the head can tell
            mz = bytearray(b"MZ\x90\0" + bytes(60))
            mz[60] = 64
            z.writestr("readme.dat", bytes(mz) + b"PE\0\0\x4c\x01\x01\0" + bytes(16) + b"This program cannot be run in DOS mode.\r\r\n$")
            z.comment = b"c" * comment
        return buf.getvalue()
    data = build(0)
    data = build(size - len(data))
    assert len(data) == size
    return HDR + (b'Content-Type: multipart/mixed; boundary="z"\n\n--z\nContent-Type: text/plain\n\nfiles\n'
                  b'--z\nContent-Type: application/zip; name="a.zip"\nContent-Transfer-Encoding: base64\n\n'
                  + base64.encodebytes(data) + b"--z--\n")


HDR = b"From: a@example.com\nTo: b@example.jp\nSubject: hostile\nMIME-Version: 1.0\n"


def jpeg_with_zip(pad):
    """A JPEG, PAD random bytes, then a zip holding an executable: a polyglot
    that archivers open from its end. Past the walk's 36 KiB head, only the
    tail it keeps of a part it did not spill can show the zip."""
    import base64
    import io
    import random
    import zipfile
    mz = bytearray(b"MZ\x90\0" + bytes(60))
    mz[60] = 64
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("readme.dat", bytes(mz) + b"PE\0\0\x4c\x01\x01\0" + bytes(16) + b"This program cannot be run in DOS mode.\r\r\n$")
    data = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0" + random.Random(3).randbytes(pad) + b"\xff\xd9" + buf.getvalue()
    return HDR + (b'Content-Type: multipart/mixed; boundary="z"\n\n--z\nContent-Type: text/plain\n\nphoto\n'
                  b'--z\nContent-Type: image/jpeg; name="photo.jpg"\nContent-Transfer-Encoding: base64\n\n'
                  + base64.encodebytes(data) + b"--z--\n")


def attached_message(ctype, cte):
    """A forwarded message holding an executable, attached as CTYPE with
    transfer encoding CTE (base64 here is forbidden by RFC 2046, and GMime
    then keeps the message opaque)."""
    import base64
    pe = bytearray(b"MZ\x90\0" + bytes(60))
    pe[60] = 64
    pe += b"PE\0\0\x4c\x01\x01\0" + bytes(16) + b"This program cannot be run in DOS mode.\r\r\n$"
    inner = (b"From: x@example.com\nSubject: inner\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\n"
             b"--q\nContent-Type: text/plain\n\ninner text\n--q\nContent-Type: application/octet-stream; name=tool.dat\n"
             b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(bytes(pe)) + b"--q--\n")
    body = base64.encodebytes(inner) if cte == b"base64" else inner
    return HDR + (b'Content-Type: multipart/mixed; boundary="z"\n\n--z\nContent-Type: text/plain\n\nsee attached\n'
                  b"--z\nContent-Type: " + ctype + b"\nContent-Transfer-Encoding: " + cte + b"\n\n" + body + b"--z--\n")


def tnef_attr(level, aid, data):
    """One TNEF attribute: level, id, length, data, checksum."""
    import struct
    return struct.pack("<BII", level, aid, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def tnef_mail(names, raw=None):
    """A mail with a winmail.dat holding NAMES (tiny text files), or the bytes RAW after its signature."""
    import base64
    import struct
    body = raw
    if body is None:
        body = b"".join(tnef_attr(2, 0x00069002, b"\x01\x00" + b"\xff" * 4 + b"\x00" * 8)
                        + tnef_attr(2, 0x00018010, n + b"\x00") + tnef_attr(2, 0x0006800F, b"x" * 100)
                        for n in names)
    data = struct.pack("<IH", 0x223E9F78, 1) + body
    return HDR + (b'Content-Type: multipart/mixed; boundary="t"\n\n--t\nContent-Type: text/plain\n\nfiles\n'
                  b'--t\nContent-Type: application/ms-tnef; name="winmail.dat"\nContent-Transfer-Encoding: base64\n\n'
                  + base64.encodebytes(data) + b"--t--\n")


def nested_multiparts(levels):
    s = HDR + b'Content-Type: multipart/mixed; boundary="b0"\n\n'
    for i in range(levels):
        s += b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (i, i + 1)
    s += b'--b%d\nContent-Type: application/octet-stream; name="evil.exe"\n\nEVILPAYLOAD\n--b%d--\n' % (levels, levels)
    for i in range(levels - 1, -1, -1):
        s += b"--b%d--\n" % i
    return s


def nested_messages(levels):
    inner = b"From: x@example.com\nSubject: inner\nContent-Type: application/octet-stream; name=\"evil.exe\"\n\nEVILPAYLOAD\n"
    for _ in range(levels):
        inner = b"From: x@example.com\nSubject: wrap\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n" + inner
    return HDR + b"Content-Type: message/rfc822\n\n" + inner.split(b"\n", 3)[3]


def many_parts(n):
    s = HDR + b'Content-Type: multipart/mixed; boundary="p"\n\n'
    for i in range(n):
        s += b'--p\nContent-Type: application/octet-stream; name="f%d.bin"\n\nEVILPAYLOAD%d\n' % (i, i)
    return s + b"--p--\n"


# name, bytes, extra config, allowed exits, expected verdict, reasons that must be in the record
CASES = [
    ("empty input", b"", "", (1,), "rejected", ["malformed-message"]),
    ("headers only, no body", HDR, "", (0,), "clean", []),
    ("binary garbage", bytes(range(256)) * 4096, "", (0, 1), None, []),
    ("NUL bytes in header and body", HDR + b"X-Bad: a\x00b\nContent-Type: text/plain\n\nbody\x00with nul\n", "", (0,), None, []),
    ("1100 nested multiparts (GMime MAX_LEVEL is 1024)", nested_multiparts(1100), "", (0,), "suspect", ["limit:mime-depth"]),
    ("60 nested message/rfc822", nested_messages(60), "", (0,), "suspect", ["limit:mime-depth"]),
    ("5000 parts", many_parts(5000), "", (0,), "suspect", ["limit:parts"]),
    ("multipart without boundary", HDR + b"Content-Type: multipart/mixed\n\n--x\nContent-Type: application/octet-stream\n\nEVILPAYLOAD\n--x--\n",
     "", (0,), "suspect", ["parse-warning:crit-multipart-without-boundary"]),
    ("missing closing boundary", HDR + b'Content-Type: multipart/mixed; boundary="x"\n\n--x\nContent-Type: text/plain\n\nvisible\n--x\nContent-Type: application/octet-stream; name="a.exe"\n\nEVILPAYLOAD\n',
     "", (0,), "suspect", ["parse-warning:truncated-message", "executable-name"]),
    ("duplicate boundary parameter", HDR + b'Content-Type: multipart/mixed; boundary="one"; boundary="two"\n\n--two\nContent-Type: application/octet-stream\n\nEVILPAYLOAD\n--two--\n--one\nContent-Type: text/plain\n\nvisible\n--one--\n',
     "", (0,), "suspect", ["parse-warning:crit-conflicting-parameter"]),
    ("message/partial fragment", HDR + b'Content-Type: message/partial; id="abc@x"; number=1; total=2\n\nFrom: x@y\nContent-Type: application/octet-stream\n\nEVILPAYLOAD\n',
     "", (0,), "suspect", ["message-partial"]),
    ("S/MIME encrypted body", HDR + b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggFR\n",
     "", (0,), "suspect", ["encrypted"]),
    ("TNEF winmail.dat", HDR + b'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\nsee attached\n--m\nContent-Type: application/ms-tnef; name="winmail.dat"\nContent-Transfer-Encoding: base64\n\neJ8+IhAAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNy\n--m--\n',
     "", (0,), "suspect", ["tnef", "tnef-unreadable", "attachment"]),
    ("TNEF over [detect] archive_entries", tnef_mail([b"a.txt", b"b.txt", b"c.txt"]), "[detect]\narchive_entries = 2\n",
     (0,), "suspect", ["archive-bomb", "tnef"]),
    ("TNEF within the limits", tnef_mail([b"a.txt", b"b.txt"]), "[detect]\narchive_entries = 2\n", (0,), "sanitized",
     ["attachment", "tnef"]),
    ("TNEF of 200000 attachments", tnef_mail(None, tnef_attr(2, 0x00069002, b"\x01") * 200000), "", (0,), "suspect",
     ["archive-bomb", "tnef"]),
    ("TNEF attribute of 4 GiB", tnef_mail(None, tnef_attr(2, 0x0006800F, b"MZ")[:5] + b"\xf0\xff\xff\xff" + b"MZ" * 50),
     "", (0,), "suspect", ["tnef-unreadable"]),
    ("zip over [detect] archive_entries", zip_mail(["a.txt", "b.txt", "c.txt"]), "[detect]\narchive_entries = 2\n",
     (0,), "suspect", ["archive-bomb"]),
    ("zip of 36 KiB - 1 (whole in the walk's head), executable inside", zip_exe_mail(36 * 1024 - 1), "", (0,), "suspect", ["archive-executable"]),
    ("zip of 36 KiB (head full, nothing after it), executable inside", zip_exe_mail(36 * 1024), "", (0,), "suspect", ["archive-executable"]),
    ("zip of 36 KiB + 1 (spilled after the head), executable inside", zip_exe_mail(36 * 1024 + 1), "", (0,), "suspect", ["archive-executable"]),
    ("zip of 90 KiB, executable at its end", zip_exe_mail(90 * 1024), "", (0,), "suspect", ["archive-executable"]),
    ("message/rfc822 in base64 holding an executable", attached_message(b"message/rfc822", b"base64"), "", (0,), "suspect",
     ["message-encoded", "archive-executable"]),
    (".eml file holding an executable", attached_message(b'application/octet-stream; name="fw.eml"', b"base64"), "", (0,), "suspect",
     ["archive-executable"]),
    ("message/rfc822 in 7bit holding an executable (walked as a message)", attached_message(b"message/rfc822", b"7bit"), "", (0,),
     "suspect", ["executable"]),
    ("jpeg with a zip appended (in the walk's head)", jpeg_with_zip(2000), "", (0,), "suspect", ["polyglot", "archive-executable"]),
    ("jpeg of 300 KB with a zip appended", jpeg_with_zip(300000), "", (0,), "suspect", ["polyglot", "archive-executable"]),
    ("zip within the limits", zip_mail(["a.txt", "b.txt"]), "[detect]\narchive_entries = 2\n", (0,), "sanitized", ["attachment"]),
    ("part hidden in the preamble", HDR + b'Content-Type: multipart/mixed; boundary="b"\n\n--a\nContent-Type: application/octet-stream; name="x.exe"\n\nEVILPAYLOAD\n--a--\n--b\nContent-Type: text/plain\n\nvisible\n--b--\n',
     "", (0,), "suspect", ["mime-in-preamble"]),
    ("part hidden in the epilogue", HDR + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nvisible\n--b--\nContent-Type: application/octet-stream\n\nEVILPAYLOAD\n',
     "", (0,), "suspect", ["mime-in-preamble"]),
    ("ordinary preamble text", HDR + b'Content-Type: multipart/mixed; boundary="b"\n\nThis is a multi-part message in MIME format.\n--b\nContent-Type: text/plain\n\nvisible\n--b--\n',
     "", (0,), "clean", []),
    ("suspect with [policy] on_suspect = reject", zip_mail(["a.txt", "b.txt", "c.txt"]),
     "[detect]\narchive_entries = 2\n[policy]\non_suspect = reject\n", (1,), "rejected", ["archive-bomb", "policy:suspect-rejected"]),
    ("NUL bytes inside MIME headers (fuzz finding)", HDR + b'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\nhello\n--m\nContent-Type:' + b"\x00" * 40 + b' application/zip; name="a.zip"\nContent-Disposition:\x00\x00 attachment\nContent-Transfer-Encoding: base64\n\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\n--m--\n',
     "", (0,), None, []),
    ("unknown transfer encoding", HDR + b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64x\n\nRVZJTFBBWUxPQUQ=\n", "", (0,), "suspect", ["unknown-encoding"]),
    ("x-uuencode attachment", HDR + b'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a.bin\n+159)3%!!64Q/040`\n`\nend\n',
     "", (0,), "sanitized", ["attachment"]),
    ("long non-ASCII parameter (GMime #165)", HDR + b"Content-Type: text/plain; charset=utf-8; " + b"x" * 100 + b"*=UTF-8''%E3%81%82%E3%81%84\n\nbody\n", "", (0,), "clean", []),
    ("header block over the limit", HDR + b"X-Long: " + b"a" * 300000 + b"\nContent-Type: text/plain\n\nbody\n", "", (1,), "rejected", ["limit:header-bytes"]),
    ("message over the size limit", HDR + b"Content-Type: text/plain\n\n" + b"0123456789\n" * 200000, "[limits]\nmessage_size = 1M\n", (1,), "rejected", ["limit:message-size"]),
    ("text body over text_size", HDR + b"Content-Type: text/plain\n\n" + b"0123456789\n" * 20000, "[limits]\ntext_size = 64K\n", (0,), "sanitized", []),
    ("decoded size over the limit", many_parts(200), "[limits]\ndecoded_size = 1K\n", (0,), "suspect", ["limit:decoded-size"]),
    ("8 MB base64 attachment", HDR + b'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\nhi\n--m\nContent-Type: application/octet-stream; name="big.bin"\nContent-Transfer-Encoding: base64\n\n'
     + (b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n" * 110000) + b"--m--\n", "", (0,), "sanitized", ["attachment"]),
]


def main():
    mugai = sys.argv[1]
    t = Tap()
    for name, data, conf_extra, exits, verdict, reasons in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "in.eml")
            with open(src, "wb") as f:
                f.write(data)
            conf = os.path.join(tmp, "mugai.conf")
            with open(conf, "w", encoding="utf-8") as f:
                f.write(open(BASECONF, encoding="utf-8").read() + "\n" + conf_extra)
            audit = os.path.join(tmp, "audit.log")
            p, secs = run([mugai, "sanitize", "--config", conf, "--quarantine-dir", os.path.join(tmp, "q"),
                           "--audit-log", audit, src], timeout=10)
            problems = []
            if p is None:
                problems.append("did not finish within 10 s")
            else:
                if p.returncode not in exits:
                    problems.append("exit %d, want one of %s; stderr: %s" % (p.returncode, exits, p.stderr.decode(errors="replace")))
                if p.returncode == 0:
                    why = output_problems(p.stdout)
                    if why:
                        problems.append(why)
                    if b"EVILPAYLOAD" in p.stdout or b"RVZJTFBBWUxPQUQ" in p.stdout:
                        problems.append("hidden payload is in the output")
                recs = audit_records(audit)
                if len(recs) != 1:
                    problems.append("%d audit records" % len(recs))
                else:
                    rec = recs[0]
                    if verdict and rec["verdict"] != verdict:
                        problems.append("verdict %s, want %s (reasons %s)" % (rec["verdict"], verdict, rec["reasons"]))
                    allr = set(rec["reasons"]) | {r for pt in rec["parts"] for r in pt["reasons"]}
                    for r in reasons:
                        if r not in allr:
                            problems.append("reason %s missing (have %s)" % (r, sorted(allr)))
            # bounded memory: the largest child so far (ASan's shadow memory makes
            # its figures meaningless, so only the plain build is held to it)
            rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if "ASAN_OPTIONS" not in os.environ and rss_mb > 128:
                problems.append("peak RSS %.0f MB over 128 MB" % rss_mb)
            t.ok(not problems, "%s (exit %s, %.2f s, peak RSS so far %.0f MB)" % (name, p.returncode if p else "-", secs, rss_mb),
                 "\n".join(problems))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
