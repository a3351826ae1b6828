#!/usr/bin/env python3
"""Every parser trick, checked by parsers that are not GMime (issue 4, item 2).

Each case hides an attachment in a message by a MIME trick; the attachment's
payload starts with a marker ("MUGAI-HIDDEN-") followed by bytes unique to the
case.  For each case `mugai sanitize` must give the exit code, the verdict and
the reasons listed (message reasons and the reasons of all parts, exactly),
and no form of the payload may be found in the output:

  - its bytes, its base64 (as encoded in the original, and in the three
    alignments mugai's own base64 body would give it), its quoted-printable
    and its uuencode, searched in
  - the output as it is, Python's email (policy default and compat32)
    decoding every part (base64, quoted-printable, uuencode), and every file
    ripmime extracts from the output; each also with blanks and QP soft line
    breaks taken out.

The original is read the same way: each case lists which parsers find the
payload in it ("python", "ripmime", and "gmime" when mugai's audit record
has a removed part with the payload's SHA-256).  At least one of Python and
ripmime must find it -- a trick nobody falls for tests nothing -- unless the
case says which client would and why neither of them does.  Controls (no
payload) show that ordinary mail is not flagged.

Usage: differential.py MUGAI   (TAP; needs ripmime)
"""
import base64
import binascii
import email
import email.policy
import hashlib
import os
import quopri
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tapcommon import BASECONF, SRC, Tap, audit_records, output_problems, run  # noqa: E402

MARK = b"MUGAI-HIDDEN-"
HDR = b"From: a@example.com\nTo: b@example.jp\nSubject: trick\nMIME-Version: 1.0\n"


def payload(tag):
    """The hidden file of case TAG: the marker, then bytes no text has."""
    return MARK + tag.encode() + b"-" + hashlib.sha256(tag.encode()).digest() + bytes(range(0x80, 0x100))


def b64(p):
    return base64.encodebytes(p)


def uu(p, name=b"data.bin"):
    body = b"".join(binascii.b2a_uu(p[i:i + 45]) for i in range(0, len(p), 45))
    return b"begin 644 " + name + b"\n" + body + b"`\nend\n"


def mixed(boundary, *parts, ct=None, end=True):
    """A multipart/mixed message: PARTS are (headers, body) byte pairs."""
    ct = ct or b'Content-Type: multipart/mixed; boundary="' + boundary + b'"'
    s = HDR + ct + b"\n\n"
    for h, body in parts:
        s += b"--" + boundary + b"\n" + h + b"\n\n" + body
        if not body.endswith(b"\n"):
            s += b"\n"
    return s + (b"--" + boundary + b"--\n" if end else b"")


TEXT = (b"Content-Type: text/plain", b"visible\n")


def attach(p, name=b"data.bin"):
    return (b'Content-Type: application/octet-stream; name="' + name + b'"\nContent-Transfer-Encoding: base64', b64(p))


def hidden_attach(p, name=b"data.bin"):
    """The header block and base64 body of a hidden part, as one text."""
    return (b'Content-Type: application/octet-stream; name="' + name + b'"\n'
            b"Content-Transfer-Encoding: base64\n\n" + b64(p))


def nested(levels, p):
    s = HDR + b'Content-Type: multipart/mixed; boundary="n0"\n\n'
    for i in range(levels):
        s += b'--n%d\nContent-Type: multipart/mixed; boundary="n%d"\n\n' % (i, i + 1)
    s += b"--n%d\n" % levels + hidden_attach(p) + b"--n%d--\n" % levels
    for i in range(levels - 1, -1, -1):
        s += b"--n%d--\n" % i
    return s


def golden(name):
    with open(os.path.join(SRC, "test", "golden", name), "rb") as f:
        return f.read()


def case(name, data, verdict, reasons, part_reasons, found, p=None, exit=0, conf="", why=None, max_secs=10):
    return dict(name=name, data=data, verdict=verdict, reasons=sorted(reasons), part_reasons=sorted(part_reasons),
                found=sorted(found), payload=p, exit=exit, conf=conf, why=why, max_secs=max_secs)


def cases():
    out = []

    def add(tag, build, *args, **kw):
        p = payload(tag)
        out.append(case(tag, build(p), *args, p=p, **kw))

    # ---- the tricks of test/hostile.py that hide something ----
    add("no-boundary", lambda p: HDR + b"Content-Type: multipart/mixed\n\n--x\n" + hidden_attach(p) + b"--x--\n",
        "suspect", ["parse-warning:crit-multipart-without-boundary", "mime-in-preamble"], [], ["ripmime"])
    add("closing-boundary-missing", lambda p: mixed(b"x", TEXT, attach(p), end=False),
        "sanitized", ["parse-warning:truncated-message"], ["attachment"], ["gmime", "python", "ripmime"],
        why="not hidden: every parser, GMime too, reads the last part up to the end")
    add("duplicate-boundary-param", lambda p: HDR + b'Content-Type: multipart/mixed; boundary="one"; boundary="two"\n\n'
        b"--two\n" + hidden_attach(p) + b"--two--\n--one\nContent-Type: text/plain\n\nvisible\n--one--\n",
        "suspect", ["parse-warning:crit-conflicting-parameter", "boundary-mismatch", "mime-in-preamble"], [], ["ripmime"])
    add("message-partial", lambda p: HDR + b'Content-Type: message/partial; id="abc@x"; number=1; total=2\n\n'
        b"From: x@example.com\nMIME-Version: 1.0\n" + hidden_attach(p),
        "suspect", [], ["attachment", "message-partial"], ["python", "ripmime"])
    add("part-in-preamble", lambda p: HDR + b'Content-Type: multipart/mixed; boundary="b"\n\n--B\n' + hidden_attach(p)
        + b"--b\nContent-Type: text/plain\n\nvisible\n--b--\n",
        "suspect", ["boundary-mismatch", "mime-in-preamble"], [], [],
        why="Python and ripmime skip the preamble as GMime does; only a client taking the other-case boundary there sees the part")
    add("part-in-epilogue", lambda p: mixed(b"b", TEXT) + b"--b\n" + hidden_attach(p) + b"--b--\n",
        "suspect", ["mime-in-preamble"], [], ["ripmime"])
    add("nul-in-mime-headers", lambda p: mixed(b"m", TEXT, (b"Content-Type:" + b"\x00" * 40 + b' application/zip; name="a.zip"\n'
        b"Content-Disposition:\x00\x00 attachment\nContent-Transfer-Encoding: base64", b64(p))),
        "sanitized", ["parse-warning:invalid-content-type"], ["attachment"], ["gmime", "python", "ripmime"],
        why="not hidden: GMime takes the part for an octet stream and removes it")
    add("unknown-encoding-file", lambda p: HDR + b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64x\n\n" + b64(p),
        "suspect", [], ["attachment", "unknown-encoding"], ["ripmime"])
    add("unknown-encoding-text", lambda p: mixed(b"B", (b"Content-Type: text/plain\nContent-Transfer-Encoding: base64x", b64(p))),
        "suspect", [], ["unknown-encoding"], ["ripmime"])
    add("x-uuencode-file", lambda p: HDR + b'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: x-uuencode\n\n' + uu(p),
        "sanitized", [], ["attachment"], ["gmime", "python", "ripmime"], why="not hidden: GMime decodes x-uuencode too")
    add("chunked-base64", lambda p: mixed(b"c", TEXT, (b'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: base64',
        b"".join(base64.b64encode(p[i:i + 10]) + b"\n" for i in range(0, len(p), 10)))),
        "suspect", [], ["attachment", "base64-after-padding"], ["gmime"],
        why="Python and ripmime stop at the first padding, as GMime 3.2.13 does (its #150); mugai's own decoder "
            "reads on, as a lenient client may, and removes the whole file")
    add("limit-depth", lambda p: nested(8, p), "suspect", ["limit:mime-depth"], ["limit:mime-depth"], ["python", "ripmime"],
        conf="[limits]\nmime_depth = 5\n")
    add("limit-parts", lambda p: HDR + b'Content-Type: multipart/mixed; boundary="p"\n\n'
        + b"".join(b'--p\nContent-Type: application/octet-stream; name="f%d.bin"\n\nfiller %d\n' % (i, i) for i in range(30))
        + b"--p\n" + hidden_attach(p) + b"--p--\n",
        "suspect", ["limit:parts"], ["attachment"], ["python", "ripmime"], conf="[limits]\nparts = 20\n")

    add("message-rfc822-base64", lambda p: mixed(b"m", TEXT, (b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64",
        b64(b"From: x@example.com\nSubject: inner\nMIME-Version: 1.0\n" + hidden_attach(p)))),
        "suspect", [], ["attachment", "message-encoded"], ["ripmime"])
    add("gmime-max-level", lambda p: nested(1100, p), "suspect",
        ["boundary-mismatch", "limit:mime-depth", "limit:parts", "parse-warning:crit-nesting-overflow"],
        ["limit:mime-depth"], ["ripmime"])
    add("nested-messages", lambda p: HDR + b"Content-Type: message/rfc822\n\n" + b"".join(
        b"From: x@example.com\nSubject: wrap\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n" for _ in range(7))
        + b"From: x@example.com\nSubject: inner\nMIME-Version: 1.0\n" + hidden_attach(p),
        "suspect", ["limit:mime-depth"], ["limit:mime-depth"], ["python", "ripmime"], conf="[limits]\nmime_depth = 5\n")

    # ---- the golden duplicate Content-Type (its payload is the text "hidden payload") ----
    out.append(case("golden duplicate-content-type", golden("duplicate-content-type.eml"), "suspect",
                    ["parse-warning:crit-conflicting-header"], ["attachment"], ["gmime", "python", "ripmime"],
                    p=b"hidden payload"))

    # ---- what the raw look finds ----
    add("boundary-case", lambda p: mixed(b"OUTER", (b"Content-Type: text/plain", b"visible\n--outer\n" + hidden_attach(p))),
        "suspect", ["boundary-mismatch", "mime-in-body"], ["boundary-mismatch", "mime-in-body"], ["ripmime"])
    add("boundary-trailing-junk", lambda p: mixed(b"B", (b"Content-Type: text/plain", b"visible\n--Bjunk\n" + hidden_attach(p))),
        "suspect", ["boundary-mismatch", "mime-in-body"], ["boundary-mismatch", "mime-in-body"], ["ripmime"])
    add("boundary-trailing-blank", lambda p: mixed(b"B", TEXT, attach(p)).replace(b"\n--B\nContent-Type: application", b"\n--B  \nContent-Type: application"),
        "suspect", ["boundary-mismatch"], ["attachment"], ["gmime", "python", "ripmime"],
        why="GMime and Python allow blanks after a boundary; stricter parsers (zbateson/mail-mime-parser#266) do not")
    add("boundary-unquoted-blank", lambda p: mixed(b"abc def", TEXT, ct=b"Content-Type: multipart/mixed; boundary=abc def")
        .replace(b"visible\n", b"visible\n--abc\n" + hidden_attach(p)),
        "suspect", ["boundary-mismatch", "mime-in-body"], ["boundary-mismatch", "mime-in-body"], ["python", "ripmime"])
    add("boundary-rfc2231", lambda p: mixed(b"abc", TEXT, attach(p), ct=b"Content-Type: multipart/mixed; boundary*=''abc"),
        "suspect", ["boundary-mismatch"], ["attachment"], ["gmime", "python", "ripmime"],
        why="GMime, Python and ripmime decode RFC 2231; a client that does not sees no boundary at all")
    add("boundary-rfc2231-and-plain", lambda p: mixed(b"abc", TEXT, attach(p), ct=b"Content-Type: multipart/mixed; boundary=\"xyz\"; boundary*=''abc"),
        "suspect", ["parse-warning:crit-conflicting-parameter", "parse-warning:truncated-message", "boundary-mismatch", "mime-in-preamble"],
        [], [], why="GMime, Python and ripmime all split on xyz and see no part; a client preferring boundary* splits on abc")
    add("boundary-in-disposition", lambda p: mixed(b"B", TEXT, attach(p), ct=b'Content-Type: multipart/mixed\nContent-Disposition: inline; boundary="B"'),
        "suspect", ["parse-warning:crit-multipart-without-boundary", "boundary-mismatch", "mime-in-preamble"], [], ["ripmime"])
    add("boundary-empty", lambda p: mixed(b"", TEXT, attach(p), ct=b'Content-Type: multipart/mixed; boundary=""'),
        "suspect", ["boundary-mismatch"], ["attachment"], ["gmime", "python", "ripmime"],
        why="GMime and Python accept the empty boundary; then every \"--\" line of any body is one")
    add("boundary-never-used", lambda p: HDR + b'Content-Type: multipart/mixed; boundary="NEVER"\n\n' + uu(p),
        "suspect", ["parse-warning:truncated-message", "boundary-mismatch"], [], ["ripmime"])
    add("nested-reuses-boundary", lambda p: HDR + b'Content-Type: multipart/mixed; boundary="B"\n\n'
        b'--B\nContent-Type: multipart/alternative; boundary="B"\n\n--B\nContent-Type: text/plain\n\nvisible\n--B--\n'
        b"--B\n" + hidden_attach(p) + b"--B--\n",
        "suspect", ["boundary-mismatch"], ["attachment"], ["gmime", "ripmime"],
        why="GMime checks the innermost boundary first and sees the file as the outer part 2; Python does not")
    add("dash-line-in-base64", lambda p: mixed(b"B", (b'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: base64',
        b64(b"harmless start " * 4) + b"--B--\n" + b64(p))),
        "suspect", ["mime-in-preamble"], ["attachment"], [],
        why="every parser ends the part at the end boundary and leaves the rest unread; the rest is the epilogue GMime reports")
    add("dash-line-in-base64-other-case", lambda p: mixed(b"B", (b'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: base64',
        b64(p) + b"--b--\n" + b64(b"tail"))),
        "suspect", ["boundary-mismatch"], ["attachment", "base64-bad-char", "boundary-mismatch"], ["python", "ripmime"])
    add("resync-on-headers", lambda p: mixed(b"B", (b"Content-Type: text/plain", b"visible\n--zzz\n" + hidden_attach(p))),
        "suspect", ["mime-in-body"], ["mime-in-body"], ["ripmime"])
    add("resync-mid-body", lambda p: mixed(b"B", (b"Content-Type: text/plain", b"visible\n\n" + hidden_attach(p))),
        "suspect", ["mime-in-body"], ["mime-in-body"], ["ripmime"])
    add("resync-quoted-printable", lambda p: mixed(b"B", (b"Content-Type: text/plain",
        b"visible\nContent-Transfer-Encoding: quoted-printable\n\n" + quopri.encodestring(p) + b"\n")),
        "suspect", ["mime-in-body"], ["mime-in-body"], ["ripmime"])
    add("resync-file-name-folded", lambda p: mixed(b"B", (b"Content-Type: text/plain; charset=iso-8859-1",
        b"visible\n\nContent-Type: application/octet-stream;\n name=\"a.bin\"\n\n" + p + b"\n")),
        "suspect", ["mime-in-body"], ["mime-in-body"], ["python", "ripmime"])
    add("boundary-blank-after-dashes", lambda p: mixed(b"Bnd7", (b"Content-Type: text/plain", b"visible\n-- Bnd7\n" + hidden_attach(p))),
        "suspect", ["boundary-mismatch", "mime-in-body"], ["boundary-mismatch", "mime-in-body"], ["ripmime"])
    add("duplicate-cte", lambda p: mixed(b"B", (b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\nContent-Transfer-Encoding: 7bit", b64(p))),
        "suspect", ["parse-warning:crit-conflicting-header"], ["parse-warning:crit-conflicting-header"], ["python"])
    add("content-type-multipart-then-text", lambda p: mixed(b"B", TEXT, attach(p),
        ct=b'Content-Type: multipart/mixed; boundary="B"\nContent-Type: text/plain'),
        "suspect", ["parse-warning:crit-conflicting-header", "boundary-mismatch", "mime-in-body"],
        ["parse-warning:crit-conflicting-header", "boundary-mismatch", "mime-in-body"], ["python", "ripmime"])
    add("content-type-comment", lambda p: mixed(b"B", TEXT, attach(p), ct=b'Content-Type: multipart/mixed (comment); boundary="B"'),
        "sanitized", [], ["attachment"], ["gmime", "python", "ripmime"], why="not hidden: GMime reads the comment as Python and ripmime do")
    add("base64-garbage", lambda p: mixed(b"B", TEXT, (b'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: base64',
        b64(p[:60]) + b"!!! *** ### !!!\n" + b64(p[60:]))),
        "sanitized", [], ["attachment", "base64-bad-char"], ["gmime", "python", "ripmime"],
        why="not hidden: every decoder skips the garbage, mugai's too; the removed file is the whole of it")
    add("lone-cr-lines", lambda p: mixed(b"B", (b"Content-Type: text/plain", b"visible\r--B\r" + hidden_attach(p).replace(b"\n", b"\r"))),
        "suspect", ["boundary-mismatch", "mime-in-body"], ["boundary-mismatch", "mime-in-body"], ["python"])
    add("crlf-and-lf-mixed", lambda p: mixed(b"B", TEXT, attach(p)).replace(b"\n", b"\r\n").replace(b"\r\n--B\r\n", b"\n--B\n"),
        "sanitized", [], ["attachment"], ["gmime", "python", "ripmime"], why="not hidden: every parser takes both line ends")
    add("cte-after-lone-cr", lambda p: mixed(b"B", (b"Content-Type: text/plain\rContent-Transfer-Encoding: base64", b64(p))),
        "suspect", ["folded-header"], ["attachment", "folded-header"], ["python", "ripmime"])
    add("cte-folded", lambda p: mixed(b"B", (b"Content-Type: text/plain;\n Content-Transfer-Encoding: base64", b64(p))),
        "suspect", ["parse-warning:invalid-parameter", "folded-header"], ["folded-header"], [],
        why="only a parser reading each physical header line as a field takes the CTE; GMime, Python and ripmime unfold it")
    add("content-type-after-lone-cr-in-subject", lambda p: mixed(b"B", TEXT, attach(p), ct=b"X-Note: see below\rContent-Type: multipart/mixed; boundary=\"B\""),
        "suspect", ["folded-header", "boundary-mismatch", "mime-in-body"], ["folded-header", "boundary-mismatch", "mime-in-body"],
        ["python", "ripmime"])
    add("message-rfc822-reuses-boundary", lambda p: mixed(b"B", TEXT, (b"Content-Type: message/rfc822",
        b"From: x@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\n" + hidden_attach(p) + b"--B--\n")),
        "suspect", ["boundary-mismatch"], ["attachment"], ["gmime", "python", "ripmime"])

    # ---- bounded: shapes that would make a careless raw look quadratic ----
    def bounded(name, data, verdict, reasons, part_reasons):
        out.append(case("bounded: " + name, data, verdict, reasons, part_reasons, [], max_secs=5))
    bounded("80000 boundary= on one 6 MB line", HDR + b"Content-Type: text/plain\n\nboundary="
            + b" boundary=".join([b"a" * 66] * 80000) + b"\n", "suspect", ["boundary-mismatch"], [])
    bounded("a million unterminated quotes", HDR + b"Content-Type: text/plain\n\n" + b'boundary="x ' * 1000000 + b"\n",
            "suspect", ["boundary-mismatch"], ["text-too-large"])
    bounded("3000 boundaries, 300000 lines starting with --", HDR + b"".join(b"X-B: boundary=bnd%05d\n" % i for i in range(3000))
            + b"Content-Type: text/plain\n\n" + b"--bnd0\n--x\n--bnd02999\n" * 100000,
            "suspect", ["boundary-mismatch"], ["boundary-mismatch"])
    bounded("a dash line as long as a 250-byte boundary, 20000 times", HDR + b'Content-Type: multipart/mixed; boundary="' + b"a" * 250
            + b'b"\n\n--' + b"a" * 250 + b"b\nContent-Type: text/plain\n\n" + (b"--" + b"a" * 250 + b"\n") * 20000
            + b"--" + b"a" * 250 + b"b--\n", "clean", [], [])
    bounded("400000 lone CRs", HDR + b"Content-Type: text/plain\n\n" + b"--x\rContent-Type: a/b; name=x\r" * 200000,
            "suspect", ["mime-in-body"], ["mime-in-body"])
    bounded("5000 multiparts, each its own boundary", HDR + b'Content-Type: multipart/mixed; boundary="p"\n\n' + b"".join(
            b'--p\nContent-Type: multipart/mixed; boundary="q%d"\n\n--q%d\nContent-Type: text/plain\n\nx\n--q%d--\n' % (i, i, i)
            for i in range(5000)) + b"--p--\n", "suspect", ["boundary-mismatch", "limit:parts"], [])

    # ---- controls: ordinary mail the raw look must leave alone ----
    def control(name, data, verdict, part_reasons):
        out.append(case("control: " + name, data, verdict, [], part_reasons, []))
    control("nested boundaries, one a prefix of the other", HDR + b'Content-Type: multipart/mixed; boundary="abc"\n\n'
            b'--abc\nContent-Type: multipart/alternative; boundary="abcdef"\n\n--abcdef\nContent-Type: text/plain\n\nvisible\n'
            b"--abcdef--\n--abc\n" + hidden_attach(b"plain file") + b"--abc--\n", "sanitized", ["attachment"])
    control("dashes, signature, PGP armour and pasted headers in a text", mixed(b"------------AbC123", (b"Content-Type: text/plain",
            b"Hello\n--\n-- \n----------\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nsigned\n-----END PGP SIGNATURE-----\n"
            b"\nheaders of the spam, as asked:\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
            b"an HTTP answer:\nContent-Type: application/json\n\n{}\n"
            b"-------- Forwarded Message --------\nSubject: old\nFrom: x@example.com\n\nold text\n"
            b"------------AbC12\n")), "clean", [])
    control("bounce with text/rfc822-headers", HDR.replace(b"Subject: trick", b"Subject: Undelivered Mail")
            + b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
            b"--r\nContent-Type: text/plain\n\nmail could not be delivered\n"
            b"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; x@example.jp\nAction: failed\nStatus: 5.1.1\n"
            b"--r\nContent-Type: text/rfc822-headers\n\nFrom: b@example.jp\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"orig\"\n"
            b"Content-Transfer-Encoding: 7bit\n--r--\n", "sanitized", ["attachment"])
    control("DKIM h= list folded at Content-Type", HDR.replace(b"MIME-Version", b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1;\n"
            b" h=From:To:Subject:MIME-Version:\n Content-Type:Content-Transfer-Encoding:Date;\n Content-Disposition:Message-ID; b=AAAA\nMIME-Version")
            + b"Content-Type: text/plain\n\nhello\n", "clean", [])
    control("CRLF mail with an HTML alternative and a file", mixed(b"----=_Part_1_2.3", (b"Content-Type: text/plain; charset=us-ascii", b"hello\n"),
            attach(b"plain file"))
            .replace(b"\n", b"\r\n"), "sanitized", ["attachment"])
    return out


# ---- the views ----

def needles(p):
    """Every form of payload P that would betray it."""
    if not p.startswith(MARK):
        return [p]
    out = [MARK, base64.b64encode(p)[:48], quopri.encodestring(p).replace(b"=\n", b"")[:48],
           binascii.b2a_uu(p[:45]).rstrip(b"\n")]
    for k in range(3):  # P anywhere inside a text that was base64-encoded as a whole
        e = base64.b64encode(b"x" * k + p)
        out.append(e[4:28] if k else e[:24])
    return out


def python_views(data):
    views = []
    for pol in (email.policy.default, email.policy.compat32):
        try:
            msg = email.message_from_bytes(data, policy=pol)
            parts = list(msg.walk())
        except Exception as e:  # a parser giving up finds nothing
            views.append(("python %s: %s" % (pol.__class__.__name__, e), b""))
            continue
        for part in parts:
            if part.is_multipart():
                continue
            try:
                views.append(("python decoded", part.get_payload(decode=True) or b""))
                raw = part.get_payload(decode=False)
                views.append(("python raw", raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""))
                if pol is email.policy.default and part.get_content_maintype() == "text":
                    views.append(("python text", part.get_content().encode("utf-8", "surrogateescape")))
            except Exception:
                pass
    return views


def ripmime_views(data, tmp):
    src = os.path.join(tmp, "rip.eml")
    dst = os.path.join(tmp, "rip")
    shutil.rmtree(dst, ignore_errors=True)
    os.mkdir(dst)
    with open(src, "wb") as f:
        f.write(data)
    subprocess.run(["ripmime", "-i", src, "-d", dst], capture_output=True, timeout=20)
    views = []
    for root, _, names in os.walk(dst):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                views.append(("ripmime " + n, f.read()))
    return views


def variants(blob):
    yield blob
    yield re.sub(rb"\s+", b"", blob)
    yield blob.replace(b"=\r\n", b"").replace(b"=\n", b"")


def betrayed(views, forms):
    for name, blob in views:
        for v in variants(blob):
            for n in forms:
                if n in v:
                    return "%s holds %r" % (name, n[:24])
    return None


def finders(data, p, tmp, rec):
    """Which parsers find payload P in DATA, decoded."""
    found = set()
    if any(p in blob for name, blob in python_views(data) if name == "python decoded"):
        found.add("python")
    if any(p in blob for _, blob in ripmime_views(data, tmp)):
        found.add("ripmime")
    sha = hashlib.sha256(p).hexdigest()
    if rec and any(pt["sha256"] == sha and pt["action"] == "removed" for pt in rec["parts"]):
        found.add("gmime")
    return found


def main():
    mugai = sys.argv[1]
    t = Tap()
    if not shutil.which("ripmime"):
        print("1..0 # SKIP ripmime is not installed (test/install-deps.sh)")
        return 0
    for c in cases():
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "in.eml")
            with open(src, "wb") as f:
                f.write(c["data"])
            conf = os.path.join(tmp, "mugai.conf")
            with open(conf, "w", encoding="utf-8") as f:
                f.write(open(BASECONF, encoding="utf-8").read() + "\n" + c["conf"])
            audit = os.path.join(tmp, "audit.log")
            proc, secs = run([mugai, "sanitize", "--config", conf, "--quarantine-dir", os.path.join(tmp, "q"),
                              "--audit-log", audit, src], timeout=10)
            problems = []
            recs = audit_records(audit)
            rec = recs[0] if len(recs) == 1 else None
            if proc is None or secs > c["max_secs"]:
                problems.append("took %.1f s, the bound is %d s" % (secs, c["max_secs"]))
            elif proc.returncode != c["exit"]:
                problems.append("exit %d, want %d: %s" % (proc.returncode, c["exit"], proc.stderr.decode(errors="replace")))
            if rec is None:
                problems.append("%d audit records" % len(recs))
            else:
                parts = sorted({r for pt in rec["parts"] for r in pt["reasons"]})
                if rec["verdict"] != c["verdict"]:
                    problems.append("verdict %s, want %s" % (rec["verdict"], c["verdict"]))
                if sorted(rec["reasons"]) != c["reasons"]:
                    problems.append("message reasons %s, want %s" % (sorted(rec["reasons"]), c["reasons"]))
                if parts != c["part_reasons"]:
                    problems.append("part reasons %s, want %s" % (parts, c["part_reasons"]))
            if proc is not None and proc.returncode == 0:
                out = proc.stdout
                why = output_problems(out)
                if why:
                    problems.append(why)
                if c["payload"] is not None:
                    views = [("output", out)] + python_views(out) + ripmime_views(out, tmp)
                    leak = betrayed(views, needles(c["payload"]))
                    if leak:
                        problems.append("hidden payload in the output: " + leak)
            if c["payload"] is not None:
                found = sorted(finders(c["data"], c["payload"], tmp, rec))
                if found != c["found"]:
                    problems.append("in the original the payload is found by %s, want %s" % (found, c["found"]))
                if not {"python", "ripmime"} & set(found) and not c["why"]:
                    problems.append("neither Python nor ripmime finds the payload in the original, and the case does not say why")
            desc = "%s: %s %s (%.2f s)" % (c["name"], rec["verdict"] if rec else "-", ", ".join(c["reasons"]) or "-", secs)
            if c["why"]:
                desc += " -- " + c["why"]
            t.ok(not problems, desc, "\n".join(problems))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
