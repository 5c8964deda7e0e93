# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run commands on a host the way Ansible reaches it: one runner for every host-side service.

The controller drives block hosts (and later network and backup hosts) one command at a time,
as Cinder's SAN drivers do. How it reaches a host comes from the inventory, read with
Ansible's own variable names and defaults:

=============================  ==============================================================
inventory variable              runner
=============================  ==============================================================
``ansible_connection``          ``local`` (the controller itself), ``ssh``, ``podman``
``ansible_host``                the address (else the inventory name)
``ansible_port``                ``ssh -p``
``ansible_user``                ``user@address``
``ansible_ssh_private_key_file`` ``ssh -i`` (with ``IdentitiesOnly=yes``)
``ansible_ssh_args``            Ansible's ``ssh_args`` (config ``[ssh_connection] ssh_args``)
``ansible_ssh_common_args``     passed through (``-o ProxyJump=...``, ``-J``...)
``ansible_ssh_extra_args``      passed through
``ansible_become``              ``sudo -n`` (``ansible_become_user``: ``sudo -u``)
``ansible_ssh_timeout``         ``ConnectTimeout`` (Ansible's ``timeout``, default 10 s)
``host_key_checking``           true (default): ``StrictHostKeyChecking=yes`` against ``known_hosts``
                                (the controller's file, ``ministack_known_hosts``); false: any key
=============================  ==============================================================

:func:`connection_spec` turns those variables (or the short keys it returns) into one plain
dict that the catalog can keep; :func:`runner_for` builds the runner from it. Commands are
always argv lists; over SSH each element is quoted for the remote shell. Secrets never travel
in argv: ``input_text`` (text, or bytes for binary data) goes to the command's stdin and
``secrets`` are masked in every error message. Become is ``sudo -n``: the host must give the
user passwordless sudo for the commands sent (the block_host role's rules allow exactly those; a become
password would have to be stored for later runs, and it never is).
"""

from __future__ import annotations

import os
import pwd
import shlex
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from .errors import MinistackError

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
DEFAULT_CONNECT_TIMEOUT = 10  # Ansible's [defaults] timeout
# Applied after the inventory's own arguments; ssh keeps the first value it reads for an option,
# so anything the inventory says wins over these.
RUNNER_SSH_OPTIONS = (
    "-o", "BatchMode=yes",
    "-o", "ControlMaster=auto",
    "-o", "ControlPersist=60s",
    "-o", "ControlPath=~/.ssh/ministack-%C",
)
SSH_UNREACHABLE = 255
SPEC_KEYS = ("connection", "address", "port", "user", "identity_file", "ssh_args", "become", "become_user",
             "connect_timeout", "known_hosts", "host_key_checking", "container")


class HostCommandFailed(MinistackError):
    """A command exited non-zero (or the host could not be reached). Secrets are already masked."""

    def __init__(self, argv, rc, stdout, stderr):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout or "").strip().splitlines()
        tail = detail[-1] if detail else ""
        super().__init__(f"Command {argv[0]} failed (exit {rc}): {tail}")


class HostCommandTimedOut(MinistackError):
    """A command ran past its time limit and was killed. One line; the argv is not shown (it may
    hold a secret)."""

    def __init__(self, command, seconds):
        self.command = command
        self.seconds = seconds
        super().__init__(f"Command {command} did not finish within {seconds:g} s and was stopped.")


class ConnectionSpecError(MinistackError, ValueError):
    """An inventory value the runner cannot use; the message names the variable and the fix."""


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str


def _run_process(argv, input_data, timeout):
    """subprocess.run with text output; ``input_data`` may be text or bytes (an image staged
    through stdin), so that no shell is needed on the host to decode it."""
    if isinstance(input_data, (bytes, bytearray)):
        proc = subprocess.run(argv, input=bytes(input_data), capture_output=True, timeout=timeout, check=False)
        return subprocess.CompletedProcess(argv, proc.returncode, (proc.stdout or b"").decode(errors="replace"),
                                           (proc.stderr or b"").decode(errors="replace"))
    return subprocess.run(argv, input=input_data, capture_output=True, text=True, timeout=timeout, check=False)


def redact(text, secrets):
    for secret in secrets or ():
        if secret:
            text = text.replace(str(secret), "********")
    return text


def _first(values: Mapping, *names, default=None):
    for name in names:
        value = values.get(name)
        if value is not None and value != "":
            return value
    return default


def _bool(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "y", "t"):
        return True
    if text in ("0", "false", "no", "off", "n", "f", ""):
        return False
    raise ConnectionSpecError(f"{name}: expected a boolean, got {value!r}")


def _args(name: str, value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError as exc:
        raise ConnectionSpecError(f"{name}: cannot split {value!r} into ssh arguments ({exc})") from None


def connection_spec(values: Optional[Mapping], inventory_hostname: Optional[str] = None) -> dict:
    """A plain connection dict from Ansible inventory variables or from an earlier spec.

    ``values`` may hold Ansible's names (``ansible_host``, ``ansible_ssh_private_key_file``...)
    or this module's short keys (``address``, ``identity_file``...; older catalogs also used
    ``sudo`` and ``host``). Unknown keys are ignored. The result has only short keys and can be
    stored as JSON: passwords are refused, never kept."""
    values = dict(values or {})
    for secret in ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "password"):
        if values.get(secret):
            raise ConnectionSpecError(
                f"{secret}: ministack runs host commands with SSH keys only and never stores a password; "
                "give the host ansible_ssh_private_key_file (or an ssh-agent key) instead")
    for secret in ("ansible_become_password", "ansible_become_pass", "become_password"):
        if values.get(secret):
            raise ConnectionSpecError(
                f"{secret}: the controller runs block commands later, from the catalog, and never stores "
                "a become password; give the connecting user passwordless sudo (NOPASSWD) for them")
    name = _first(values, "inventory_hostname", default=inventory_hostname)
    address = str(_first(values, "address", "ansible_host", "ansible_ssh_host", "host", default=name or "localhost"))
    connection = _first(values, "connection", "ansible_connection")
    if connection is None:
        connection = "local" if address in LOCAL_NAMES or (name in LOCAL_NAMES and not values.get("ansible_host")) \
            else "ssh"
    connection = str(connection)
    if connection.endswith(".podman") or connection == "containers.podman.podman":
        connection = "podman"
    if connection in ("ansible.builtin.local",):
        connection = "local"
    if connection in ("ansible.builtin.ssh", "ansible.legacy.ssh", "paramiko", "paramiko_ssh", "smart"):
        connection = "ssh"
    if connection not in ("local", "ssh", "podman"):
        raise ConnectionSpecError(
            f"ansible_connection: ministack's host runner connects with local, ssh or podman, not {connection!r}; "
            "set block_host_connection (or the service's connection) explicitly")
    become = _bool("ansible_become", _first(values, "become", "ansible_become", "sudo", default=False))
    spec = {"connection": connection, "become": become}
    become_user = _first(values, "become_user", "ansible_become_user")
    if become and become_user and become_user != "root":
        spec["become_user"] = str(become_user)
    method = _first(values, "ansible_become_method", "become_method", default="sudo")
    if become and method != "sudo":
        raise ConnectionSpecError(f"ansible_become_method: the host runner becomes with sudo only, not {method!r}")
    if connection == "local":
        return spec
    if connection == "podman":
        spec["container"] = str(_first(values, "container", "ansible_podman_host", default=address))
        return spec
    spec["address"] = address
    port = _first(values, "port", "ansible_port", "ansible_ssh_port")
    if port is not None:
        try:
            spec["port"] = int(port)
        except (TypeError, ValueError):
            raise ConnectionSpecError(f"ansible_port: expected a port number, got {port!r}") from None
    user = _first(values, "user", "ansible_user", "ansible_ssh_user", "remote_user")
    if user:
        spec["user"] = str(user)
    key = _first(values, "identity_file", "ansible_ssh_private_key_file", "ansible_private_key_file")
    if key:
        spec["identity_file"] = str(key)
    if "ssh_args" in values:
        ssh_args = _args("ssh_args", values["ssh_args"])
    else:
        ssh_args = []
        for var in ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args"):
            ssh_args += _args(var, values.get(var))
    hkc = _first(values, "host_key_checking", "ansible_host_key_checking", "ansible_ssh_host_key_checking")
    if hkc is not None:
        spec["host_key_checking"] = _bool("host_key_checking", hkc)
    known = _first(values, "known_hosts", "ansible_ssh_known_hosts_file")
    if known:
        spec["known_hosts"] = str(known)
    if ssh_args:
        spec["ssh_args"] = ssh_args
    timeout = _first(values, "connect_timeout", "ansible_ssh_timeout", "ansible_timeout", default=None)
    if timeout is not None:
        try:
            spec["connect_timeout"] = int(float(timeout))
        except (TypeError, ValueError):
            raise ConnectionSpecError(f"ansible_ssh_timeout: expected seconds, got {timeout!r}") from None
    return spec


def describe(spec: Mapping) -> str:
    """How a spec reaches its host, for messages: ``ssh root@10.0.0.5:22``."""
    spec = dict(spec or {})
    kind = spec.get("connection") or "local"
    if kind == "local":
        return "the controller (local)"
    if kind == "podman":
        return f"podman container {spec.get('container')}"
    user = f"{spec['user']}@" if spec.get("user") else ""
    return f"ssh {user}{spec.get('address')}:{spec.get('port') or 22}"


@dataclass
class Runner:
    """Base runner. ``become`` runs each command through ``sudo -n`` (as ``become_user``)."""

    become: bool = False
    become_user: Optional[str] = None
    env: dict = field(default_factory=dict)
    timeout: float = 600
    failure: type = HostCommandFailed
    timed_out: type = HostCommandTimedOut

    # Older call sites say ``sudo``.
    @property
    def sudo(self) -> bool:
        return self.become

    def _wrap(self, argv):
        argv = [str(a) for a in argv]
        if self.env:
            argv = ["env", *[f"{k}={v}" for k, v in sorted(self.env.items())], *argv]
        if self.become:
            prefix = ["sudo", "-n"]
            if self.become_user:
                prefix += ["-u", self.become_user]
            argv = [*prefix, *argv]
        return argv

    def _execute(self, argv, input_text, timeout):  # pragma: no cover - abstract
        raise NotImplementedError

    def where(self) -> str:
        return "the controller (local)"

    def run(self, argv, check=True, input_text=None, secrets=(), timeout=None):
        """Run argv; ``timeout`` (seconds) overrides the runner's for work that grows with a size."""
        full = self._wrap(argv)
        masked = list(secrets or ())
        limit = self.timeout if timeout is None else timeout
        try:
            proc = self._execute(full, input_text, limit)
        except subprocess.TimeoutExpired:
            raise self.timed_out(str(argv[0]), limit) from None
        except FileNotFoundError as exc:
            raise self.failure([redact(str(a), masked) for a in argv], 127, "", f"{exc} on the controller") from None
        stderr = proc.stderr or ""
        refused = "a password is required" in stderr or "is not allowed to execute" in stderr
        if self.become and proc.returncode != 0 and refused:
            stderr += (f"\nsudo on {self.where()} refused {argv[0]} (no passwordless rule allows this command line): "
                       "the block_host role's sudo rules (/etc/sudoers.d/ministack-block) allow exactly the commands "
                       "ministack runs, so re-run the role after upgrading ministack; or give the connecting user "
                       "passwordless sudo (NOPASSWD), or connect as root")
        result = Result(proc.returncode, proc.stdout, stderr)
        if check and result.rc != 0:
            raise self.failure([redact(str(a), masked) for a in argv], result.rc,
                               redact(result.stdout or "", masked), redact(result.stderr, masked))
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
                    raise self.timed_out(str(argv[0]), limit)
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise self.timed_out(str(argv[0]), limit) from None
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            reader.join(timeout=5)
        return Result(proc.returncode, "", redact("".join(errors), secrets))

    def write_file(self, path, content, mode="0600"):
        """Write a small file atomically (temp file + rename) with the given mode; the content
        travels on stdin (it may hold a CHAP secret)."""
        tmp = f"{path}.ministack-tmp"
        self.run(["install", "-m", mode, "/dev/null", tmp])
        # dd, not tee: tee would echo the content to stdout.
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
        return _run_process(argv, input_text, timeout)


@dataclass
class SSHRunner(Runner):
    """OpenSSH with the inventory's arguments first, then ControlMaster so that many small
    commands share one connection (the way Ansible's ssh connection plugin runs)."""

    host: str = ""
    user: Optional[str] = None
    port: Optional[int] = None
    identity_file: Optional[str] = None
    ssh_args: tuple = ()
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    known_hosts_file: Optional[str] = None
    host_key_checking: bool = True

    @property
    def ssh_options(self) -> tuple:
        """The runner's own options, after the inventory's (which win: ssh keeps the first value).
        Host keys: checked against the controller's known_hosts file (common_host's host_key entry
        point records them on first use); an unknown or changed key is refused; or not checked."""
        if self.host_key_checking:
            keys = ["-o", "StrictHostKeyChecking=yes"]
            if self.known_hosts_file:
                keys += ["-o", f"UserKnownHostsFile={self.known_hosts_file}"]
        else:
            keys = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return (*keys, *RUNNER_SSH_OPTIONS)

    def where(self) -> str:
        return describe({"connection": "ssh", "address": self.host, "user": self.user, "port": self.port})

    def _local_argv(self, full):
        return self.command(full)

    def command(self, argv):
        """The local argv that runs ``argv`` (already wrapped) on the host."""
        ssh = ["ssh", *self.ssh_args]
        if self.identity_file:
            # As Ansible does: only this key, not every key an agent offers first.
            ssh += ["-o", f"IdentityFile=\"{self.identity_file}\"", "-o", "IdentitiesOnly=yes"]
        ssh += ["-o", f"ConnectTimeout={int(self.connect_timeout)}", *self.ssh_options]
        if self.port:
            ssh += ["-o", f"Port={int(self.port)}"]
        if self.user:
            ssh += ["-o", f"User=\"{self.user}\""]
        # ssh hands one string to the remote shell: quote every argv element.
        return [*ssh, self.host, "--", " ".join(shlex.quote(a) for a in argv)]

    def _execute(self, argv, input_text, timeout):
        # ssh cannot make the ControlMaster socket's directory itself ("unix_listener: cannot bind
        # to path ...: No such file or directory"), and a controller that never ran ssh has no ~/.ssh.
        # ssh expands ControlPath's ~ from the password database, not $HOME.
        os.makedirs(os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".ssh"), mode=0o700, exist_ok=True)
        proc = _run_process(self.command(argv), input_text, timeout)
        if proc.returncode == SSH_UNREACHABLE:
            stderr = proc.stderr or ""
            tail = stderr.strip().splitlines()
            last = tail[-1] if tail else "ssh exit 255"
            if "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
                known = self.known_hosts_file or "~/.ssh/known_hosts"
                proc.stderr = (f"SSH to {self.host} refused: its host key is unknown or differs from the one "
                               f"recorded in {known} ({last}). If the host was reinstalled on purpose, remove the "
                               f"old key with `ssh-keygen -R {self.host} -f {known}` and re-run playbooks/site.yml "
                               "to record the new one.")
            else:
                proc.stderr = (f"cannot reach the host over {self.where()}: {last} (check ansible_host, "
                               "ansible_user, ansible_ssh_private_key_file and ansible_ssh_common_args in the "
                               "inventory)")
        return proc


@dataclass
class PodmanRunner(Runner):
    """Runs inside a podman container (lab and molecule hosts), argv passed through as-is."""

    container: str = ""

    def where(self) -> str:
        return f"podman container {self.container}"

    def _local_argv(self, full):
        return ["podman", "exec", "-i", self.container, *full]

    def _execute(self, argv, input_text, timeout):
        return _run_process(["podman", "exec", "-i", self.container, *argv], input_text, timeout)


def runner_for(values: Optional[Mapping], failure: type = HostCommandFailed, env: Optional[dict] = None,
               timeout: float = 600, timed_out: type = HostCommandTimedOut) -> Runner:
    """The runner for a host, from its connection spec or its inventory variables."""
    spec = connection_spec(values)
    common = {"become": spec.get("become", False), "become_user": spec.get("become_user"),
              "env": dict(env or {}), "timeout": timeout, "failure": failure, "timed_out": timed_out}
    if spec["connection"] == "local":
        return LocalRunner(**common)
    if spec["connection"] == "podman":
        return PodmanRunner(container=spec["container"], **common)
    return SSHRunner(host=spec["address"], user=spec.get("user"), port=spec.get("port"),
                     identity_file=spec.get("identity_file"), ssh_args=tuple(spec.get("ssh_args") or ()),
                     connect_timeout=spec.get("connect_timeout") or DEFAULT_CONNECT_TIMEOUT,
                     known_hosts_file=spec.get("known_hosts"), host_key_checking=spec.get("host_key_checking", True),
                     **common)
