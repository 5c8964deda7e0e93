"""A run killed between writing a ring's temporary copy and renaming it leaves the copy behind;
the next run removes it, also when the killed writer is still an unreaped zombie (a container
whose PID 1 never reaps) or its pid now belongs to a later process."""

from __future__ import annotations

import os
import time

from ansible_collections.ministack.cloud.plugins.plugin_utils import processes
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring.store import (
    _temp_prefix,
    remove_stale_temps,
)


def _zombie():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    deadline = time.monotonic() + 10
    while True:  # wait until it has exited, without reaping it
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return pid
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_zombie_counts_as_gone():
    pid = _zombie()
    try:
        assert os.path.exists(f"/proc/{pid}")
        assert processes.start_ticks(pid) is None and processes.running(pid) is False
    finally:
        os.waitpid(pid, 0)
    assert processes.running(os.getpid()) is True


def test_the_temporary_copy_of_a_zombie_writer_is_removed(tmp_path):
    pid = _zombie()
    try:
        left = tmp_path / (_temp_prefix(str(tmp_path / "object.builder.json"), pid) + "x1")
        left.write_text("{}")
        mine = tmp_path / (_temp_prefix(str(tmp_path / "object.ring.gz")) + "x2")
        mine.write_text("")
        other = tmp_path / (_temp_prefix(str(tmp_path / "unrelated.json"), pid) + "x3")
        other.write_text("")
        assert remove_stale_temps(str(tmp_path), ("object.builder.json", "object.ring.gz")) == [left.name]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])
    finally:
        os.waitpid(pid, 0)


def test_a_pid_reused_by_a_later_process_does_not_keep_the_copy(tmp_path):
    # this process is running, but started long after the copy's mtime: not its writer
    left = tmp_path / (_temp_prefix(str(tmp_path / "object.builder.json")) + "x1")
    left.write_text("{}")
    os.utime(left, (1_000_000_000, 1_000_000_000))
    assert remove_stale_temps(str(tmp_path), ("object.builder.json",)) == [left.name]
