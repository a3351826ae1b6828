#!/usr/bin/env python3
"""A minimal SMTP sink on loopback that stores every message it receives.

Standard library only (no smtpd/aiosmtpd: smtpd is gone in Python 3.12).  One
thread per connection; speaks EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT and
advertises 8BITMIME (so Postfix relays 8-bit mail unchanged), PIPELINING and
SIZE.  Each message is written as DIR/NNNNNN.eml (the bytes after the DATA
command, dot-unstuffed, CRLF line ends as received) with DIR/NNNNNN.json beside
it ({"mail_from", "rcpt", "client", "helo", "size", "time"}); the .eml is
written under a temporary name and renamed, and the .json comes last, so a
.json always has its complete .eml.  The reply to the final dot is
"250 2.0.0 Ok: queued as NNNNNN", so the sender's log ties its queue ID to the
stored file.  With --discard nothing is stored (for benchmarks).

In a test:   s = Sink(dir); s.start(); ... s.port ... s.wait_for(n, 30); s.stop()
By hand:     sink.py --dir DIR [--port N] [--pidfile F] [--portfile F]
             [--max-seconds S] [--discard]
It listens on 127.0.0.1 only and exits after --max-seconds (default 3600).
"""
import argparse
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time

MAX_LINE = 1 << 20          # longest line we accept (command or data line)
MAX_MESSAGE = 256 << 20     # bigger messages get 552
IDLE_TIMEOUT = 120          # seconds a connection may stay silent


class _Handler(socketserver.StreamRequestHandler):
    timeout = IDLE_TIMEOUT

    def reply(self, text):
        self.request.sendall(text.encode("ascii") + b"\r\n")

    def handle(self):
        sink = self.server.sink
        helo, mail_from, rcpts = "", None, []
        self.reply("220 sink.test ESMTP mugai test sink")
        try:
            while True:
                line = self.rfile.readline(MAX_LINE)
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("latin-1")
                verb = cmd[:4].upper()
                arg = cmd[4:].strip()
                if verb == "EHLO":
                    helo = arg
                    self.reply("250-sink.test\r\n250-PIPELINING\r\n250-SIZE %d\r\n"
                               "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES" % MAX_MESSAGE)
                elif verb == "HELO":
                    helo = arg
                    self.reply("250 sink.test")
                elif verb == "MAIL":
                    if not arg.upper().startswith("FROM:"):
                        self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
                        continue
                    mail_from, rcpts = _address(arg[5:]), []
                    self.reply("250 2.1.0 Ok")
                elif verb == "RCPT":
                    if mail_from is None:
                        self.reply("503 5.5.1 Error: need MAIL command")
                    elif not arg.upper().startswith("TO:"):
                        self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
                    else:
                        rcpts.append(_address(arg[3:]))
                        self.reply("250 2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpts:
                        self.reply("503 5.5.1 Error: need RCPT command")
                        continue
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    self.too_big = False
                    data = self.read_data()
                    if data is None:
                        return
                    if self.too_big:
                        self.reply("552 5.3.4 Message too big")
                    elif sink.tempfail:
                        self.reply("451 4.3.0 Sink told to tempfail")
                    else:
                        name = sink.store(data, {"mail_from": mail_from, "rcpt": rcpts,
                                                 "client": self.client_address[0], "helo": helo})
                        self.reply("250 2.0.0 Ok: queued as %s" % name)
                    mail_from, rcpts = None, []
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    self.reply("250 2.0.0 Ok")
                elif verb == "NOOP":
                    self.reply("250 2.0.0 Ok")
                elif verb == "QUIT":
                    self.reply("221 2.0.0 Bye")
                    return
                else:
                    self.reply("502 5.5.2 Error: command not recognized")
        except (OSError, socket.timeout):
            return

    def read_data(self):
        """The message up to the final dot, dot-unstuffed; None if the peer went away."""
        chunks, size = [], 0
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(chunks)
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size <= MAX_MESSAGE:
                chunks.append(line)
            else:
                chunks = [b""]     # too big: drop the bytes, keep reading to the dot
                self.too_big = True


def _address(s):
    s = s.strip()
    if s.startswith("<"):
        end = s.find(">")
        return s[1:end] if end > 0 else s[1:]
    return s.split()[0] if s else ""


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Sink:
    """The SMTP sink: start() listens on 127.0.0.1:port (0 = pick a free port)."""

    def __init__(self, directory, port=0, discard=False):
        self.dir = directory
        self.discard = discard
        self.tempfail = False      # set to answer 451 to every message
        self.count = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _Handler, bind_and_activate=True)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = None
        if not discard:
            os.makedirs(directory, exist_ok=True)

    def store(self, data, envelope):
        with self._lock:
            self.count += 1
            name = "%06d" % self.count
        if self.discard:
            return name
        envelope = dict(envelope, size=len(data), time=time.time())
        path = os.path.join(self.dir, name)
        with open(path + ".eml.tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".eml.tmp", path + ".eml")
        with open(path + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(envelope, f)
        os.rename(path + ".json.tmp", path + ".json")
        return name

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread:
            self._server.shutdown()
            self._thread.join(10)
            self._thread = None
        self._server.server_close()

    def messages(self):
        """Names (NNNNNN) of the complete stored messages, in arrival order."""
        if self.discard or not os.path.isdir(self.dir):
            return []
        return sorted(f[:-5] for f in os.listdir(self.dir) if f.endswith(".json"))

    def wait_for(self, n, timeout):
        """Wait until at least N messages are stored; returns the names (maybe fewer)."""
        end = time.monotonic() + timeout
        while True:
            names = self.messages() if not self.discard else [None] * self.count
            if len(names) >= n or time.monotonic() > end:
                return names
            time.sleep(0.05)

    def read(self, name):
        """(message bytes, envelope dict) of a stored message."""
        path = os.path.join(self.dir, name)
        with open(path + ".eml", "rb") as f:
            data = f.read()
        with open(path + ".json", encoding="utf-8") as f:
            return data, json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default="", help="where to store messages")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free one)")
    ap.add_argument("--pidfile", default="")
    ap.add_argument("--portfile", default="", help="write the port here once listening")
    ap.add_argument("--max-seconds", type=float, default=3600, help="exit after this long")
    ap.add_argument("--discard", action="store_true", help="count messages, store nothing")
    a = ap.parse_args()
    if not a.discard and not a.dir:
        ap.error("--dir is needed unless --discard")
    sink = Sink(a.dir, a.port, a.discard)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sink.start()
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    if a.portfile:
        with open(a.portfile + ".tmp", "w") as f:
            f.write("%d\n" % sink.port)
        os.rename(a.portfile + ".tmp", a.portfile)
    print("sink: listening on 127.0.0.1:%d, %s" % (
        sink.port, "discarding" if a.discard else "storing in " + a.dir), file=sys.stderr, flush=True)
    stop.wait(a.max_seconds)
    sink.stop()
    print("sink: stopped after %d messages" % sink.count, file=sys.stderr, flush=True)
    if a.pidfile:
        try:
            os.unlink(a.pidfile)
        except OSError:
            pass


if __name__ == "__main__":
    main()
