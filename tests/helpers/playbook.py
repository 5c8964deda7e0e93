"""The one way the tests run a playbook: ansible-runner (a dependency of the project, and how
its users run playbooks from Python), with this checkout's ansible.cfg and collections.

    run = playbook.run("volume.yml", workdir=tmp_path, extravars={...}, check=True)
    run.returncode, run.stdout              # ansible-playbook's exit code and its printed output
    run.task("Create the volume")           # that task's result on localhost (ok, failed or skipped)
    run.host_stats()                        # the recap of localhost: ok, changed, failures, ...

A playbook is a file name (under ``playbooks``, else as given) or a list of plays, written to
the work directory. Each run has its own ansible-runner directory under ``workdir``, so tests
may run playbooks from threads.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import sys
import tempfile
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = f"{ROOT / 'collections'}:{ROOT / '.cache' / 'collections'}"
RESULT_EVENTS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_skipped": "skipped",
                 "runner_on_unreachable": "unreachable"}
# ansible-runner's recap names -> the names ansible-playbook's recap (and the json callback) print
RECAP = {"ok": "ok", "changed": "changed", "failures": "failures", "dark": "unreachable", "skipped": "skipped",
         "rescued": "rescued", "ignored": "ignored"}


class Run:
    """A finished playbook run: its exit code, output and every task result, in order."""

    def __init__(self, runner, playbook: str):
        self.runner = runner
        self.playbook = playbook
        self.status = runner.status
        self.rc = self.returncode = runner.rc
        self.stdout = runner.stdout.read()
        self.stderr = ""  # ansible-runner runs ansible-playbook on a pty: one stream, in stdout
        self.events = list(runner.events)
        self.stats = runner.stats or {}
        # (task name, host, outcome, result) for each task's final result; a loop's items are
        # in its final result's "results".
        self.tasks: list[tuple[str, str, str, dict]] = []
        for event in self.events:
            outcome = RESULT_EVENTS.get(event.get("event"))
            if outcome:
                data = event.get("event_data", {})
                res = dict(data.get("res") or {})
                if outcome != "ok":  # as the json callback and a registered variable show it
                    res.setdefault(outcome, True)
                self.tasks.append((data.get("task"), data.get("host"), outcome, res))
        self.results = self.results_of("ok")  # by task name, the results of the tasks that ended ok
        self.failures = self.results_of("failed")  # and of those that failed

    def result(self, task: str) -> dict:
        """The first ok result of ``task``."""
        return self.results[task][0]

    def changed(self) -> int:
        """How many task results changed something, on every host."""
        return sum(self.stats.get("changed", {}).values())

    def failed(self) -> int:
        return sum(self.stats.get("failures", {}).values())

    def changed_tasks(self) -> list[str]:
        return [name for name, results in self.results.items() if any(r.get("changed") for r in results)]

    def results_of(self, outcome: str) -> dict[str, list[dict]]:
        """Results by task name, of the tasks that ended so (``ok``, ``failed``, ...)."""
        by_task: dict[str, list[dict]] = {}
        for name, _host, ended, res in self.tasks:
            if ended == outcome:
                by_task.setdefault(name, []).append(res)
        return by_task

    def task(self, name: str, host: str = "localhost") -> dict:
        """The result of the task ``name`` on ``host`` (its last, when it ran more than once)."""
        found = [res for task, on, _ended, res in self.tasks if task == name and on == host]
        if not found:
            raise KeyError(name)
        return found[-1]

    def ordered(self, host: str = "localhost") -> list[dict]:
        """Every task result on ``host``, in the order the tasks ran."""
        return [res for _task, on, _ended, res in self.tasks if on == host]

    def host_stats(self, host: str = "localhost") -> dict:
        return {name: self.stats.get(key, {}).get(host, 0) for key, name in RECAP.items()}

    def as_json(self) -> dict:
        """The run as the json stdout callback prints it: ``plays[].tasks[].hosts`` and ``stats``."""
        tasks: list[dict] = []
        for name, host, _ended, res in self.tasks:
            if not tasks or tasks[-1]["task"]["name"] != name or host in tasks[-1]["hosts"]:
                tasks.append({"task": {"name": name}, "hosts": {}})
            tasks[-1]["hosts"][host] = res
        hosts = {host for _name, host, _ended, _res in self.tasks}
        return {"plays": [{"tasks": tasks}], "stats": {host: self.host_stats(host) for host in sorted(hosts)}}

    def explain(self) -> str:
        return f"{self.playbook}: {self.status} (rc {self.rc})\n{self.stdout[-5000:]}"


# Every process of one run carries this variable (ansible-runner passes its environment to
# ansible-playbook, whose workers and ssh clients inherit it).
RUN_MARK = "MINISTACK_PLAYBOOK_RUN"


def kill_run(mark: str) -> list[int]:
    """SIGKILL every process left by the run marked ``mark``. ansible-runner's timeout kills
    ansible-playbook's process group, but each ansible-core worker calls setsid(), so workers (and
    the module processes they wait for) outlive it; they are found by the mark in their environment.
    Shared ssh ControlPersist masters ("[mux]") are left to expire on their own."""
    needle = f"{RUN_MARK}={mark}".encode()
    killed = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            if b"[mux]" in (proc / "cmdline").read_bytes():
                continue
            os.kill(int(proc.name), signal.SIGKILL)
            killed.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return killed


def run(playbook, *, workdir=None, inventory=None, extravars=None, check=False, diff=False, verbose=False,
        args=(), envvars=None, timeout=900) -> Run:
    """Run ``playbook`` (a path, or a list of plays). ``inventory``: a path, a list of sources
    (``["localhost,"]``) or a dict; ``args``: more ansible-playbook arguments (``-e``, ``-c``)."""
    import shlex

    import ansible_runner

    workdir = workdir or tempfile.mkdtemp(prefix="ministack-play-")
    private = pathlib.Path(workdir) / f"runner-{uuid.uuid4().hex[:8]}"
    private.mkdir(parents=True)
    if not isinstance(playbook, (str, os.PathLike)):
        path = private / "play.yml"
        path.write_text(json.dumps(playbook))
        playbook = path
    cmdline = [flag for flag, on in (("--check", check), ("--diff", diff), ("-vvv", verbose)) if on] + list(args)
    kwargs = {}
    mark = uuid.uuid4().hex
    if inventory:
        kwargs["inventory"] = inventory if isinstance(inventory, (list, dict)) else str(inventory)
    runner = ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(playbook),
        extravars=dict(extravars or {}),
        cmdline=shlex.join(cmdline) or None,
        envvars={
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_PATH,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            **(envvars or {}),
            RUN_MARK: mark,
            # this Python's ansible-playbook (the checkout's .venv), whether or not it is activated
            "PATH": f"{pathlib.Path(sys.executable).parent}:{(envvars or {}).get('PATH') or os.environ.get('PATH', '')}",
        },
        quiet=True,
        timeout=timeout,
        host_cwd=str(ROOT),
        **kwargs,
    )
    if runner.status in ("timeout", "canceled"):
        kill_run(mark)
    return Run(runner, str(playbook))


def task_result(output: dict, task_name: str, host: str = "localhost") -> dict:
    """The result of ``task_name`` on ``host`` in a json-callback output (``Run.as_json()``)."""
    for play in output["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == task_name:
                return task["hosts"][host]
    raise KeyError(task_name)


def on_localhost(playbook, *args, timeout=300) -> Run:
    """``ansible-playbook -i localhost, -c local <playbook> <args>``, as a user runs a controller play."""
    return run(playbook, inventory=["localhost,"], args=["-c", "local", *args], timeout=timeout)
