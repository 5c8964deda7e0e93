"""Run commands on a block host, locally or over SSH, always as argv lists.

The controller drives block hosts the way Cinder's SAN drivers do: one command at a time
(``lvcreate``, ``tgtadm``...). Secrets that must travel in argv (tgtadm takes the CHAP
password as an argument) are passed in ``secrets`` so that error messages never show them.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass, field

from .errors import CommandFailed


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

    def _execute(self, argv, input_text):  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, argv, check=True, input_text=None, secrets=()):
        full = self._wrap(argv)
        proc = self._execute(full, input_text)
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and result.rc != 0:
            raise CommandFailed(
                [_redact(a, secrets) for a in argv],
                result.rc,
                _redact(result.stdout, secrets),
                _redact(result.stderr, secrets),
            )
        return result

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
    def _execute(self, argv, input_text):
        return subprocess.run(
            argv, input=input_text, capture_output=True, text=True, timeout=self.timeout, check=False
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

    def _execute(self, argv, input_text):
        ssh = ["ssh", *self.ssh_options, "-p", str(self.port)]
        if self.identity_file:
            ssh += ["-i", self.identity_file]
        target = f"{self.user}@{self.host}" if self.user else self.host
        # ssh hands one string to the remote shell: quote every argv element.
        remote = " ".join(shlex.quote(a) for a in argv)
        proc = subprocess.run(
            [*ssh, target, "--", remote],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=self.timeout,
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

    def _execute(self, argv, input_text):
        return subprocess.run(["podman", "exec", "-i", self.container, *argv], input=input_text,
                              capture_output=True, text=True, timeout=self.timeout, check=False)


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
