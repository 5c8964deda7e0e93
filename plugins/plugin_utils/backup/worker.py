# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The detached controller process behind ``volume_backup`` with ``wait: false``.

It reads one JSON job on stdin (catalog URL, backup id, object store settings: never in
argv), runs the host work of a backup that volume_backup planned with this process as the
owner of its task (catalog/tasks.py), and records the outcome. If it dies, its pid is gone
and the backup is settled the next time a module touches it.
"""

from __future__ import annotations

import json
import sys


def main():
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    job = json.loads(line)
    from ..catalog import open_catalog
    from . import service
    from .resources import store_for

    catalog = open_catalog(job["catalog"])
    store = store_for(job["params"])
    with catalog.read() as tx:
        plan = service.load_plan(tx, job["backup_id"])
    try:
        service.run_create(catalog, plan, store, job["timeout"])
    except service.CatalogError:
        return 1  # recorded in the backup's status and fail_reason
    return 0


if __name__ == "__main__":
    sys.exit(main())
