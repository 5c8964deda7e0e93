"""TEST helper: the block_host role's sudo rules (roles/block_host/templates/sudoers.j2),
rendered with Ansible's own templating, parsed, and matched the way sudo matches them.

sudo (1.9.10+) matches a rule ``user ALL=(root) NOPASSWD: /full/path ^regex$`` when the command
it resolved is that path and the arguments, joined with single spaces, match the POSIX extended
regular expression. The rules use only constructs whose meaning is the same in Python's ``re``
(classes, groups, alternation, ``?``, ``+``, escaped literals)."""

from __future__ import annotations

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "block_host"
TEMPLATE = ROLE / "templates" / "sudoers.j2"
RULE = re.compile(r"^(?P<user>\S+) ALL=\(root\) NOPASSWD: (?P<path>/\S+) (?P<args>\^.*\$)$")
DIRS = ("/usr/sbin", "/usr/bin")


def command_names():
    """The command names the role looks up on the host (controller_user.yml), in its order."""
    tasks = yaml.safe_load((ROLE / "tasks" / "controller_user.yml").read_text())
    task = next(t for t in tasks if "command" in str(t.get("ansible.builtin.command", "")) or
                t.get("register") == "block_host_sudo_which")
    argv = task["ansible.builtin.command"]["argv"]
    return argv[4:]  # sh -c <script> sh <names...>


def paths(names=None):
    """Debian's paths for the names (LVM and tgt in /usr/sbin, the rest in /usr/bin)."""
    sbin = {"dmsetup", "lvchange", "lvcreate", "lvextend", "lvremove", "lvs", "vgs", "tgtadm", "tgt-admin"}
    return {n: f"{DIRS[0] if n in sbin else DIRS[1]}/{n}" for n in (names or command_names())}


def render(user="ministack", backend="lvm", helper="tgtadm", volume_group="cinder-volumes",
           file_directory="/var/lib/ministack/volumes", conf_dir="/etc/tgt/conf.d", backup=True, sudo_paths=None):
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    variables = {
        "block_host_controller_user": user, "block_host_sudo_paths": sudo_paths or paths(),
        "block_host_backend": backend, "block_host_volume_group": volume_group,
        "block_host_file_directory": file_directory, "block_host_target_helper": helper,
        "block_host_tgt_conf_dir": conf_dir, "block_host_sudo_backup": backup,
    }
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(TEMPLATE.read_text()))


def rules(text):
    """[(path, compiled args regex)] of the rendered file; every non-comment, non-Defaults line is a rule."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", "Defaults")):
            continue
        m = RULE.match(line)
        assert m, f"not a rule this helper understands: {line!r}"
        out.append((m["path"], re.compile(m["args"])))
    return out


def allowed(parsed, argv, sudo_paths=None):
    """Whether sudo would run ``argv`` (as the runner passes it after ``sudo -n``)."""
    sudo_paths = sudo_paths or paths()
    path = sudo_paths.get(argv[0], argv[0] if argv[0].startswith("/") else None)
    joined = " ".join(argv[1:])
    return any(p == path and rx.search(joined) for p, rx in parsed)
