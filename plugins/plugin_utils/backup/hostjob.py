# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run hostprog.py on a block host through the block host runner.

argv is only ``python3 -c <bootstrap>``; the program's text and the job (with the Swift
token) travel on stdin, so a process list on the host shows no secret. The host needs
python3 and nothing else.
"""

from __future__ import annotations

import json
import os

from ..catalog.errors import CatalogError

BOOTSTRAP = ("import json,sys;d=json.loads(sys.stdin.readline());"
             "exec(compile(d['program'],'ministack-backup','exec'),{'__name__':'__main__','JOB':d['job']})")
_PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostprog.py")


class HostJobFailed(CatalogError):
    """The block host's program reported an error (message as it gave it)."""

    def __init__(self, message, written=()):
        self.written = list(written)
        super().__init__(message)


def program() -> str:
    with open(_PROGRAM, encoding="utf-8") as handle:
        return handle.read()


def run(runner, job: dict, on_progress=None, timeout=None) -> dict:
    """Run one backup/restore job; returns the program's ``done`` summary.

    ``on_progress(bytes_done, bytes_total)`` is called for each progress line.
    Raises HostJobFailed with the program's message.
    """
    state = {"done": None, "error": None, "written": []}

    def on_line(line):
        kind, rest = [*line.split(" ", 1), ""][:2]
        if kind == "progress" and on_progress is not None:
            done, total = rest.split(" ", 1)
            on_progress(int(done), int(total))
        elif kind == "object":
            state["written"].append(rest)
        elif kind == "done":
            state["done"] = json.loads(rest)
        elif kind == "error":
            state["error"] = rest

    token = job.get("token") or ""
    payload = json.dumps({"program": program(), "job": job}) + "\n"
    try:
        result = runner.stream(["python3", "-u", "-c", BOOTSTRAP], on_line, input_text=payload, secrets=[token],
                               timeout=timeout)
    except Exception as exc:  # the runner could not run it at all (ssh down, timeout)
        raise HostJobFailed(f"the block host could not run the {job['action']}: {_clean(str(exc), token)}",
                            state["written"]) from None
    if state["error"] or result.rc != 0 or state["done"] is None:
        detail = state["error"] or _clean(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else
                                          f"exit {result.rc}", token)
        raise HostJobFailed(detail, state["written"])
    return state["done"]


def _clean(text, token):
    return text.replace(token, "********") if token else text
