"""Builders shared by the scheduler tests."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler import NoValidHost, select_hosts

FLAVOR = {"name": "m1.small", "vcpus": 1, "ram": 1024, "disk": 10, "ephemeral": 0, "swap": 0, "extra_specs": {}}


def host(name, **fields):
    """A roomy, healthy host; fields override."""
    state = {
        "name": name, "enabled": True, "up": True, "vcpus": 16, "vcpus_used": 0, "memory_mb": 32768,
        "memory_mb_used": 0, "local_gb": 500, "local_gb_used": 0, "hypervisor_type": "QEMU",
        "capabilities": {}, "instances": [], "num_io_ops": 0, "failed_builds": 0,
    }
    state.update(fields)
    return state


def flavor(**fields):
    result = dict(FLAVOR)
    result["extra_specs"] = dict(FLAVOR["extra_specs"])
    result.update(fields)
    return result


def only(*filters, **config):
    """Config that enables just these filters (placement's checks still run)."""
    return {"enabled_filters": list(filters), **config}


def chosen(hosts, fl=None, **kwargs):
    """Names of the hosts picked, one per instance."""
    return [entry["host"] for entry in select_hosts(hosts, fl or flavor(), **kwargs)]


def passing(hosts, fl=None, **kwargs):
    """Names of every host that survives the filters (max_attempts large enough to list them all)."""
    config = dict(kwargs.pop("config", None) or {})
    config["max_attempts"] = len(hosts) + 1
    try:
        result = select_hosts(hosts, fl or flavor(), config=config, **kwargs)
    except NoValidHost:
        return set()
    return {result[0]["host"], *result[0]["alternates"]}


def failure(hosts, fl=None, **kwargs):
    try:
        select_hosts(hosts, fl or flavor(), **kwargs)
    except NoValidHost as exc:
        return str(exc)
    raise AssertionError("expected NoValidHost")
