#!/usr/bin/env python3
"""Deterministic mail corpus for the Postfix benchmark (standard library only).

COUNT messages, about 400 KB on average, most of them with attachments, so
that mugai has real work: text/plain (UTF-8, ISO-2022-JP), text/html,
multipart/alternative, and multipart/mixed with 1-3 attachments (PDF-like,
a real ZIP/.docx, an MZ/PE executable, PNG, JPEG; 10 KB-1.7 MB, log-uniform)
some with RFC 2231 Japanese file names.  Message i is generated from its own
random.Random(seed * 100003 + i), so the bytes are the same on every machine
and every run; the last line printed is a digest of the whole corpus.

    gen_corpus.py --out DIR [--count 200] [--seed 20261122]

Writes DIR/msg-NNNN.eml (LF line ends) and DIR/MANIFEST.tsv
(name, kind, bytes, attachments, html parts).
"""
import argparse
import base64
import hashlib
import io
import math
import os
import quopri
import random
import struct
import sys
import zipfile
import zlib

JA_WORDS = ["見積書", "お世話になっております", "会議", "資料", "確認", "よろしくお願いいたします",
            "住民票", "申請", "予算", "議事録", "担当", "変更", "提出", "期限", "令和"]
EN_WORDS = ["report", "meeting", "budget", "please", "attached", "review", "schedule", "project",
            "invoice", "contract", "update", "draft", "minutes", "office", "deadline"]


def text_body(r, size, ja):
    words = JA_WORDS if ja else EN_WORDS
    out, n = [], 0
    line = []
    while n < size:
        w = r.choice(words)
        line.append(w)
        n += len(w.encode("utf-8")) + 1
        if len(line) >= (6 if ja else 10):
            out.append(("" if ja else " ").join(line) + ("。" if ja else "."))
            line = []
    out.append(" ".join(line))
    return "\n".join(out) + "\n"


def html_body(r, size, ja):
    paras = []
    n = 0
    while n < size:
        t = text_body(r, r.randint(200, 800), ja).replace("\n", " ")
        link = '<a href="https://www.example.co.jp/doc/%d">%s</a>' % (r.randint(1, 9999), "詳細" if ja else "details")
        p = "<p>%s %s</p>" % (t, link)
        if r.random() < 0.2:
            p += "<table><tr><td>%d</td><td>%d</td></tr></table>" % (r.randint(1, 99), r.randint(1, 99))
        paras.append(p)
        n += len(p.encode("utf-8"))
    return ("<html><head><meta charset=\"utf-8\"><style>p{margin:0}</style></head><body>%s"
            "<img src=\"cid:logo\" alt=\"%s\"></body></html>\n" % ("\n".join(paras), "ロゴ" if ja else "logo"))


def b64(data):
    return base64.encodebytes(data).decode("ascii")


def fake_pdf(r, size):
    head = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n3 0 obj << /Length "
            + str(size).encode() + b" >>\nstream\n")
    return head + r.randbytes(max(0, size - len(head) - 40)) + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def fake_docx(r, size):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        def add(name, data):
            zi = zipfile.ZipInfo(name, date_time=(2026, 11, 22, 0, 0, 0))
            z.writestr(zi, data)
        add("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        add("word/document.xml", b"<w:document>" + r.randbytes(max(0, size - 600)).hex().encode()[:max(0, size - 600)] + b"</w:document>")
    return buf.getvalue()


def fake_exe(r, size):
    mz = bytearray(b"MZ" + b"\x90\x00" + bytes(60))
    struct.pack_into("<I", mz, 60, 64)
    pe = b"PE\x00\x00" + struct.pack("<HH", 0x14C, 1) + bytes(16)
    body = b"This program cannot be run in DOS mode.\r\r\n$" + r.randbytes(max(0, size - 200))
    return bytes(mz) + pe + body


def fake_png(r, size):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 640, 480, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", r.randbytes(max(0, size - 60))) + chunk(b"IEND", b"")


def fake_jpeg(r, size):
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + r.randbytes(max(0, size - 24)) + b"\xff\xd9"


ATTACH = [  # (maker, content type, extension, Japanese name)
    (fake_pdf, "application/pdf", "pdf", "見積書"),
    (fake_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "議事録"),
    (fake_exe, "application/x-msdownload", "exe", "setup"),
    (fake_png, "image/png", "png", "画像"),
    (fake_jpeg, "image/jpeg", "jpg", "写真"),
]


def headers(r, i, subject_ja):
    ja = subject_ja
    if ja:
        subj = "=?UTF-8?B?%s?=" % base64.b64encode(("%s %d" % (r.choice(JA_WORDS), i)).encode()).decode()
    else:
        subj = "%s %d" % (r.choice(EN_WORDS), i)
    return ("From: Sender %d <sender%d@example.co.jp>\n"
            "To: staff%d@city.example.lg.jp\n"
            "Date: Sun, 22 Nov 2026 10:%02d:%02d +0900\n"
            "Message-ID: <bench-%06d@example.co.jp>\n"
            "Subject: %s\n"
            "MIME-Version: 1.0\n" % (i % 50, i % 50, i % 7, (i // 60) % 60, i % 60, i, subj))


def text_part(r, ja, size):
    t = text_body(r, size, ja)
    if ja and r.random() < 0.4:
        return ("Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n"
                + t.encode("iso2022_jp", "replace").decode("ascii") + "\n")
    return ("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            + quopri.encodestring(t.encode("utf-8")).decode("ascii") + "\n")


def html_part(r, ja, size):
    return ("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + b64(html_body(r, size, ja).encode("utf-8")))


def attachment(r, ja):
    maker, ctype, ext, jname = r.choice(ATTACH)
    size = int(math.exp(r.uniform(math.log(10_000), math.log(1_700_000))))
    data = maker(r, size)
    if ja and r.random() < 0.5:
        from urllib.parse import quote
        name = "%s_%d.%s" % (jname, r.randint(1, 99), ext)
        disp = "attachment;\n filename*=UTF-8''%s" % quote(name.encode("utf-8"))
    else:
        name = "file_%d.%s" % (r.randint(1, 999), ext)
        disp = 'attachment; filename="%s"' % name
    return ("Content-Type: %s\nContent-Disposition: %s\nContent-Transfer-Encoding: base64\n\n" % (ctype, disp)
            + b64(data))


def message(seed, i):
    r = random.Random(seed * 100003 + i)
    ja = r.random() < 0.6
    roll = r.random()
    out = headers(r, i, ja)
    nattach = nhtml = 0
    if roll < 0.15:
        kind = "plain"
        out += text_part(r, ja, r.randint(500, 20_000))
    elif roll < 0.27:
        kind = "html"
        nhtml = 1
        out += html_part(r, ja, r.randint(2_000, 60_000))
    elif roll < 0.42:
        kind = "alt"
        nhtml = 1
        size = r.randint(1_000, 30_000)
        out += ('Content-Type: multipart/alternative; boundary="alt-%d"\n\n--alt-%d\n%s--alt-%d\n%s--alt-%d--\n'
                % (i, i, text_part(r, ja, size), i, html_part(r, ja, size), i))
    else:
        kind = "attach"
        parts = []
        if r.random() < 0.5:
            parts.append(text_part(r, ja, r.randint(300, 5_000)))
        else:
            nhtml = 1
            size = r.randint(1_000, 20_000)
            parts.append('Content-Type: multipart/alternative; boundary="alt-%d"\n\n--alt-%d\n%s--alt-%d\n%s--alt-%d--\n'
                         % (i, i, text_part(r, ja, size), i, html_part(r, ja, size), i))
        nattach = r.choice((1, 1, 1, 2, 2, 3))
        for _ in range(nattach):
            parts.append(attachment(r, ja))
        out += 'Content-Type: multipart/mixed; boundary="mix-%d"\n\n' % i
        for p in parts:
            out += "--mix-%d\n%s" % (i, p if p.endswith("\n") else p + "\n")
        out += "--mix-%d--\n" % i
    return kind, out.encode("utf-8"), nattach, nhtml


def generate(out_dir, count, seed, quiet=False):
    os.makedirs(out_dir, exist_ok=True)
    digest = hashlib.sha256()
    total = 0
    rows = []
    for i in range(count):
        kind, data, na, nh = message(seed, i)
        name = "msg-%04d.eml" % i
        path = os.path.join(out_dir, name)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)
        digest.update(data)
        total += len(data)
        rows.append("%s\t%s\t%d\t%d\t%d\n" % (name, kind, len(data), na, nh))
    with open(os.path.join(out_dir, "MANIFEST.tsv"), "w") as f:
        f.write("name\tkind\tbytes\tattachments\thtml\n")
        f.writelines(rows)
    d = digest.hexdigest()[:16]
    with open(os.path.join(out_dir, "DIGEST"), "w") as f:
        f.write("%d %d %s\n" % (count, seed, d))
    if not quiet:
        kinds = {}
        for row in rows:
            k = row.split("\t")[1]
            kinds[k] = kinds.get(k, 0) + 1
        print("corpus: %d messages, %.1f MB, mean %.0f KB, %s, digest %s" % (
            count, total / 1e6, total / count / 1e3, " ".join("%s=%d" % kv for kv in sorted(kinds.items())), d))
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261122)
    a = ap.parse_args()
    generate(a.out, a.count, a.seed)


if __name__ == "__main__":
    sys.exit(main())
