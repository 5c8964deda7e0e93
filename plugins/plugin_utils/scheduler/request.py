# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request spec: flavor, image, AZ, hints, server group, project."""

from __future__ import annotations

import collections.abc
import math

from .errors import SchedulerInputError

# Glance's legacy property names, mapped as nova.objects.ImageMetaProps does.
_LEGACY_IMAGE_PROPERTIES = {
    "architecture": "hw_architecture",
    "hypervisor_type": "img_hv_type",
    "vm_mode": "hw_vm_mode",
    "hypervisor_version_requires": "img_hv_requested_version",
}
_IMAGE_KEYS = ("hw_architecture", "img_hv_type", "hw_vm_mode", "img_hv_requested_version")
_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


class Resources:
    """What one instance asks placement for (nova.scheduler.utils.resources_from_flavor)."""

    __slots__ = ("disk_gb", "memory_mb", "vcpus")

    def __init__(self, vcpus, memory_mb, disk_gb):
        self.vcpus = vcpus
        self.memory_mb = memory_mb
        self.disk_gb = disk_gb


def _whole(flavor, key, required):
    value = flavor.get(key)
    if value is None or value == "":
        if required:
            raise SchedulerInputError(f"flavor: '{key}' is required (a whole number)")
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SchedulerInputError(f"flavor: {key} must be a whole number, got {value!r}") from None
    if number < 0 or number != float(value):
        raise SchedulerInputError(f"flavor: {key} must be a whole number >= 0, got {value!r}")
    return number


def _omitted(value):
    # Jinja's `omit` arrives as a placeholder string when a filter argument is omitted.
    return value is None or (isinstance(value, str) and value.startswith("__omit_place_holder__"))


class RequestSpec:
    def __init__(self, flavor, image=None, availability_zone=None, scheduler_hints=None,
                 server_group=None, project_id=None):
        if not isinstance(flavor, collections.abc.Mapping):
            raise SchedulerInputError("flavor: must be a dict with vcpus, ram, disk (as the flavor module returns)")
        self.flavor = flavor
        vcpus = _whole(flavor, "vcpus", True)
        ram = _whole(flavor, "ram", True)
        disk = _whole(flavor, "disk", False)
        ephemeral = _whole(flavor, "ephemeral", False) or _whole(flavor, "OS-FLV-EXT-DATA:ephemeral", False)
        swap = _whole(flavor, "swap", False)
        if vcpus < 1 or ram < 1:
            raise SchedulerInputError("flavor: vcpus and ram must be at least 1")
        self.vcpus, self.ram, self.disk, self.ephemeral, self.swap = vcpus, ram, disk, ephemeral, swap
        # Placement's DISK_GB request: root + ephemeral + swap rounded up to whole GB.
        self.resources = Resources(vcpus, ram, disk + ephemeral + math.ceil(swap / 1024))
        extra_specs = flavor.get("extra_specs")
        if extra_specs is None:
            extra_specs = flavor.get("properties")
        extra_specs = extra_specs or {}
        if not isinstance(extra_specs, collections.abc.Mapping):
            raise SchedulerInputError("flavor: extra_specs must be a dict of key: value strings")
        self.extra_specs = {str(k): "" if v is None else str(v) for k, v in extra_specs.items()}

        self.image_properties = self._image_properties(None if _omitted(image) else image)
        self.availability_zone = None if _omitted(availability_zone) or availability_zone == "" else str(availability_zone)
        hints = {} if _omitted(scheduler_hints) else scheduler_hints
        if not isinstance(hints, collections.abc.Mapping):
            raise SchedulerInputError("scheduler_hints: must be a dict such as {same_host: [server ids]}")
        self.same_host = self._hint_list(hints, "same_host")
        self.different_host = self._hint_list(hints, "different_host")
        self.hints = hints
        self.project_id = None if _omitted(project_id) else str(project_id)
        self.instance_id = None
        self.hosts_in_aggregates = []
        self._set_group(None if _omitted(server_group) else server_group)

    @staticmethod
    def _hint_list(hints, key):
        value = hints.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return {value}
        if not isinstance(value, collections.abc.Iterable):
            raise SchedulerInputError(f"scheduler_hints.{key}: must be a server id or a list of them")
        return {str(item) for item in value}

    @staticmethod
    def _image_properties(image):
        if image is None:
            return {}
        if not isinstance(image, collections.abc.Mapping):
            raise SchedulerInputError("image: must be a dict (an image with its properties)")
        props = {}
        nested = image.get("properties")
        for source in (image, nested if isinstance(nested, collections.abc.Mapping) else {}):
            for key, value in source.items():
                key = _LEGACY_IMAGE_PROPERTIES.get(key, key)
                if key in _IMAGE_KEYS and value not in (None, ""):
                    props[key] = str(value)
        return props

    def _set_group(self, group):
        self.group_policy = None
        self.group_members = set()
        self.group_hosts = set()
        self.max_server_per_host = 1
        if group is None:
            return
        if not isinstance(group, collections.abc.Mapping):
            raise SchedulerInputError("server_group: must be a dict with policy and members")
        policy = group.get("policy")
        if policy is None and group.get("policies"):
            policy = next(iter(group["policies"]))
        if policy not in _POLICIES:
            raise SchedulerInputError(
                f"server_group.policy: must be one of {', '.join(_POLICIES)}, got {policy!r}")
        self.group_policy = policy
        members = group.get("members") or ()
        if isinstance(members, str):
            raise SchedulerInputError("server_group.members: must be a list of server ids or names")
        self.group_members = {str(m) for m in members}
        self.group_hosts = {str(h) for h in group.get("hosts") or ()}
        rules = group.get("rules") or {}
        if rules.get("max_server_per_host") not in (None, ""):
            try:
                self.max_server_per_host = int(rules["max_server_per_host"])
            except (TypeError, ValueError):
                raise SchedulerInputError("server_group.rules.max_server_per_host: must be a whole number") from None
            if self.max_server_per_host < 1:
                raise SchedulerInputError("server_group.rules.max_server_per_host: must be at least 1")
