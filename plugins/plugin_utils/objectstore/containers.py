# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.object_container`` and ``object_container_info``: Swift containers."""

from __future__ import annotations

import time

from .client import ObjectStoreError, metadata_of
from .resource import Resource, account_of, check_container_name, check_metadata


def container_view(account: str, name: str, headers: dict) -> dict:
    """The fields of ``openstack container show``."""
    return {
        "account": account,
        "container": name,
        "bytes_used": int(headers.get("x-container-bytes-used", 0)),
        "object_count": int(headers.get("x-container-object-count", 0)),
        "read_acl": headers.get("x-container-read"),
        "write_acl": headers.get("x-container-write"),
        "storage_policy": headers.get("x-storage-policy"),
        "properties": metadata_of(headers, "container"),
    }


class Container(Resource):
    """Create, update (metadata, ACLs) or delete one container."""

    def run(self) -> dict:
        p = self.params
        name = check_container_name("name", p["name"])
        set_meta = check_metadata("metadata", p.get("metadata"))
        drop_keys = [str(k).lower() for k in p.get("delete_metadata_keys") or []]
        both = sorted(set(set_meta) & set(drop_keys))
        if both:
            raise ObjectStoreError(
                f"metadata and delete_metadata_keys both name {', '.join(both)}; keep each key in one of them."
            )
        account = account_of(self.swift)
        headers = self.swift.head(name)
        before = container_view(account, name, headers) if headers is not None else None
        policy = self._policy(p.get("storage_policy")) if p["state"] == "present" else None
        if policy and before is not None and (before["storage_policy"] or "").lower() != policy.lower():
            raise ObjectStoreError(
                f"storage_policy: container {name} already has storage policy {before['storage_policy']}; a "
                "container's policy cannot change (HTTP 409). Leave storage_policy out, or delete the container "
                "and create it again."
            )

        if p["state"] == "absent":
            if before is None:
                return {"changed": False, "container": None, "diff": {"before": {}, "after": {}}}
            if before["object_count"] and not p.get("delete_with_all_objects"):
                raise ObjectStoreError(
                    f"Container {name} is not empty ({before['object_count']} objects) (HTTP 409). "
                    "Set delete_with_all_objects=true to delete it with its objects."
                )
            if not self.check_mode:
                self._delete(name, bool(p.get("delete_with_all_objects")))
            return {"changed": True, "container": None, "diff": {"before": before, "after": {}}}

        request: dict[str, str] = {}
        current_meta = before["properties"] if before else {}
        for key, value in set_meta.items():
            if current_meta.get(key) != value:
                request[f"X-Container-Meta-{key}"] = value
        for key in drop_keys:
            if key in current_meta:
                request[f"X-Remove-Container-Meta-{key}"] = "x"
        for acl, header in (("read_ACL", "X-Container-Read"), ("write_ACL", "X-Container-Write")):
            wanted = p.get(acl)
            if wanted is None:
                continue
            have = (before or {}).get(acl.lower()) or ""
            if wanted != have:
                if wanted:
                    request[header] = wanted
                else:
                    request["X-Remove-" + header[2:]] = "x"
        after_meta = {k: v for k, v in {**current_meta, **set_meta}.items() if k not in drop_keys}
        if before is not None and not request:
            return {"changed": False, "container": before, "diff": {"before": before, "after": before}}
        if self.check_mode:
            after = dict(before or container_view(account, name, {}))
            after["properties"] = after_meta
            for acl in ("read_ACL", "write_ACL"):
                if p.get(acl) is not None:
                    after[acl.lower()] = p[acl] or None
            if before is None and policy:
                after["storage_policy"] = policy
        else:
            if before is None:
                create = {k: v for k, v in request.items() if not k.startswith("X-Remove-")}
                if policy:
                    create["X-Storage-Policy"] = policy
                self.swift.request("PUT", name, headers=create)
            else:
                self.swift.request("POST", name, headers=request)
            after = container_view(account, name, self.swift.head(name) or {})
        return {"changed": True, "container": after, "diff": {"before": before or {}, "after": after}}

    def _policy(self, wanted: str | None) -> str | None:
        """The policy's name as the cluster spells it (``wanted`` may be an alias), from GET /info."""
        if wanted is None:
            return None
        if not isinstance(wanted, str) or not wanted.strip():
            raise ObjectStoreError("storage_policy must be a policy name such as gold, or left out for the default.")
        policies = self.swift.policies()
        if policies is None:  # /info disabled: Swift itself checks the name on PUT
            return wanted
        for item in policies:
            names = [item.get("name", "")] + [a.strip() for a in str(item.get("aliases") or "").split(",")]
            if wanted.lower() in (n.lower() for n in names if n):
                return item["name"]
        known = ", ".join(item.get("name", "?") for item in policies)
        raise ObjectStoreError(f"storage_policy: the cluster has no policy {wanted!r}; its policies are {known}.")

    def _delete(self, name: str, with_objects: bool) -> None:
        # Listings are eventually consistent: a just-deleted object may still be listed and a
        # just-emptied container may still answer 409 for a moment.
        for _attempt in range(10):
            if with_objects:
                for entry in self.swift.listing(name):
                    self.swift.request("DELETE", name, entry["name"], ok=(204, 404))
            resp = self.swift.request("DELETE", name, ok=(204, 404, 409))
            if resp.status_code in (204, 404):
                return
            time.sleep(0.5)
        raise ObjectStoreError(f"Container {name} could not be deleted: it still lists objects (HTTP 409).")


class ContainerInfo(Resource):
    read_only = True

    def run(self) -> dict:
        account = account_of(self.swift)
        name = self.params.get("name")
        if name:
            headers = self.swift.head(check_container_name("name", name))
            containers = [container_view(account, name, headers)] if headers is not None else []
        else:
            containers = [
                {"name": c["name"], "count": c.get("count", 0), "bytes": c.get("bytes", 0)}
                for c in self.swift.listing(None, prefix=self.params.get("prefix"))
            ]
        return {"changed": False, "containers": containers}
