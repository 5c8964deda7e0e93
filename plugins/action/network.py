# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.network: see plugins/modules/network.py.

The catalog record is written in one transaction; then each KVM host's libvirt network is
made to match (defined and started, or removed), and ``changed`` covers both.
"""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import CatalogError
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.networks import (
    Network,
    realize_on_hosts,
)


class ActionModule(ComputeAction):
    MODULE = "network"
    RESOURCE = Network

    def _execute(self, catalog, resource, check_mode: bool) -> dict:
        outcome = super()._execute(catalog, resource, check_mode)
        if resource.params.get("realize", True):
            record = outcome.get("network") or (outcome.get("diff") or {}).get("before")
            absent = (resource.params.get("state") or "present") == "absent"
            try:
                hosts = realize_on_hosts(catalog, record, absent=absent, check_mode=check_mode) if record else []
            except CatalogError:
                created = not (outcome.get("diff") or {}).get("before")
                if created and not check_mode and not absent:
                    # A network no host can run (its subnet is taken there, ...) is not kept.
                    undo = Network({"name": record["name"], "state": "absent"}, context=resource.context)
                    with catalog.begin() as tx:
                        undo.run(tx)
                    realize_on_hosts(catalog, record, absent=True)
                raise
            outcome["hosts_changed"] = hosts
            outcome["changed"] = bool(outcome["changed"] or hosts)
        else:
            outcome["hosts_changed"] = []
        return outcome
