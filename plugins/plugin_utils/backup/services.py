# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``cinder-backup`` rows of `openstack volume service list`.

Each block host runs the backups of its own volumes (the controller drives it), so every
block host has a cinder-backup service, named by its node (Cinder's cinder-backup has no
``@backend``), in its zone, up when its cinder-volume is up.
"""

from __future__ import annotations


def backup_service_records(volume_records: list[dict]) -> list[dict]:
    rows: dict[str, dict] = {}
    for record in volume_records:
        if record.get("binary") != "cinder-volume":
            continue
        node = record["host"].split("@", 1)[0]
        row = rows.get(node)
        if row is None or (row["state"] == "down" and record["state"] == "up"):
            rows[node] = {"binary": "cinder-backup", "host": node, "zone": record["zone"],
                          "status": record["status"], "state": record["state"], "updated_at": record["updated_at"],
                          "disabled_reason": None}
    return [rows[n] for n in sorted(rows)]
