"""ministack.cloud.object_ring and the ring filters through ansible-playbook (tests/helpers/playbook.py)."""

from __future__ import annotations

import hashlib
import json
import pathlib

from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as R

from tests.helpers import playbook
from tests.helpers.playbook import task_result

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / "playbooks"


def run_playbook(name, *extra):
    run = playbook.on_localhost(PLAYBOOKS / name, *extra)
    return run, run.as_json()


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_object_ring_lifecycle(tmp_path):
    ring_dir = tmp_path / "swift"
    builder, ring_file = ring_dir / "object.builder.json", ring_dir / "object.ring.gz"

    # 1. first run builds the ring and writes both files
    proc, out = run_playbook("object_ring.yml", "-e", f"ring_dir={ring_dir}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    first = task_result(out, "Object ring")
    assert first["changed"] is True and first["rebalanced"] is True
    assert first["moved"] == 3 * 1024
    assert first["balance"] < 1 and first["dispersion"] == 0
    assert builder.is_file() and ring_file.is_file()
    report = task_result(out, "Report")["msg"]
    assert report["partition"] == 312  # the reference test vector
    assert len(report["nodes"]) == 4 and sorted(report["node_zones"][:3]) == [1, 2, 3]
    assert report["filtered"] == {"balance": first["balance"], "dispersion": 0.0, "moved": 3072}
    state = json.loads(builder.read_text())
    assert state["format"] == R.FORMAT
    assert R.read_ring_gz(str(ring_file))["replica2part2dev_id"] == R.decoded_rows(state)
    before = {p: digest(p) for p in (builder, ring_file)}

    # 2. same devices again: nothing changes
    proc, out = run_playbook("object_ring.yml", "-e", f"ring_dir={ring_dir}")
    second = task_result(out, "Object ring")
    assert second["changed"] is False and second["moved"] == 0
    assert {p: digest(p) for p in before} == before

    # 3. check mode with a new server: reports the move and the device diff, writes nothing
    proc, out = run_playbook("object_ring.yml", "-e", f"ring_dir={ring_dir}", "-e", "add_server=true",
                             "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-3000:]
    checked = task_result(out, "Object ring")
    assert checked["changed"] is True and checked["moved"] > 0
    diff = checked["diff"][0] if isinstance(checked["diff"], list) else checked["diff"]
    added = set(diff["after"]["devices"]) - set(diff["before"]["devices"])
    assert added == {"d6r1z4-10.0.0.14:6200/sdb weight 100", "d7r1z4-10.0.0.14:6200/sdc weight 100"}
    assert {p: digest(p) for p in before} == before

    # 4. really add it: rebalances, moves what check mode said, stays balanced and dispersed
    proc, out = run_playbook("object_ring.yml", "-e", f"ring_dir={ring_dir}", "-e", "add_server=true")
    added_run = task_result(out, "Object ring")
    assert added_run["changed"] is True and added_run["moved"] == checked["moved"] > 0
    assert added_run["balance"] < 2 and added_run["dispersion"] == 0
    assert digest(ring_file) != before[ring_file]
    new = [d for d in added_run["devices"] if d["ip"] == "10.0.0.14"]
    assert sum(d["parts"] for d in new) == added_run["moved"]

    # 5. and again: unchanged
    proc, out = run_playbook("object_ring.yml", "-e", f"ring_dir={ring_dir}", "-e", "add_server=true")
    assert task_result(out, "Object ring")["changed"] is False


def test_bad_device_fails_naming_the_field_and_writes_nothing(tmp_path):
    ring_dir = tmp_path / "swift"
    proc, out = run_playbook("bad_device.yml", "-e", f"ring_dir={ring_dir}")
    assert proc.returncode == 2
    result = task_result(out, "Object ring with a bad device")
    assert result["failed"] is True
    assert result["msg"].startswith("devices[2] (10.0.0.13:6200/sdb): missing required field 'zone'")
    assert not ring_dir.exists()
