"""/var/log/syslog (where the all-in-one's Swift logs) is rotated with no systemd or cron:
scripts/daemons.sh start applies scripts/syslog-logrotate.conf, and after a rotation rsyslogd
writes to the new file, not into the rotated one (Debian's own rule tells it through systemctl
only)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
SYSLOG = pathlib.Path("/var/log/syslog")

pytestmark = pytest.mark.skipif(pathlib.Path("/run/systemd/system").is_dir(),
                                reason="with systemd the journal and the distro's rotation apply")


def _logged(marker: str, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if SYSLOG.exists() and marker in SYSLOG.read_text(errors="replace"):
            return True
        time.sleep(0.3)
    return False


def test_a_rotated_syslog_is_reopened_by_rsyslogd(tmp_path):
    daemons = [ROOT / "scripts" / "daemons.sh", "start"]
    subprocess.run(daemons, check=True, stdin=subprocess.DEVNULL)
    before = f"ministack-rotation-before-{os.getpid()}-{time.time_ns()}"
    subprocess.run(["logger", "-t", "ministack-test", before], check=True)
    assert _logged(before), "rsyslogd did not write to /var/log/syslog"
    # With the log there, a start records it in the schedule (a week from its first sight).
    subprocess.run(daemons, check=True, stdin=subprocess.DEVNULL)
    state = pathlib.Path("/var/lib/logrotate/ministack-syslog.status")
    assert "/var/log/syslog" in state.read_text(), "daemons.sh start did not apply the rotation rule"
    # Forced, with a state file of the test's own: the machine's schedule is left as it was.
    subprocess.run(["logrotate", "-f", "-s", tmp_path / "status", ROOT / "scripts" / "syslog-logrotate.conf"],
                   check=True)
    assert before in pathlib.Path("/var/log/syslog.1").read_text(errors="replace")
    after = f"ministack-rotation-after-{os.getpid()}-{time.time_ns()}"
    subprocess.run(["logger", "-t", "ministack-test", after], check=True)
    assert _logged(after), "after the rotation rsyslogd still writes into /var/log/syslog.1"
    assert before not in SYSLOG.read_text(errors="replace")
