# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy a few collections out of the `ansible` wheel into a collections path.

Galaxy is not reachable from our machines, but PyPI is, and the `ansible` package
ships every community collection. Installing all of it costs about 550 MB; this keeps
only the collections listed in scripts/vendored-collections.txt.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile


def main(listing: str, dest: str) -> None:
    lines = [ln.strip() for ln in pathlib.Path(listing).read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    wheel_spec, collections = lines[0], lines[1:]
    dest_root = pathlib.Path(dest) / "ansible_collections"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
             "-d", tmp, wheel_spec],
            check=True,
        )
        wheel = next(pathlib.Path(tmp).glob("ansible-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            for fqcn in collections:
                namespace, name = fqcn.split(".")
                prefix = f"ansible_collections/{namespace}/{name}/"
                target = dest_root / namespace / name
                shutil.rmtree(target, ignore_errors=True)
                members = [m for m in zf.namelist() if m.startswith(prefix)]
                if not members:
                    sys.exit(f"{fqcn} is not in {wheel.name}")
                for member in members:
                    zf.extract(member, dest)
                print(f"vendored {fqcn} ({len(members)} files)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
