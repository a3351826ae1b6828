#!/usr/bin/env python3
"""The systemd units in packaging/, read by systemd itself (TAP).

    test/packaging.py BUILD/mugai BUILD/milter/mugai-milter

`systemd-analyze verify` loads each unit as systemd would and names every
unknown key, bad value or missing executable on stderr (its exit status stays
0 for most of them, so the test asks for silence).  The units name the
installed paths; the copies checked here name the built binaries instead.
Skipped where systemd-analyze is not installed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tapcommon import SRC, Tap  # noqa: E402

UNITS = ["mugai-milter.service", "mugai-purge.service", "mugai-purge.timer"]


def main():
    mugai, milter = (os.path.abspath(p) for p in sys.argv[1:3])
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("1..0 # SKIP systemd-analyze is not installed")
        return 0
    t = Tap()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name in UNITS:
            with open(os.path.join(SRC, "packaging", name), encoding="utf-8") as f:
                text = f.read()
            text = text.replace("/usr/sbin/mugai-milter", milter).replace("/usr/bin/mugai ", mugai + " ")
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            paths.append(path)
        for path in paths:
            p = subprocess.run([analyze, "verify", "--man=no", path], capture_output=True, text=True, timeout=120)
            # systemd may mention units outside ours (the host's); only lines about ours count
            ours = [l for l in (p.stdout + p.stderr).splitlines() if tmp in l or "mugai" in l]
            t.ok(p.returncode == 0 and not ours, "systemd-analyze verify %s: no complaint" % os.path.basename(path),
                 p.stdout + p.stderr)
        with open(os.path.join(SRC, "packaging", "mugai-milter.service"), encoding="utf-8") as f:
            service = [l.strip() for l in f if not l.lstrip().startswith("#")]
        t.ok("Type=notify" in service, "mugai-milter.service waits for the daemon's READY=1 (Type=notify)")
        reload = [l for l in service if l.startswith("ExecReload=")]
        t.ok(len(reload) == 2 and reload[0].endswith(" -t") and "kill -USR1" in reload[1],
             "reload: the configuration checked (-t) before SIGUSR1", "\n".join(reload))
        t.ok("User=mugai" in service and "CapabilityBoundingSet=" in service and "NoNewPrivileges=yes" in service
             and "PrivateNetwork=yes" in service and any(l.startswith("SystemCallFilter=") and "landlock_create_ruleset"
                                                         in l for l in service),
             "mugai-milter.service: runs as mugai, no capabilities, no network but unix sockets; the workers may "
             "confine themselves (Landlock, seccomp)")
        p = subprocess.run([analyze, "security", "--offline=true", paths[0]], capture_output=True, text=True,
                           timeout=120)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout + p.stderr)
        score = float(m.group(1)) if m else 99
        t.ok(score < 1.0, "systemd-analyze security mugai-milter.service: %.1f (it was 2.5 when the daemon "
             "started as root)" % score, p.stdout[-1500:] + p.stderr)
        with open(os.path.join(SRC, "packaging", "mugai-admin.sudoers"), encoding="utf-8") as f:
            rules = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        t.ok(rules == ["Defaults!/usr/bin/mugai env_reset", "%mugai-admin ALL = (root) /usr/bin/mugai quarantine *"],
             "sudoers: mugai-admin runs the quarantine commands as root only (no SETENV, no NOPASSWD, not as mugai)",
             rules)
    production_build(t, milter)
    return t.done()


def production_build(t, milter):
    """A build with meson's defaults has none of the test build's fault hooks."""
    if b"__asan_init" in open(milter, "rb").read():
        t.ok(True, "a default build has no test hooks # SKIP checked by the build without sanitizers")
        return
    out = os.path.join(os.path.dirname(os.path.dirname(milter)), "production-check")
    if not os.path.exists(os.path.join(out, "build.ninja")):
        p = subprocess.run(["meson", "setup", out, SRC], capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            t.ok(False, "a default build configures", p.stdout[-2000:] + p.stderr)
            return
    p = subprocess.run(["ninja", "-C", out, "milter/mugai-milter", "mugai"], capture_output=True, text=True,
                       timeout=1200)
    bins = [os.path.join(out, "milter", "mugai-milter"), os.path.join(out, "mugai")]
    found = [b for b in bins if os.path.exists(b) and b"MUGAI_TEST" in open(b, "rb").read()]
    t.ok(p.returncode == 0 and len(bins) == len([b for b in bins if os.path.exists(b)]) and not found,
         "a default build (meson setup without -Dtest_hooks) has no MUGAI_TEST_* hook in mugai-milter or mugai",
         p.stdout[-1500:] + p.stderr + " ".join(found))


if __name__ == "__main__":
    sys.exit(main())
