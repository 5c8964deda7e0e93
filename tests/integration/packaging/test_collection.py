"""The collection as a user gets it: the built tarball, installed offline, used from elsewhere.

- ``ansible-galaxy collection build`` of a tree that holds what a walkthrough and the tests
  leave behind (the secret key, the Swift hash, the demo password, the catalog, the image
  cache, a keypair's private key, .venv, .cache, .ruff_cache, lab state, tests/output ...)
  packs none of it; nor does a build of this very working tree.
- ``ansible-galaxy collection install --offline`` of that tarball, with the vendored
  ansible.posix and community.general on the collections path, gives a collection that a
  playbook outside this repository uses: it creates a flavor in the catalog that
  ``module_defaults`` (group ``ministack.cloud.catalog``) names, and an object store module
  takes its connection from the group ``ministack.cloud.object_store``.
- ansible-builder reads the installed collection's meta/execution-environment.yml, and
  ``ansible-builder create`` accepts an execution environment that installs it.
- One licence, GPL-3.0-or-later, everywhere.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent
VENDORED = ROOT / ".cache" / "collections"
LICENCE = "GPL-3.0-or-later"
HEADER = re.compile(r"^# GNU General Public License v3\.0\+ \(see (COPYING or )?https://www\.gnu\.org/licenses/gpl-3\.0\.txt\)$",
                    re.M)

# What a walkthrough, the tests and the tools leave in a working tree (git ignores all of it).
RUNTIME_FILES = {
    "playbooks/mykeypair.key": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    "playbooks/mykeypair.key.pub": "ssh-ed25519 AAAA test\n",
    "playbooks/.ministack/secret_key": "playbook-dir-secret\n",
    "inventories/local/.ministack/secret_key": "walkthrough-secret-key\n",
    "inventories/local/.ministack/swift_hash_path_prefix": "prefix\n",
    "inventories/local/.ministack/swift_hash_path_suffix": "suffix\n",
    "inventories/local/.ministack/demo_password": "demo-password\n",
    "inventories/local/.ministack/catalog.db": "SQLite format 3\n",
    "inventories/local/.ministack/images/cirros6.qcow2": "QFI\n",
    "inventories/lab/.ministack/secret_key": "lab-secret\n",
    "catalog.db": "SQLite format 3\n",
    "catalog.db-wal": "wal\n",
    ".venv/bin/python": "#!/bin/sh\n",
    ".cache/stamps/venv": "stamp\n",
    ".cache/collections/ansible_collections/ansible/posix/galaxy.yml": "name: posix\n",
    ".ruff_cache/0.17.6/cache": "ruff\n",
    ".pytest_cache/v/cache/lastfailed": "{}\n",
    ".hypothesis/examples/x": "x\n",
    ".ansible/tmp/x": "x\n",
    "lab/state/pkg/inventory.yml": "all: {}\n",
    "lab/state/pkg/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    "tests/output/junit.xml": "<x/>\n",
    "plugins/modules/__pycache__/flavor.cpython-311.pyc": "pyc\n",
    "plugins/plugin_utils/catalog/engine.pyc": "pyc\n",
    "artifacts/run/stdout": "x\n",
    "roles/object_host/molecule/default/.cache/x": "x\n",
    "ministack-cloud-0.0.1.tar.gz": "old build\n",
}
# Written into every planted file: no byte of them may reach the tarball.
MARKER = "planted-by-test_collection-7f3c9e"
# No member of the tarball may look like any of these (secrets, caches, runtime state, tooling).
FORBIDDEN = re.compile(
    r"(^|/)\.|\.key(\.pub)?$|\.db($|-)|__pycache__|\.pyc$|\.tar\.gz$|id_(rsa|ed25519)"
    r"|^(lab|tests|inventories|benchmarks|images|scripts|collections|molecule|artifacts)(/|$)"
    r"|^roles/[^/]+/molecule/"
)
MUST_SHIP = ["COPYING", "README.md", "requirements.txt", "bindep.txt", "meta/runtime.yml",
             "meta/execution-environment.yml", "docs/operator-guide.md", "plugins/modules/flavor.py",
             "plugins/doc_fragments/catalog.py", "roles/kvm_host/tasks/main.yml", "playbooks/walkthrough.yml"]


def run(*argv, env=None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{argv}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def clean_env(**extra) -> dict:
    """An environment with nothing of this repository's Ansible set-up in it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MINISTACK_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_NOCOLOR="1", **extra)
    return env


def source_files(tree: pathlib.Path) -> set[str]:
    """The files git would give a clone (tracked, or new and not ignored)."""
    out = run("git", "ls-files", "-co", "--exclude-standard", cwd=tree).stdout
    return {line for line in out.splitlines() if line and (tree / line).exists()}


def build(tree: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    run(BIN / "ansible-galaxy", "collection", "build", "--output-path", out, env=clean_env(), cwd=tree)
    (tarball,) = out.glob("ministack-cloud-*.tar.gz")
    return tarball


def members(tarball: pathlib.Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(tarball) as tf:
        return {m.name: m for m in tf.getmembers()}


@pytest.fixture(scope="module")
def walked_tree(tmp_path_factory) -> pathlib.Path:
    """A copy of this checkout's source, plus every runtime file a walkthrough and the tests make."""
    tree = tmp_path_factory.mktemp("tree") / "cloud"
    tree.mkdir()
    files = sorted(source_files(ROOT))
    subprocess.run(["rsync", "-a", "--files-from=-", f"{ROOT}/", f"{tree}/"], input="\n".join(files),
                   text=True, check=True)
    for rel, text in RUNTIME_FILES.items():
        path = tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + MARKER + "\n")
    # .gitignore comes along, so git in the copy sees the same as in the checkout
    run("git", "init", "-q", cwd=tree)
    return tree


@pytest.fixture(scope="module")
def tarball(walked_tree, tmp_path_factory) -> pathlib.Path:
    return build(walked_tree, tmp_path_factory.mktemp("dist"))


def check_tarball(tarball: pathlib.Path, allowed: set[str]) -> dict[str, tarfile.TarInfo]:
    found = members(tarball)
    files = {n for n, m in found.items() if not m.isdir()}
    bad = sorted(n for n in files | set(found) if FORBIDDEN.search(n))
    assert bad == [], f"secret, cache, runtime or tooling files in {tarball.name}: {bad}"
    unknown = sorted(files - allowed - {"MANIFEST.json", "FILES.json"})
    assert unknown == [], f"files that are not part of the source: {unknown}"
    missing = [f for f in MUST_SHIP if f not in files]
    assert missing == [], f"{tarball.name} lacks {missing}"
    return found


def test_the_tarball_packs_no_secret_cache_or_runtime_file(walked_tree, tarball):
    found = check_tarball(tarball, source_files(walked_tree))
    planted = [rel for rel in RUNTIME_FILES if rel in found]
    assert planted == []
    with tarfile.open(tarball) as tf:
        manifest = json.load(tf.extractfile("MANIFEST.json"))["collection_info"]
        blobs = b"".join(tf.extractfile(m).read() for m in tf.getmembers() if m.isfile())
    assert MARKER.encode() not in blobs
    assert manifest["license"] == [LICENCE]
    assert set(manifest["dependencies"]) == {"ansible.posix", "community.general"}
    assert "example" not in manifest["repository"] and manifest["repository"].startswith("https://")


def test_a_build_of_this_checkout_packs_only_source(tmp_path):
    """Whatever this checkout holds now (after a walkthrough or not), only source files go in."""
    check_tarball(build(ROOT, tmp_path), source_files(ROOT))


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> pathlib.Path:
    """The tarball installed offline into a project outside this repository."""
    project = tmp_path_factory.mktemp("project")
    collections = project / "collections"
    env = clean_env(ANSIBLE_COLLECTIONS_PATH=f"{collections}{os.pathsep}{VENDORED}")
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", collections, tarball,
        env=env, cwd=project)
    assert (collections / "ansible_collections/ministack/cloud/MANIFEST.json").is_file()
    return project


def test_installed_offline_a_playbook_outside_the_repository_creates_a_flavor(installed):
    project = installed
    assert ROOT not in project.parents
    catalog = project / "cloud" / "catalog.db"
    catalog.parent.mkdir()
    (project / "ansible.cfg").write_text(
        "[defaults]\ncollections_path = ./collections:" + str(VENDORED) + "\n"
        "callback_result_format = yaml\n")
    (project / "flavor.yml").write_text(f"""\
- name: A flavor, with the catalog set once for the play
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ministack.cloud.catalog:
      catalog: "sqlite:///{catalog}"
      secret_key: "{{{{ my_secret_key }}}}"
    group/ministack.cloud.object_store:
      auth: {{auth_url: "http://127.0.0.1:9/auth/v1.0", username: "demo:demo", password: not-a-real-password}}
      timeout: 5
  vars:
    my_secret_key: not-a-real-key-0123456789
  tasks:
    - name: openstack flavor create --id 10 --ram 256 --vcpus 1 --disk 2 m1.tinier
      ministack.cloud.flavor: {{name: m1.tinier, id: "10", ram: 256, vcpus: 1, disk: 2}}
    - name: openstack flavor list
      ministack.cloud.flavor_info:
      register: flavors
    - name: The new flavor is in the catalog module_defaults named
      ansible.builtin.assert:
        that: "'m1.tinier' in (flavors.flavors | map(attribute='name'))"
    - name: openstack container list, against a proxy that is not there
      ministack.cloud.object_container_info:
      register: containers
      ignore_errors: true
    - name: The connection came from module_defaults (without it, auth.auth_url is missing)
      ansible.builtin.assert:
        that: containers.msg is match('Cannot connect to the object store')
""")
    env = clean_env(ANSIBLE_CONFIG=str(project / "ansible.cfg"))
    where = run(BIN / "ansible-galaxy", "collection", "list", "ministack.cloud", env=env, cwd=project).stdout
    assert str(project / "collections" / "ansible_collections") in where, where
    first = run(BIN / "ansible-playbook", "-i", "localhost,", "flavor.yml", env=env, cwd=project).stdout
    assert re.search(r"localhost\s*: ok=5\s+changed=1\s+unreachable=0\s+failed=0", first), first
    again = run(BIN / "ansible-playbook", "-i", "localhost,", "flavor.yml", env=env, cwd=project).stdout
    assert re.search(r"localhost\s*: ok=5\s+changed=0\s+unreachable=0\s+failed=0", again), again
    assert catalog.is_file()
    assert not list(project.rglob(".ministack")), "a default catalog was made instead of the given one"
    assert "not-a-real-key" not in first + again and "not-a-real-password" not in first + again


def test_ansible_builder_reads_the_collections_requirements(installed, tmp_path):
    """The execution-environment metadata, as ansible-builder's introspection reads it inside a build,
    and an execution environment definition with the collection that `ansible-builder create` accepts."""
    from ansible_builder._target_scripts import introspect

    found = introspect.process(data_dir=str(installed / "collections"))
    python = found["python"].get("ministack.cloud", [])
    system = found["system"].get("ministack.cloud", [])
    wanted = (ROOT / "requirements.txt").read_text().splitlines()
    assert python == [ln for ln in wanted if ln.strip() and not ln.startswith("#")]
    assert any(ln.startswith("libvirt-dev") for ln in system) and any(ln.startswith("qemu-utils") for ln in system)

    definition = tmp_path / "execution-environment.yml"
    definition.write_text(yaml.safe_dump(yaml.safe_load(EE_DEFINITION)))
    run(BIN / "ansible-builder", "create", "-f", definition, "-c", tmp_path / "context", env=clean_env(), cwd=tmp_path)
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert "ansible-galaxy" in containerfile and "introspect" in containerfile
    assert "ministack.cloud" in (tmp_path / "context" / "_build" / "requirements.yml").read_text()


# The definition docs/operator-guide.md shows (kept in step by test_operator_guide_shows_the_ee_definition).
EE_DEFINITION = """\
version: 3
images:
  base_image:
    name: quay.io/fedora/fedora:41
dependencies:
  python_interpreter:
    package_system: python3.12
    python_path: /usr/bin/python3.12
  ansible_core:
    package_pip: ansible-core>=2.18
  ansible_runner:
    package_pip: ansible-runner
  galaxy:
    collections:
      - name: ministack.cloud
      - name: ansible.posix
      - name: community.general
"""


def test_operator_guide_shows_the_ee_definition():
    guide = (ROOT / "docs" / "operator-guide.md").read_text()
    assert EE_DEFINITION.strip() in guide


def test_the_licence_is_one_and_the_same_everywhere():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert galaxy["license"] == [LICENCE]
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "COPYING").read_text()[:200]
    assert "Version 3, 29 June 2007" in (ROOT / "COPYING").read_text()[:200]
    for meta in sorted(ROOT.glob("roles/*/meta/main.yml")):
        assert yaml.safe_load(meta.read_text())["galaxy_info"]["license"] == LICENCE, meta
    files = source_files(ROOT)
    without = sorted(f for f in files if f.endswith(".py") and f.split("/")[0] in ("plugins", "lab", "scripts",
                                                                                   "benchmarks")
                     and not HEADER.search((ROOT / f).read_text()))
    assert without == [], f"no GPL-3.0-or-later header: {without}"
    other = re.compile(r"Apache-2\.0|Apache License|MIT License|BSD-[23]-Clause|GPL-2\.0|LGPL|"
                       r"SPDX-License-Identifier: (?!GPL-3\.0-or-later)")
    naming_another = sorted(f for f in files if f not in ("COPYING",) and not f.startswith("tests/integration/packaging/")
                            and (ROOT / f).is_file() and not (ROOT / f).is_symlink()
                            and other.search((ROOT / f).read_text(errors="replace")))
    assert naming_another == [], f"files that name another licence: {naming_another}"
    assert f"[{LICENCE}](COPYING)" in (ROOT / "README.md").read_text()


def test_every_module_is_in_its_module_defaults_group_with_its_options():
    """group/ministack.cloud.catalog sets catalog and secret_key for every catalog module, and
    group/ministack.cloud.object_store the connection of every object store module."""
    import importlib

    groups = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    # the backup modules are in both groups (they use the catalog and the object store)
    assert sorted(set(groups["catalog"] + groups["object_store"] + ["object_ring"])) == modules
    for group, options in (("catalog", {"catalog", "secret_key"}), ("object_store", {"auth", "cloud"})):
        for name in groups[group]:
            spec = importlib.import_module(f"ansible_collections.ministack.cloud.plugins.modules.{name}").ARGUMENT_SPEC
            assert options <= set(spec), f"{name} lacks {options - set(spec)}"
            if group == "catalog":
                assert spec["secret_key"].get("no_log") is True
