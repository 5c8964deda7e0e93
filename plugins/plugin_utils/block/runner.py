# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run commands on a block host, locally or over SSH, always as argv lists.

The controller drives block hosts the way Cinder's SAN drivers do: one command at a time
(``lvcreate``, ``tgtadm``...). Secrets that must travel in argv (tgtadm takes the CHAP
password as an argument) are passed in ``secrets`` so that error messages never show them.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field

from .errors import CommandFailed, CommandTimedOut


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str


def _redact(text, secrets):
    for secret in secrets or ():
        if secret:
            text = text.replace(secret, "********")
    return text


@dataclass
class Runner:
    """Base runner. ``sudo`` prefixes every command with ``sudo -n`` (non-root operators)."""

    sudo: bool = False
    env: dict = field(default_factory=dict)
    timeout: float = 600

    def _wrap(self, argv):
        argv = [str(a) for a in argv]
        if self.env:
            argv = ["env", *[f"{k}={v}" for k, v in sorted(self.env.items())], *argv]
        if self.sudo:
            argv = ["sudo", "-n", *argv]
        return argv

    def _execute(self, argv, input_text, timeout):  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, argv, check=True, input_text=None, secrets=(), timeout=None):
        """Run argv; ``timeout`` (seconds) overrides the runner's for work that grows with a size.
        A timeout is a BlockError of one line naming the command only (never its arguments,
        which may hold a CHAP password)."""
        full = self._wrap(argv)
        limit = self.timeout if timeout is None else timeout
        try:
            proc = self._execute(full, input_text, limit)
        except subprocess.TimeoutExpired:
            raise CommandTimedOut(str(argv[0]), limit) from None
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and result.rc != 0:
            raise CommandFailed(
                [_redact(a, secrets) for a in argv],
                result.rc,
                _redact(result.stdout, secrets),
                _redact(result.stderr, secrets),
            )
        return result

    def _local_argv(self, full):  # pragma: no cover - abstract
        """The command this machine runs for ``full`` (the wrapped argv)."""
        raise NotImplementedError

    def stream(self, argv, on_line, input_text=None, secrets=(), timeout=None):
        """Run a long command, calling ``on_line(line)`` for each stdout line as it comes.

        ``input_text`` (which may hold secrets) is written to stdin and closed. Returns a
        Result whose ``stdout`` is empty (the lines went to ``on_line``); stderr is redacted.
        """
        limit = self.timeout if timeout is None else timeout
        proc = subprocess.Popen(self._local_argv(self._wrap(argv)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1)
        errors = []
        reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        reader.start()
        deadline = time.monotonic() + limit
        try:
            proc.stdin.write(input_text or "")
            proc.stdin.close()
            for line in proc.stdout:
                on_line(line.rstrip("\n"))
                if time.monotonic() > deadline:
                    raise CommandTimedOut(str(argv[0]), limit)
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise CommandTimedOut(str(argv[0]), limit) from None
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            reader.join(timeout=5)
        return Result(proc.returncode, "", _redact("".join(errors), secrets))

    def write_file(self, path, content, mode="0600"):
        """Write a small file atomically (temp file + rename) with the given mode."""
        tmp = f"{path}.ministack-tmp"
        self.run(["install", "-m", mode, "/dev/null", tmp])
        # dd, not tee: tee would echo the content (it may hold a CHAP secret) to stdout.
        self.run(["dd", f"of={tmp}", "status=none"], input_text=content)
        self.run(["mv", "-f", tmp, path])

    def read_file(self, path):
        res = self.run(["cat", path], check=False)
        return res.stdout if res.rc == 0 else None


@dataclass
class LocalRunner(Runner):
    def _local_argv(self, full):
        return full

    def _execute(self, argv, input_text, timeout):
        return subprocess.run(
            argv, input=input_text, capture_output=True, text=True, timeout=timeout, check=False
        )


@dataclass
class SSHRunner(Runner):
    """Runs over OpenSSH with ControlMaster so that many small commands stay cheap.

    Host keys: with ``host_key_checking`` (the default) the host's key must be in
    ``known_hosts_file`` (the controller's file that common_host's ``host_key`` entry point
    fills on first use); an unknown or changed key is refused. ``host_key_checking=False`` is
    the explicit opt-out. ``connect_timeout`` bounds how long a stopped host can hold a task.
    """

    host: str = ""
    user: str | None = None
    port: int = 22
    identity_file: str | None = None
    known_hosts_file: str | None = None
    host_key_checking: bool = True
    connect_timeout: int = 10

    @property
    def ssh_options(self) -> tuple:
        if self.host_key_checking:
            keys = ["-o", "StrictHostKeyChecking=yes"]
            if self.known_hosts_file:
                keys += ["-o", f"UserKnownHostsFile={self.known_hosts_file}"]
        else:
            keys = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return (
            "-o", "BatchMode=yes",
            *keys,
            "-o", f"ConnectTimeout={int(self.connect_timeout)}",
            "-o", "ControlMaster=auto",
            "-o", "ControlPersist=60s",
            "-o", "ControlPath=~/.ssh/ministack-%C",
        )

    def _local_argv(self, full):
        ssh = ["ssh", *self.ssh_options, "-p", str(self.port)]
        if self.identity_file:
            ssh += ["-i", self.identity_file]
        target = f"{self.user}@{self.host}" if self.user else self.host
        # ssh hands one string to the remote shell: quote every argv element.
        remote = " ".join(shlex.quote(a) for a in full)
        return [*ssh, target, "--", remote]

    def _execute(self, argv, input_text, timeout):
        proc = subprocess.run(
            self._local_argv(argv),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode == 255:
            # ssh itself failed (not the command): say which host, and for a key, which file.
            proc.stderr = self._explain(proc.stderr or "")
        return proc

    def _explain(self, stderr: str) -> str:
        where = f"{self.host}:{self.port}"
        last = (stderr.strip().splitlines() or ["no message"])[-1]
        if "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
            known = self.known_hosts_file or "~/.ssh/known_hosts"
            return (f"SSH to block host {where} refused: its host key is unknown or differs from the one recorded "
                    f"in {known} ({last}). If the host was reinstalled on purpose, remove the old key with "
                    f"`ssh-keygen -R {self.host} -f {known}` and re-run playbooks/site.yml to record the new one.")
        return f"SSH to block host {where} failed: {last}"


@dataclass
class PodmanRunner(Runner):
    """Runs inside a podman container (lab and molecule hosts), argv passed through as-is."""

    container: str = ""

    def _local_argv(self, full):
        return ["podman", "exec", "-i", self.container, *full]

    def _execute(self, argv, input_text, timeout):
        return subprocess.run(self._local_argv(argv), input=input_text,
                              capture_output=True, text=True, timeout=timeout, check=False)


def runner_for(host_vars):
    """Build a runner from a block host's connection facts (as registered by block_host)."""
    host_vars = host_vars or {}
    address = host_vars.get("address") or host_vars.get("host") or "localhost"
    connection = host_vars.get("connection") or ("local" if address in ("localhost", "127.0.0.1") else "ssh")
    sudo = bool(host_vars.get("sudo", False))
    if connection == "local":
        return LocalRunner(sudo=sudo)
    if connection == "podman":
        return PodmanRunner(sudo=sudo, container=host_vars.get("container") or address)
    return SSHRunner(
        sudo=sudo,
        host=address,
        user=host_vars.get("user"),
        port=int(host_vars.get("port") or 22),
        identity_file=host_vars.get("identity_file"),
        known_hosts_file=host_vars.get("known_hosts"),
        host_key_checking=bool(host_vars.get("host_key_checking", True)),
        connect_timeout=int(host_vars.get("connect_timeout") or 10),
    )
