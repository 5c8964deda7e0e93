"""The catalog, the scheduler and the ring are the bottom layers: they import no service
(compute, block, objectstore, backup ...), no driver and no workflow. Services may import
them and each other; never the other way round (docs/architecture.md).

catalog/ keeps tables, migrations, claims, quotas and lookups: no workflow. Key generation,
file writes and host commands belong to the service that owns the resource (keypairs:
compute/keypairs.py); only the engine creates the catalog's own database file."""

from __future__ import annotations

import ast
import pathlib

import pytest

LIBRARY = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "plugin_utils"
BOTTOM = ("catalog", "scheduler", "ring")
ALLOWED = (*BOTTOM, "errors", "testpoints", "processes")  # the one error root; the fault tests' stop points; /proc facts
PREFIX = "ansible_collections.ministack.cloud.plugins.plugin_utils"
DRIVER_LIBRARIES = ("libvirt", "libvirt_qemu", "libvirt_lxc", "openstack", "swiftclient")


def _imports(path: pathlib.Path):
    """(line, dotted module inside plugin_utils or a top-level module) for every import."""
    package = path.relative_to(LIBRARY).parent.parts
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                if name.startswith(PREFIX + "."):
                    yield node.lineno, tuple(name[len(PREFIX) + 1:].split("."))
                else:
                    yield node.lineno, ("<top>", name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                if node.level - 1 > len(package):
                    continue
                target = (*base, *(node.module.split(".") if node.module else ()))
                if not node.module:  # from .. import x: x may be a module
                    for alias in node.names:
                        yield node.lineno, (*target, alias.name)
                else:
                    yield node.lineno, target
            elif node.module and node.module.startswith(PREFIX + "."):
                yield node.lineno, tuple(node.module[len(PREFIX) + 1:].split("."))
            elif node.module:
                yield node.lineno, ("<top>", node.module.split(".")[0])


def _files():
    return sorted(p for layer in BOTTOM for p in (LIBRARY / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_bottom_layers_import_no_service_and_no_driver(path):
    wrong = []
    for line, target in _imports(path):
        if target[0] == "<top>":
            if target[1] in DRIVER_LIBRARIES:
                wrong.append(f"line {line}: imports the driver library {target[1]}")
        elif target and target[0] not in ALLOWED:
            wrong.append(f"line {line}: imports plugin_utils.{'.'.join(target)}")
    assert not wrong, f"{path.relative_to(LIBRARY)} " + "; ".join(wrong)


WORKFLOW_LIBRARIES = ("cryptography", "subprocess", "shutil", "paramiko")
FILE_CALLS = {("os", "open"), ("os", "fdopen"), ("os", "unlink"), ("os", "remove"), ("os", "chmod")}
CATALOG_STORAGE = "engine.py"  # opens (creates) the catalog's own SQLite file


def _writes(call: ast.Call) -> bool:
    """open() with a mode that writes (reading /proc, as catalog/tasks.py does, is no workflow)."""
    modes = [kw.value for kw in call.keywords if kw.arg == "mode"] + call.args[1:2]
    return any(not isinstance(m, ast.Constant) or set(str(m.value)) & set("wax+") for m in modes)


def _workflow_in(path: pathlib.Path) -> list[str]:
    wrong = []
    for line, target in _imports(path):
        if target[0] == "<top>" and target[1] in WORKFLOW_LIBRARIES:
            wrong.append(f"line {line}: imports {target[1]}")
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                called = (None, func.id)
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                called = (func.value.id, func.attr)
            else:
                continue
            if called in FILE_CALLS or (called == (None, "open") and _writes(node)):
                wrong.append(f"line {node.lineno}: calls {'.'.join(c for c in called if c)}()")
    return wrong


@pytest.mark.parametrize("path", sorted((LIBRARY / "catalog").rglob("*.py")), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_catalog_holds_no_workflow(path):
    if path.name == CATALOG_STORAGE and path.parent.name == "catalog":
        return
    wrong = _workflow_in(path)
    assert not wrong, f"{path.relative_to(LIBRARY)}: a workflow step in the catalog: " + "; ".join(wrong)


def test_the_workflow_check_sees_key_generation_and_file_writes():
    """The check itself can fail: the keypair resource (key generation, a 0600 file) is caught."""
    found = _workflow_in(LIBRARY / "compute" / "keypairs.py")
    assert any("cryptography" in w for w in found) and any("os.open()" in w for w in found), found


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The test itself can fail: a catalog file importing the compute driver is caught."""
    bad = LIBRARY / "catalog" / "resources" / "compute_services.py"
    source = bad.read_text() + "\nfrom ...compute.driver import LibvirtHost\n"
    fake = tmp_path / "catalog" / "resources"
    fake.mkdir(parents=True)
    (fake / "x.py").write_text(source)
    monkeypatch.setitem(globals(), "LIBRARY", tmp_path)
    found = [t for _line, t in _imports(fake / "x.py") if t[0] not in BOTTOM and t[0] != "<top>"]
    assert ("compute", "driver") in found


def test_every_library_error_has_the_one_root():
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import BlockError
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.errors import CatalogError
    from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import ComputeError
    from ansible_collections.ministack.cloud.plugins.plugin_utils.errors import MinistackError
    from ansible_collections.ministack.cloud.plugins.plugin_utils.objectstore.client import ObjectStoreError
    from ansible_collections.ministack.cloud.plugins.plugin_utils.ring.errors import RingError
    from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.errors import SchedulerError

    for error in (BlockError, CatalogError, ComputeError, ObjectStoreError, RingError, SchedulerError):
        assert issubclass(error, MinistackError), error


def test_no_import_circle_between_compute_networks_and_servers():
    imported = {t for _line, t in _imports(LIBRARY / "compute" / "networks.py")}
    assert ("compute", "servers") not in imported
