# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The flavors a fresh cloud has: the six of the seed's `openstack flavor list`.

Created once, when the catalog is created (as an installer creates them); deleting one
later is the operator's choice and a migration never brings it back.
"""

from __future__ import annotations

from datetime import datetime, timezone

SEED_FLAVORS = [
    # id, name, ram (MiB), disk (GiB), vcpus
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 20, 1),
    ("3", "m1.medium", 4096, 40, 2),
    ("4", "m1.large", 8192, 80, 4),
    ("5", "m1.xlarge", 16384, 160, 8),
    ("20", "newflavor", 768, 1, 1),
]


def upgrade(op):
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(
        "flavors",
        [
            {
                "id": flavor_id,
                "name": name,
                "ram": ram,
                "disk": disk,
                "vcpus": vcpus,
                "ephemeral": 0,
                "swap": 0,
                "rxtx_factor": 1.0,
                "is_public": True,
                "disabled": False,
                "description": None,
                "created_at": now,
            }
            for flavor_id, name, ram, disk, vcpus in SEED_FLAVORS
        ],
    )
