"""Fixtures for the ring tests: device topologies and upstream Swift in its own venv."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
SWIFT_VENV = ROOT / ".cache" / "venv-swift"
SETUP = ROOT / "benchmarks" / "ring" / "setup-swift-venv.sh"
HELPER = pathlib.Path(__file__).with_name("swift_helper.py")


def topology(regions=1, zones=3, servers=2, disks=2, weight=100.0, port=6200):
    devs = []
    for r in range(1, regions + 1):
        for z in range(1, zones + 1):
            for s in range(1, servers + 1):
                for d in range(disks):
                    devs.append({"region": r, "zone": z, "ip": f"10.{r}.{z}.{s}", "port": port,
                                 "device": f"sd{chr(98 + d)}", "weight": weight})
    return devs


@pytest.fixture(scope="session")
def swift_python():
    """Python of a venv holding upstream swift==2.38.3 (made on first use, about 10 s)."""
    python = SWIFT_VENV / "bin" / "python"
    try:
        subprocess.run(["bash", str(SETUP)], check=True, capture_output=True, text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        pytest.skip(f"cannot create the upstream Swift venv with {SETUP.name} (no PyPI access?): "
                    f"{detail.strip().splitlines()[-1] if detail.strip() else exc}")
    return str(python)


@pytest.fixture(scope="session")
def swift(swift_python):
    """Call tests/unit/ring/swift_helper.py in the Swift venv: swift(op=..., ...) -> dict."""

    def call(**request):
        proc = subprocess.run([swift_python, str(HELPER)], input=json.dumps(request), capture_output=True,
                              text=True, timeout=600, check=False)
        if proc.returncode:
            raise AssertionError(f"swift helper failed: {proc.stderr}")
        return json.loads(proc.stdout)

    return call
