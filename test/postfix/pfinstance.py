#!/usr/bin/env python3
"""A private Postfix instance on loopback, for tests, the demo and the bench.

Everything lives under one directory ROOT, and nothing of the system's
Postfix (/etc/postfix/main.cf, /var/spool/postfix) is read or changed:

    ROOT/etc      config_directory (main.cf, master.cf written here)
    ROOT/spool    queue_directory (Postfix creates its subdirectories)
    ROOT/data     data_directory (owned by postfix)
    ROOT/maillog  maillog_file, written by postlogd (no syslog daemon needed)

The instance listens on 127.0.0.1:PORT only, relays every message to
[127.0.0.1]:RELAY_PORT (a sink), does no DNS and no local delivery, and runs
every service unchrooted, so `smtpd_milters = unix:/abs/path` is an absolute
path (a chrooted smtpd, as in Debian's default master.cf, would take it
relative to the queue directory; packaging/postfix-main.cf explains that).
Milters: `smtpd_milters = SPEC` (or none), `milter_default_action = tempfail`,
`milter_protocol = 6`, `non_smtpd_milters =` empty.  Retries are fast (a few
seconds) so a deferred message is retried quickly in tests.  Optionally a
second, milter-free smtpd on 127.0.0.1:RELEASE_PORT, the re-injection path for
released quarantine mail (the same entry as packaging/postfix-master.cf); it
rejects the recipients in RELEASE_REFUSE (5.7.1), so a refused release can be
tested.

Postfix is started with `postfix -c ROOT/etc start` (no systemd) and stopped
with `postfix -c ROOT/etc stop`; every call is bounded in time.  Root only
(Postfix's master must start as root).

As a module:
    pf = Instance(root, port=free_port(), relay_port=sink.port, milter="unix:/x/m.sock")
    pf.start(); ...; pf.stop()          # or:  with Instance(...) as pf:
As a command (demo.sh, bench):
    pfinstance.py start ROOT --port P --relay-port R [--milter SPEC] [--release-port N] [--release-unix]
                  [--name SYSLOG_NAME] [--set PARAM=VALUE ...]
    pfinstance.py stop ROOT | status ROOT | set-milter ROOT SPEC|none
    pfinstance.py wait-empty ROOT [--timeout S]
"""
import argparse
import os
import pwd
import re
import socket
import subprocess
import sys
import time

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
QUEUE_SUBDIRS = ("maildrop", "incoming", "active", "deferred", "hold")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout, host="127.0.0.1"):
    """True once something accepts connections on HOST:PORT."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def available():
    """'' when a private instance can run here, else why not."""
    if os.geteuid() != 0:
        return "not root (Postfix's master must start as root)"
    for b in (POSTFIX, POSTCONF, "/usr/lib/postfix/sbin/master"):
        if not os.access(b, os.X_OK):
            return "%s missing (apt-get install postfix)" % b
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no postfix user"
    return ""


class Instance:
    def __init__(self, root, port, relay_port, milter="", release_port=0,
                 name="postfix-mugai", settings=None, release_refuse=(), release_unix=False):
        self.root = os.path.abspath(root)
        self.port = port
        self.relay_port = relay_port
        self.milter = milter or ""
        self.release_port = release_port
        self.name = name
        self.settings = dict(settings or {})
        self.release_refuse = list(release_refuse)   # recipients the release smtpd rejects
        self.release_unix = release_unix   # the release smtpd on QUEUE/private/mugai-release
        self.conf = os.path.join(self.root, "etc")
        self.queue = os.path.join(self.root, "spool")
        self.data = os.path.join(self.root, "data")
        self.maillog = os.path.join(self.root, "maillog")
        self.release_socket = os.path.join(self.queue, "private", "mugai-release")
        self.started = False

    # ------------------------------------------------------------ config

    def main_cf(self):
        p = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "command_directory": "/usr/sbin",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "syslog_name": self.name,
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.root,
            "myhostname": "mx.mugai.test",
            "mydomain": "mugai.test",
            "myorigin": "$myhostname",
            # loopback only
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtp_bind_address": "127.0.0.1",
            # no local delivery, no DNS: everything goes to the sink
            "mydestination": "",
            "local_recipient_maps": "",
            "local_transport": "error:5.1.1 no local delivery in this instance",
            "alias_maps": "",
            "alias_database": "",
            "relay_domains": "",
            "relayhost": "[127.0.0.1]:%d" % self.relay_port,
            "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "smtpd_recipient_restrictions": "",
            # treat the client as the internet: headers are not rewritten, none added
            "local_header_rewrite_clients": "",
            "append_dot_mydomain": "no",
            "biff": "no",
            "notify_classes": "",
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "disable_mime_output_conversion": "yes",
            "message_size_limit": "104857600",
            "mailbox_size_limit": "0",
            # quick steady state, and quick retries of deferred mail
            "in_flow_delay": "0",
            "default_process_limit": "100",
            "smtp_connection_cache_on_demand": "yes",
            "initial_destination_concurrency": "10",
            "default_destination_concurrency_limit": "20",
            "queue_run_delay": "2s",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "maximal_queue_lifetime": "1h",
            "bounce_queue_lifetime": "1h",
            "delay_warning_time": "0",
            # the milter: fail closed (see packaging/postfix-main.cf)
            "smtpd_milters": self.milter,
            "non_smtpd_milters": "",
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "milter_connect_timeout": "10s",
            "milter_command_timeout": "30s",
            "milter_content_timeout": "300s",
            "milter_mail_macros": "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
            "internal_mail_filter_classes": "",
        }
        p.update(self.settings)
        lines = ["# Private Postfix instance for mugai (test/postfix/pfinstance.py). Not the system's."]
        lines += ["%s = %s" % kv for kv in p.items()]
        return "\n".join(lines) + "\n"

    def master_cf(self):
        rows = [
            "# service type  private unpriv chroot wakeup maxproc command (everything unchrooted)",
            "127.0.0.1:%d inet n - n - - smtpd" % self.port,
        ]
        refuse = ("\n  -o smtpd_recipient_restrictions=check_recipient_access,texthash:%s,permit_mynetworks,reject"
                  % os.path.join(self.conf, "release_refuse")) if self.release_refuse else ""
        if self.release_port:
            # The re-injection path for released mail: no milter, loopback clients only.
            rows.append("127.0.0.1:%d inet n - n - - smtpd\n"
                        "  -o syslog_name=%s/release\n"
                        "  -o smtpd_milters=\n  -o non_smtpd_milters=\n"
                        "  -o receive_override_options=no_milters\n"
                        "  -o mynetworks=127.0.0.0/8\n"
                        "  -o smtpd_client_restrictions=permit_mynetworks,reject"
                        % (self.release_port, self.name) + refuse)
        if self.release_unix:
            # The same on a unix socket in private/ (postfix 0700): only root and
            # postfix may connect, as packaging/postfix-master.cf has it.
            rows.append("mugai-release unix y - n - 10 smtpd\n"
                        "  -o syslog_name=%s/mugai-release\n"
                        "  -o smtpd_milters=\n  -o non_smtpd_milters=\n"
                        "  -o receive_override_options=no_milters\n"
                        "  -o mynetworks=127.0.0.0/8,[::1]/128\n"
                        "  -o smtpd_client_restrictions=permit_mynetworks,reject\n"
                        "  -o smtpd_relay_restrictions=permit_mynetworks,reject\n"
                        "  -o local_header_rewrite_clients="
                        % self.name + refuse)
        rows += [
            "pickup    unix  n - n 60 1 pickup",
            "cleanup   unix  n - n - 0 cleanup",
            "qmgr      unix  n - n 300 1 qmgr",
            "rewrite   unix  - - n - - trivial-rewrite",
            "bounce    unix  - - n - 0 bounce",
            "defer     unix  - - n - 0 bounce",
            "trace     unix  - - n - 0 bounce",
            "verify    unix  - - n - 1 verify",
            "flush     unix  n - n 1000? 0 flush",
            "proxymap  unix  - - n - - proxymap",
            "proxywrite unix - - n - 1 proxymap",
            "smtp      unix  - - n - - smtp",
            "relay     unix  - - n - - smtp",
            "showq     unix  n - n - - showq",
            "error     unix  - - n - - error",
            "retry     unix  - - n - - error",
            "discard   unix  - - n - - discard",
            "local     unix  - n n - - local",
            "anvil     unix  - - n - 1 anvil",
            "scache    unix  - - n - 1 scache",
            "postlog   unix-dgram n - n - 1 postlogd",
        ]
        return "\n".join(rows) + "\n"

    def write_config(self):
        for d in (self.root, self.conf, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        # Postfix daemons run as postfix: they must be able to reach ROOT
        # (milter sockets and the like may live under it).
        os.chmod(self.root, 0o755)
        pw = pwd.getpwnam("postfix")
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        files = [("main.cf", self.main_cf()), ("master.cf", self.master_cf())]
        if self.release_refuse:
            files.append(("release_refuse", "".join("%s REJECT 5.7.1 release refused by the test\n" % a
                                                    for a in self.release_refuse)))
        for name, text in files:
            with open(os.path.join(self.conf, name), "w") as f:
                f.write(text)

    # ------------------------------------------------------------ control

    def _postfix(self, *args, timeout=60):
        return run_postfix_cmd([POSTFIX, "-c", self.conf] + list(args), timeout)

    def running(self):
        try:
            return self._postfix("status", timeout=20).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout=30):
        """Write the configuration and start; raises RuntimeError with the log on failure."""
        why = available()
        if why:
            raise RuntimeError(why)
        d = self.root
        while d != "/":
            d = os.path.dirname(d)
            if os.stat(d).st_mode & 0o001 == 0:
                raise RuntimeError("%s is not searchable by others: Postfix's daemons (user postfix) "
                                   "could not reach %s (chmod o+x it)" % (d, self.root))
        self.write_config()
        if self.running():
            self.started = True
            return self
        p = self._postfix("check")
        if p.returncode != 0:
            raise RuntimeError("postfix check failed: %s%s" % (p.stdout, p.stderr))
        p = self._postfix("start")
        self.started = True     # whatever happened, stop() must try
        if p.returncode != 0:
            raise RuntimeError("postfix start failed: %s%s\n%s" % (p.stdout, p.stderr, self.log_tail()))
        ports = [self.port] + ([self.release_port] if self.release_port else [])
        for port in ports:
            if not wait_port(port, timeout):
                raise RuntimeError("postfix did not open 127.0.0.1:%d\n%s" % (port, self.log_tail()))
        end = time.monotonic() + timeout
        while self.release_unix and not os.path.exists(self.release_socket):
            if time.monotonic() > end:
                raise RuntimeError("postfix did not make %s\n%s" % (self.release_socket, self.log_tail()))
            time.sleep(0.05)
        return self

    def stop(self, timeout=30):
        """Stop the instance (if this object started it or it is running)."""
        if not os.path.isdir(self.conf):
            return
        pid = self.master_pid()
        try:
            if self.running():
                self._postfix("stop", timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        # postfix stop waits up to 5 s and then kills the process group; make sure.
        if pid and _is_master(pid, self.conf):
            end = time.monotonic() + 10
            while _is_master(pid, self.conf) and time.monotonic() < end:
                time.sleep(0.1)
            if _is_master(pid, self.conf):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        self.started = False

    def reload(self):
        p = self._postfix("reload", timeout=30)
        if p.returncode != 0:
            raise RuntimeError("postfix reload failed: %s%s" % (p.stdout, p.stderr))
        time.sleep(1.0)    # master re-reads main.cf and restarts its children

    def set_milter(self, spec):
        """Change smtpd_milters (empty = none) and reload if running."""
        self.milter = spec or ""
        subprocess.run([POSTCONF, "-c", self.conf, "-e", "smtpd_milters = " + self.milter],
                       check=True, timeout=30, capture_output=True)
        if self.running():
            self.reload()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ observing

    def log_text(self):
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=20):
        return "\n".join(self.log_text().splitlines()[-n:])

    def queue_id_for(self, message_id):
        """The queue ID cleanup logged for MESSAGE_ID (with or without <>), or None."""
        mid = message_id.strip()
        if not mid.startswith("<"):
            mid = "<" + mid + ">"
        ids = re.findall(r"/cleanup\[\d+\]: ([0-9A-Za-z]+): message-id=%s" % re.escape(mid),
                         self.log_text())
        return ids[-1] if ids else None

    def queue_count(self):
        n = 0
        for sd in QUEUE_SUBDIRS:
            for _, _, files in os.walk(os.path.join(self.queue, sd)):
                n += len(files)
        return n

    def wait_empty(self, timeout):
        """True once nothing is queued (every accepted message delivered or bounced)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.queue_count() == 0:
                return True
            time.sleep(0.05)
        return self.queue_count() == 0

    def pids(self):
        """The master and every process under it (smtpd, cleanup, qmgr, smtp, ...)."""
        pid = self.master_pid()
        return process_tree([pid]) if pid else []


def run_postfix_cmd(argv, timeout):
    """Run a Postfix command with stderr on a pseudo-terminal: Postfix commands
    log to stderr only when it is a terminal (else to syslog, which may not
    exist), and their errors are what we want to show.  Returns a
    CompletedProcess whose stdout holds stdout and stderr."""
    import pty
    import select
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                                close_fds=True)
    finally:
        os.close(slave)
    out = b""
    end = time.monotonic() + timeout
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                raise subprocess.TimeoutExpired(argv, timeout, out)
            r, _, _ = select.select([master], [], [], min(left, 0.2))
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:        # EIO: every writer closed the terminal
                    chunk = b""
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        proc.wait(max(0.1, end - time.monotonic()))
    finally:
        os.close(master)
    text = out.decode("utf-8", "replace").replace("\r\n", "\n")
    return subprocess.CompletedProcess(argv, proc.returncode, text, "")


def _is_master(pid, conf):
    """PID is a Postfix master of this instance (so never signal a stranger)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().split(b"\0")
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return bool(args) and args[0].endswith(b"master") and \
        ("MAIL_CONFIG=" + conf).encode() in env


def proc_stats():
    """(pid, the /proc/PID/stat fields after the command name) of every process."""
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        yield int(p), s[s.rfind(")") + 2:].split()


def descendants(kids, roots):
    """ROOTS and everything below them in KIDS (ppid -> [pid])."""
    seen, stack = [], [r for r in roots if r]
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.append(p)
        stack.extend(kids.get(p, ()))
    return seen


def process_tree(roots):
    """ROOTS and all their descendants (from /proc)."""
    kids = {}
    for pid, f in proc_stats():
        kids.setdefault(int(f[1]), []).append(pid)
    return descendants(kids, roots)


def become_subreaper():
    """Have orphans (Postfix's daemons once their master is gone) reparented to
    this process instead of PID 1, so reap_orphans() can collect them: in
    containers whose PID 1 does not reap, they would stay <defunct>."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0      # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans(timeout=5.0):
    """Wait (bounded) for every child process left, then collect them.  Call it
    last: it also reaps children that a subprocess.Popen still owns."""
    end = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > end:
                return
            time.sleep(0.05)


def _settings(pairs):
    out = {}
    for kv in pairs or ():
        k, sep, v = kv.partition("=")
        if not sep:
            raise SystemExit("--set wants PARAM=VALUE, got %r" % kv)
        out[k.strip()] = v.strip()
    return out


def main():
    ap = argparse.ArgumentParser(description="A private Postfix instance on loopback.")
    ap.add_argument("action", choices=["start", "stop", "status", "set-milter", "wait-empty"])
    ap.add_argument("root")
    ap.add_argument("spec", nargs="?", default="", help="set-milter: SPEC or none")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--relay-port", type=int, default=0)
    ap.add_argument("--milter", default="")
    ap.add_argument("--release-port", type=int, default=0)
    ap.add_argument("--release-unix", action="store_true",
                    help="the release smtpd on ROOT/spool/private/mugai-release")
    ap.add_argument("--name", default="postfix-mugai")
    ap.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    pf = Instance(a.root, a.port, a.relay_port, a.milter, a.release_port, a.name, _settings(a.set),
                  release_unix=a.release_unix)
    if a.action == "start":
        if not a.port or not a.relay_port:
            ap.error("start needs --port and --relay-port")
        try:
            pf.start()
        except RuntimeError as e:
            pf.stop()
            sys.exit("pfinstance: %s" % e)
        print("postfix: 127.0.0.1:%d -> sink 127.0.0.1:%d, smtpd_milters = %s, log %s" % (
            a.port, a.relay_port, a.milter or "(none)", pf.maillog), file=sys.stderr)
    elif a.action == "stop":
        pf.stop()
    elif a.action == "status":
        up = pf.running()
        print("running (master %s), %d queued" % (pf.master_pid(), pf.queue_count()) if up else "stopped")
        sys.exit(0 if up else 1)
    elif a.action == "set-milter":
        pf.set_milter("" if a.spec in ("", "none") else a.spec)
    elif a.action == "wait-empty":
        sys.exit(0 if pf.wait_empty(a.timeout) else 1)


if __name__ == "__main__":
    main()
