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
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
