# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack config drive: an ISO9660 filesystem labelled ``config-2``.

Same layout as nova/api/metadata/base.py and nova/virt/configdrive.py write, so that
cloud-init's ConfigDrive datasource (and the project's test image) read it:

    openstack/<version>/meta_data.json, user_data, network_data.json, vendor_data.json,
    vendor_data2.json for version in latest and the dated versions below;
    ec2/<version>/meta-data.json and user-data for the EC2 flavour.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
from typing import Optional

from . import BuildError

OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
                      "2016-10-06", "2017-02-22", "2018-08-27", "latest")
EC2_VERSIONS = ("2009-04-04", "latest")
LABEL = "config-2"


def hostname_for(display_name: str) -> str:
    """Nova's sanitize_hostname: lower-case, [a-z0-9-.] only, at most 63 characters."""
    name = display_name.lower()
    name = re.sub(r"[ _]", "-", name)
    name = re.sub(r"[^\w.-]+", "", name, flags=re.ASCII)
    name = name.strip(".-")[:63]
    return name or "server"


def meta_data(*, uuid: str, name: str, hostname: Optional[str] = None, availability_zone: str = "nova",
              project_id: str = "", public_keys: Optional[dict] = None, meta: Optional[dict] = None,
              launch_index: int = 0) -> dict:
    keys = public_keys or {}
    return {
        "uuid": uuid,
        "name": name,
        "hostname": hostname or hostname_for(name),
        "launch_index": launch_index,
        "availability_zone": availability_zone,
        "project_id": project_id,
        "meta": {str(k): str(v) for k, v in (meta or {}).items()},
        "public_keys": dict(keys),
        "keys": [{"name": k, "type": "ssh", "data": v} for k, v in keys.items()],
        "random_seed": base64.b64encode(os.urandom(512)).decode(),
        "devices": [],
        "dedicated_cpus": [],
    }


def network_data(ports: list) -> dict:
    """network_data.json from ports: [{id, mac, network_id, mtu, ip, cidr, gateway, dhcp, dns}]."""
    links, networks, services = [], [], []
    for index, port in enumerate(ports):
        link_id = "tap" + port["id"][:11]
        links.append({"id": link_id, "vif_id": port["id"], "type": "bridge",
                      "mtu": port.get("mtu") or 1500, "ethernet_mac_address": port["mac"]})
        entry = {"id": f"network{index}", "link": link_id, "network_id": port.get("network_id", "")}
        if port.get("dhcp", True) or not port.get("ip"):
            entry["type"] = "ipv4_dhcp"
        else:
            net = ipaddress.ip_network(port["cidr"], strict=False)
            entry.update(type="ipv4", ip_address=port["ip"], netmask=str(net.netmask), routes=[])
            if port.get("gateway"):
                entry["routes"].append({"network": "0.0.0.0", "netmask": "0.0.0.0",
                                        "gateway": port["gateway"]})
        networks.append(entry)
        for dns in port.get("dns") or []:
            services.append({"type": "dns", "address": dns})
    return {"links": links, "networks": networks, "services": services}


def write_tree(root: str, md: dict, user_data: Optional[str] = None, net_data: Optional[dict] = None) -> None:
    """The config drive's files under ``root``."""
    for version in OPENSTACK_VERSIONS:
        vdir = os.path.join(root, "openstack", version)
        os.makedirs(vdir, exist_ok=True)
        with open(os.path.join(vdir, "meta_data.json"), "w") as fh:
            json.dump(md, fh)
        if user_data is not None:
            with open(os.path.join(vdir, "user_data"), "w") as fh:
                fh.write(user_data)
        # network_data.json appeared in 2015-10-15; vendor_data2.json in 2016-10-06.
        if version >= "2015-10-15" and net_data is not None:
            with open(os.path.join(vdir, "network_data.json"), "w") as fh:
                json.dump(net_data, fh)
        if version >= "2013-10-17":
            with open(os.path.join(vdir, "vendor_data.json"), "w") as fh:
                fh.write("{}")
        if version >= "2016-10-06":
            with open(os.path.join(vdir, "vendor_data2.json"), "w") as fh:
                fh.write("{}")
    ec2_md = {"instance-id": md["uuid"], "hostname": md["hostname"], "local-hostname": md["hostname"],
              "placement": {"availability-zone": md["availability_zone"]},
              "public-keys": {str(i): {"openssh-key": v} for i, v in enumerate(md["public_keys"].values())}}
    for version in EC2_VERSIONS:
        edir = os.path.join(root, "ec2", version)
        os.makedirs(edir, exist_ok=True)
        with open(os.path.join(edir, "meta-data.json"), "w") as fh:
            json.dump(ec2_md, fh)
        if user_data is not None:
            with open(os.path.join(edir, "user-data"), "w") as fh:
                fh.write(user_data)


def iso_tool() -> list:
    for tool in ("genisoimage", "mkisofs"):
        path = shutil.which(tool)
        if path:
            return [path]
    path = shutil.which("xorriso")
    if path:
        return [path, "-as", "mkisofs"]
    raise BuildError("No ISO9660 tool on the controller to build the config drive: "
                     "install genisoimage (or xorriso)")


def make_iso(root: str, dest: str) -> None:
    # nova/virt/configdrive.py's options: Rock Ridge + Joliet, lower-case multi-dot names.
    cmd = [*iso_tool(), "-o", dest, "-ldots", "-allow-lowercase", "-allow-multidot", "-l", "-publisher", "ministack", "-quiet", "-J", "-r", "-V", LABEL, root]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"Building the config drive failed: {proc.stderr.strip()}")


def build(dest: str, md: dict, user_data: Optional[str] = None, net_data: Optional[dict] = None) -> str:
    """Write the config drive ISO to ``dest`` and return it."""
    with tempfile.TemporaryDirectory(prefix="configdrive-") as tmp:
        write_tree(tmp, md, user_data, net_data)
        make_iso(tmp, dest)
    return dest
