"""Issue 13 item 4 (runner part): a host command that runs too long is a BlockError of one line
without its arguments (a CHAP password travels in tgtadm's argv), and the time allowed for work
on a volume's bytes grows with the volume."""

from __future__ import annotations

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import backends, runner
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import BlockError


def test_timeout_is_one_line_block_error_without_secret():
    slow = runner.LocalRunner(timeout=0.3)
    with pytest.raises(BlockError) as caught:
        slow.run(["sh", "-c", "sleep 5", "password=S3CRET-chap"], secrets=["S3CRET-chap"])
    text = str(caught.value)
    assert "\n" not in text and "S3CRET" not in text and "password" not in text
    assert text.startswith("Command sh did not finish within 0.3 s")


class Recording(runner.LocalRunner):
    """The real local runner, remembering the time limit each command got."""

    def __init__(self):
        super().__init__()
        self.limits = []

    def _execute(self, argv, input_text, timeout=None):
        self.limits.append((argv[0], timeout))
        return super()._execute(argv, input_text, timeout)


def test_time_allowed_grows_with_the_volume(tmp_path):
    rec = Recording()
    backend = backends.FileBackend(rec, str(tmp_path / "vols"))
    backend.setup()
    backend.create("volume-big", 8)  # sparse: nothing is written
    backend.snapshot("volume-big", "snapshot-big", 8)
    limits = dict(rec.limits)
    assert limits["cp"] == 600 + 8 * 1024**3 // (16 * 1024**2)
    assert limits["truncate"] == rec.timeout
    assert backends.work_timeout(1024**4) == 600 + 65536  # a 1 TiB thick LV can be zeroed
