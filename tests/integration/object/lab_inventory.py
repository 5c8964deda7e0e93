"""The object-store lab inventory: the lab's own inventory plus zones, devices and a proxy."""

from __future__ import annotations

import pathlib

from .conftest import ACCOUNTS, FUNCTIONAL_PROXY_VARS, POLICIES


def object_lab_inventory(
    lab_inventory: pathlib.Path, out: pathlib.Path, cluster_dir: pathlib.Path, proxy: str
) -> dict:
    import yaml

    inv = yaml.safe_load(lab_inventory.read_text())
    children = inv["all"]["children"]
    object_hosts = list(children["object"]["hosts"])
    for zone, host in enumerate(object_hosts, start=1):
        children["object"]["hosts"][host] = {
            "object_host_zone": zone,
            # Three devices per host: the ec42 policy's six fragments take two per host, and with a
            # host down the other six devices still give every fragment a place (handoffs).
            "object_host_devices": [{"name": "d1"}, {"name": "d2"}, {"name": "d3"}],
        }
    children["object_proxy"] = {"hosts": {proxy: {}}}
    inv["all"]["vars"].update(
        {
            "object_cluster_dir": str(cluster_dir),
            "object_host_replicator_interval": 5,
            "object_host_auditor_interval": 5,
            "object_storage_policies": POLICIES,
            "object_host_expirer_interval": 5,
            **FUNCTIONAL_PROXY_VARS,
            "object_proxy_accounts": ACCOUNTS,
            "object_proxy_reseller_prefixes": ["AUTH", "SERVICE"],
            "object_proxy_require_groups": {"SERVICE": "service"},
        }
    )
    out.write_text(yaml.safe_dump(inv))
    hosts = children["lab"]["hosts"]
    return {
        "object_hosts": {h: hosts[h]["ansible_host"] for h in object_hosts},
        "proxy_ip": hosts[proxy]["ansible_host"],
    }
