"""The catalog, the scheduler and the ring are the bottom layers: they import no service
(compute, block, objectstore, backup ...), no driver and no workflow. Services may import
them and each other; never the other way round (docs/architecture.md)."""

from __future__ import annotations

import ast
import pathlib

import pytest

LIBRARY = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "plugin_utils"
BOTTOM = ("catalog", "scheduler", "ring")
ALLOWED = (*BOTTOM, "errors", "testpoints")  # the one error root; the fault tests' stop points (os, time)
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
