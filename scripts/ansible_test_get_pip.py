# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for ansible-test's pip bootstrap script (get-pip.py).

`ansible-test sanity --venv` downloads get-pip.py from ci-files.testing.ansible.com, which
our machines cannot reach (PyPI they can). This does what that script does for ansible-test:
put pip into the fresh virtualenv (from the interpreter's bundled ensurepip wheel), then
`pip install` the arguments it was given. get-pip's own flags are dropped.
"""

from __future__ import annotations

import ensurepip
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}

if __name__ == "__main__":
    ensurepip.bootstrap(upgrade=True)
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", *args])
