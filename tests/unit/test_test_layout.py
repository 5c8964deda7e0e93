"""pytest's default (rootdir) import mode imports a test file outside a package under its bare
basename, so two such files with one basename stop the whole collection ("import file
mismatch"). This happened on CI with tests/unit/block/test_sudo_rules.py and
tests/integration/block/test_sudo_rules.py: this test names any such pair before CI does."""

from __future__ import annotations

import collections
import pathlib

TESTS = pathlib.Path(__file__).resolve().parents[1]


def _import_name(path: pathlib.Path) -> str:
    """The module name pytest's rootdir import mode gives a test file: dotted up through its
    packages (directories with __init__.py), bare when it sits in no package."""
    parts = [path.stem]
    directory = path.parent
    while (directory / "__init__.py").exists():
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts)


def test_every_test_module_imports_under_its_own_name():
    by_name = collections.defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        by_name[_import_name(path)].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, (
        f"test files that pytest would import under one module name: {clashes}; "
        "rename one of each pair or make its directory a package")


def test_the_check_sees_a_clash_when_there_is_one(tmp_path):
    for area in ("unit", "integration"):
        (tmp_path / area).mkdir()
        (tmp_path / area / "test_same.py").write_text("")
    names = [_import_name(p) for p in tmp_path.rglob("test_*.py")]
    assert names == ["test_same", "test_same"]
