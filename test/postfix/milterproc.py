"""mugai-milter as a child process, for the end-to-end test, the demo and the bench.

Milter(binary, conf, sock, logpath).start() runs
`mugai-milter -c CONF -f` in its own session, output to LOGPATH, and waits
(bounded) until the socket accepts connections: a unix socket path, or
("127.0.0.1", port) for inet.  kill() is a crash (SIGKILL), stop() a
shutdown (SIGTERM, then SIGKILL after a deadline).  Either way the
processes it left (its workers) are killed by PID afterwards, never by name.
"""
import os
import signal
import socket
import subprocess
import time

from pfinstance import process_tree


def accepts(sock):
    """Whether SOCK (a unix socket path, or (host, port)) accepts a connection."""
    family = socket.AF_UNIX if isinstance(sock, str) else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(sock)
            return True
    except OSError:
        return False


class Milter:
    """mugai-milter in the foreground, in its own process group."""

    def __init__(self, binary, conf, sock, logpath):
        self.binary, self.conf, self.sock, self.logpath = binary, conf, sock, logpath
        self.proc = None
        self.tree = []

    def start(self, timeout=20):
        """Start and wait until the socket accepts connections (a stale
        socket file left by a killed milter does not count)."""
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf, "-f"], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, start_new_session=True)
        log.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            if self.listening():
                self.tree = process_tree([self.proc.pid])
                return True
            time.sleep(0.05)
        return False

    def listening(self):
        return accepts(self.sock)

    def pids(self):
        """The daemon and its workers."""
        return process_tree([self.proc.pid]) if self.alive() else []

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL: a crash, not a shutdown."""
        if self.alive():
            self.tree = process_tree([self.proc.pid])
            self.proc.kill()
            self.proc.wait(10)
        self._kill_leftovers()

    def stop(self, timeout=15):
        if self.alive():
            self.tree = process_tree([self.proc.pid])
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._kill_leftovers()

    def _kill_leftovers(self, grace=5):
        """Workers of a dead milter that are still around (by PID, ours only)."""
        end = time.monotonic() + grace
        mine = [p for p in self.tree if self.proc and p != self.proc.pid]
        while time.monotonic() < end and any(_alive(p) for p in mine):
            time.sleep(0.05)
        for p in mine:
            if _alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass

    def log_tail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False
